"""Configuration: defaults < file < environment < flags; strict keys; `stiva check-config`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from stiva.cli import main
from stiva.config import load_settings
from stiva.errors import ConfigError


@pytest.mark.sqlite_only  # the PostgreSQL pass swaps the default database URL
def test_defaults() -> None:
    settings = load_settings()
    assert settings.listen == "127.0.0.1:5000"
    assert settings.region == "us-east-1"
    assert settings.data_dir == Path("stiva-data")
    assert settings.account_id is None
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("stiva-data/stiva.db")
    assert settings.storage_url.startswith("file:///")
    assert settings.storage_url.endswith("stiva-data/storage")
    assert settings.public_url == "http://127.0.0.1:5000"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "stiva.toml"
    config.write_text('region = "eu-west-1"\nlisten = "0.0.0.0:6000"\n[server]\nworkers = 3\n')
    from_file = load_settings(config_file=config)
    assert (from_file.region, from_file.listen, from_file.server.workers) == (
        "eu-west-1",
        "0.0.0.0:6000",
        3,
    )
    env = {
        "STIVA_REGION": "ap-south-1",
        "STIVA_SERVER_WORKERS": "2",
        "STIVA_DATABASE_URL": "sqlite:///x.db",
    }
    from_env = load_settings(config_file=config, env=env)
    assert (from_env.region, from_env.server.workers, from_env.database_url) == (
        "ap-south-1",
        2,
        "sqlite:///x.db",
    )
    flags = load_settings(
        config_file=config, env=env, overrides={"region": "us-west-2", "listen": None}
    )
    assert flags.region == "us-west-2"
    assert flags.listen == "0.0.0.0:6000"  # a flag left unset does not override


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'blue'\n", "colour: unknown key"),
        ("[server]\nthreads = 4\n", "server.threads: unknown key"),
        ("region = 'Mars'\n", "region"),
        ("account_id = '12'\n", "account_id"),
        ("listen = 'nowhere'\n", "listen"),
        ("[server]\nworkers = 0\n", "server.workers"),
        ("region = \n", "not valid TOML"),
    ],
)
def test_invalid_files_are_errors(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=config)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "absent.toml")


def test_redacted_hides_database_password() -> None:
    settings = load_settings(
        overrides={"database": {"url": "postgresql+psycopg://u:hunter2-db-password@db/stiva"}}
    )
    assert "hunter2-db-password" not in str(settings.redacted())


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("postgresql://u@db:5432/stiva", "postgresql+psycopg://u@db:5432/stiva"),
        ("postgres://u:pw@db/stiva", "postgresql+psycopg://u:pw@db/stiva"),
        ("postgresql:///stiva", "postgresql+psycopg:///stiva"),  # libpq's Unix socket
        ("postgresql+psycopg://u@db/stiva", "postgresql+psycopg://u@db/stiva"),
        ("sqlite:////var/lib/stiva/stiva.db", "sqlite:////var/lib/stiva/stiva.db"),
    ],
)
def test_database_urls_name_their_driver(url: str, stored: str) -> None:
    assert load_settings(overrides={"database": {"url": url}}).database_url == stored


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@db/stiva", "'mysql' databases are not supported: use sqlite:///path or"),
        ("postgresql+psycopg2://u@db/x", "'postgresql+psycopg2' databases are not supported"),
        ("not a url", "'not a url' is not a database URL"),
    ],
)
def test_unsupported_database_urls_are_refused_up_front(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env={"STIVA_DATABASE_URL": url})


def test_serve_says_why_the_database_cannot_be_used(tmp_path: Path) -> None:
    """An unreachable server is a one-line error without the password, not a traceback."""
    url = "postgresql://stiva:hunter2@127.0.0.1:9/stiva"  # nothing listens on the discard port
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path)], env={"STIVA_DATABASE_URL": url}
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: cannot use the database at postgresql+psycopg://***@127.0.0.1:9/stiva: "
    )
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_serve_says_why_the_storage_directory_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    url = (tmp_path / "file" / "storage").as_uri()
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path / "data")], env={"STIVA_STORAGE_URL": url}
    )
    assert result.exit_code == 1
    assert f"storage.url {url}: cannot create the directory" in result.output


def test_check_config_command(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('region = "eu-central-1"\nregistry_domain = "registry.example.com"\n')
    result = CliRunner().invoke(main, ["check-config", str(good)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert "eu-central-1" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\nbucket = 'x'\n")
    result = CliRunner().invoke(main, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert "storage.bucket: unknown key" in result.output


def test_serve_rejects_bad_flags_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--account-id", "abc"])
    assert result.exit_code != 0
    assert "12-digit account id" in result.output
    assert not (tmp_path / "stiva.db").exists()


@pytest.mark.parametrize(
    ("listen", "url"),
    [
        ("0.0.0.0:5000", "http://localhost:5000"),
        ("[::1]:5001", "http://[::1]:5001"),
        ("[::]:80", "http://localhost:80"),
    ],
)
def test_public_url_never_names_a_wildcard_address(listen: str, url: str) -> None:
    assert load_settings(overrides={"listen": listen}).public_url == url


def test_registry_domain_from_env_and_validated() -> None:
    assert (
        load_settings(env={"STIVA_REGISTRY_DOMAIN": "Reg.Example.com"}).registry_domain
        == "reg.example.com"
    )
    with pytest.raises(ConfigError, match="registry_domain"):
        load_settings(overrides={"registry_domain": "not a domain"})


def test_redacted_hides_the_secret_key() -> None:
    key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    settings = load_settings(env={"STIVA_AUTH_SECRET_KEY": key})
    assert settings.auth.secret_key == key
    assert key not in str(settings.redacted())
