"""The `stiva` command: serve, check-config, ecr-coverage and admin here; lifecycle, gc/fsck and
vulndb/sbom in their own modules, registered on `main` below."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from stiva.cli import database, lifecycle, maintenance, scanning
from stiva.cli.options import data_options, load
from stiva.config import Settings, load_settings
from stiva.errors import ConfigError

log = logging.getLogger("stiva")


@click.group()
@click.version_option(package_name="stiva")
def main() -> None:
    """Stiva: a self-hosted container registry with Amazon ECR's semantics."""


@main.command()
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    envvar="STIVA_CONFIG",
    help="TOML configuration file.",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Data directory [STIVA_DATA_DIR]."
)
@click.option("--listen", help="HOST:PORT to listen on [STIVA_LISTEN].")
@click.option("--region", help="This deployment's region [STIVA_REGION].")
@click.option("--account-id", help="The bootstrap account's 12-digit id [STIVA_ACCOUNT_ID].")
def serve(
    config: Path | None,
    data_dir: Path | None,
    listen: str | None,
    region: str | None,
    account_id: str | None,
) -> None:
    """Start the registry (bootstrapping an account on first start)."""
    import uvicorn

    from stiva.app import SETTINGS_ENV, create_app, prepare

    settings = load(
        config,
        {"data_dir": data_dir, "listen": listen, "region": region, "account_id": account_id},
    )
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        prepared = prepare(settings)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    if prepared.bootstrap is not None and prepared.credentials_file is not None:
        click.echo(_welcome(settings, prepared.bootstrap.account_id, prepared.credentials_file))
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.server.log_level,
        "access_log": settings.server.access_log,
        "timeout_graceful_shutdown": settings.server.shutdown_grace_seconds,
    }
    if settings.server.workers > 1:
        os.environ[SETTINGS_ENV] = settings.model_dump_json()
        uvicorn.run(
            "stiva.app:app_from_environment",
            factory=True,
            workers=settings.server.workers,
            **options,
        )
    else:
        uvicorn.run(create_app(settings), **options)


def _welcome(settings: Settings, account_id: str, credentials: Path) -> str:
    url = settings.public_url
    host = url.split("://", 1)[-1]
    path = credentials.resolve()
    tls = " --tls-verify=false" if url.startswith("http://") else ""
    return f"""
Stiva bootstrapped account {account_id} in region {settings.region}.
Its administrator's access key is in {path} (profile "default"); it is shown only now.

Next steps:
  export AWS_SHARED_CREDENTIALS_FILE={path}
  aws --endpoint-url {url} ecr create-repository --repository-name demo
  aws --endpoint-url {url} ecr get-login-password | skopeo login{tls} -u AWS --password-stdin {host}
  skopeo copy{" --dest-tls-verify=false" if tls else ""} docker-archive:image.tar docker://{host}/demo:latest
"""


@main.command("check-config")
@click.argument("file", type=click.Path(path_type=Path))
def check_config(file: Path) -> None:
    """Validate a configuration file without starting anything."""
    try:
        settings = load_settings(config_file=file)
    except ConfigError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"{file}: valid")
    click.echo(json.dumps(settings.redacted(), indent=2))


@main.command("ecr-coverage")
def ecr_coverage() -> None:
    """Print which ECR operations Stiva serves (the source of docs/ecr-coverage.md)."""
    from stiva.api.ecr.coverage import coverage_markdown
    from stiva.api.ecr.model import EcrModel

    click.echo(coverage_markdown(EcrModel.load()), nl=False)


@main.group()
def admin() -> None:
    """Administer accounts (works while the server runs)."""


@admin.command("create-account")
@data_options
@click.option("--account-id", help="The new account's 12-digit id (generated when absent).")
def create_account(config: Path | None, data_dir: Path | None, account_id: str | None) -> None:
    """Create an account; print its root credential as JSON (shown once)."""
    from stiva.admin import create_account as create

    settings = load(config, {"data_dir": data_dir})
    try:
        result = create(settings, account_id=account_id)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps(result))


@admin.command("list-accounts")
@data_options
def list_accounts(config: Path | None, data_dir: Path | None) -> None:
    """Print the accounts as JSON."""
    from stiva.admin import list_accounts as listing

    settings = load(config, {"data_dir": data_dir})
    try:
        click.echo(json.dumps(listing(settings), indent=2))
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None


main.add_command(database.migrate_command)
main.add_command(lifecycle.lifecycle)
main.add_command(maintenance.gc_command)
main.add_command(maintenance.fsck_command)
main.add_command(scanning.vulndb)
main.add_command(scanning.sbom_command)
