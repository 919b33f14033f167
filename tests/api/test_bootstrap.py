"""First start: one account, one administrator, a credentials file; later starts change nothing."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import boto3
import pytest

from stiva.app import prepare
from stiva.config import load_settings


def test_first_start_writes_credentials_once(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "d", "region": "eu-north-1"})
    first = prepare(settings)
    assert first.bootstrap is not None
    assert first.credentials_file == tmp_path / "d" / "credentials"
    assert stat.S_IMODE(first.credentials_file.stat().st_mode) == 0o600
    parsed = configparser.ConfigParser()
    parsed.read(first.credentials_file)
    assert dict(parsed["default"]) == {
        "aws_access_key_id": first.bootstrap.access_key_id,
        "aws_secret_access_key": first.bootstrap.secret_access_key,
        "region": "eu-north-1",
    }
    assert first.bootstrap.account_id.isdigit()
    assert len(first.bootstrap.account_id) == 12
    assert first.bootstrap.user_arn == f"arn:aws:iam::{first.bootstrap.account_id}:user/admin"

    first.credentials_file.write_text("left alone\n")
    again = prepare(settings)
    assert again.bootstrap is None
    assert first.credentials_file.read_text() == "left alone\n"


def test_botocore_reads_the_credentials_file_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = prepare(
        load_settings(overrides={"data_dir": tmp_path, "account_id": "000011112222"})
    )
    assert prepared.credentials_file is not None
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(prepared.credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    session = boto3.session.Session()
    assert session.region_name == "us-east-1"
    credentials = session.get_credentials()
    assert credentials is not None
    assert prepared.bootstrap is not None
    assert credentials.access_key == prepared.bootstrap.access_key_id


def test_account_id_flag_is_ignored_once_bootstrapped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepare(load_settings(overrides={"data_dir": tmp_path, "account_id": "111111111111"}))
    with caplog.at_level("WARNING"):
        result = prepare(
            load_settings(overrides={"data_dir": tmp_path, "account_id": "222222222222"})
        )
    assert result.bootstrap is None
    assert "bootstrapped with account 111111111111" in caplog.text
