"""`[replication]` configuration: peers validated, secrets redacted in `stiva check-config`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stiva.cli import main
from stiva.config import load_settings
from stiva.errors import ConfigError

PEER = """
[[replication.peers]]
region = "eu-west-1"
endpoint = "http://127.0.0.1:5002"
access_key_id = "AKIAEXAMPLEEXAMPLE00"
secret_access_key = "very-secret-value"
"""


def test_peers_and_sources_load(tmp_path: Path) -> None:
    path = tmp_path / "stiva.toml"
    path.write_text(
        PEER
        + '\n[[replication.sources]]\nregion = "eu-west-1"\n'
        + 'principal = "arn:aws:iam::210987654321:user/replicator"\n'
    )
    settings = load_settings(config_file=path)
    [peer] = settings.replication.peers
    assert (peer.region, peer.endpoint) == ("eu-west-1", "http://127.0.0.1:5002")
    assert settings.replication.sources[0].principal.endswith(":user/replicator")
    assert settings.replication.horizon_seconds == 86400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PEER.replace("eu-west-1", "us-east-1"), "this deployment's own region"),
        (PEER.replace("eu-west-1", "Europe"), "not a region name"),
        (PEER.replace("http://127.0.0.1:5002", "ftp://x"), "not an http(s)://host:port URL"),
        (PEER.replace('secret_access_key = "very-secret-value"\n', ""), "Field required"),
        (PEER + PEER, "two peers name the same region"),
        (PEER + 'colour = "blue"\n', "unknown key"),
        ("[replication]\nbackoff_seconds = 0\n", "greater than 0"),
    ],
)
def test_invalid_peers_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "stiva.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="replication") as info:
        load_settings(config_file=path)
    assert message in info.value.message


def test_check_config_redacts_peer_secrets(tmp_path: Path) -> None:
    path = tmp_path / "stiva.toml"
    path.write_text(PEER)
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "very-secret-value" not in result.output
    assert '"secret_access_key": "***"' in result.output
    assert "AKIAEXAMPLEEXAMPLE00" in result.output  # an access key id is not a secret
