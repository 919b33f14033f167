"""Accounts: root principals, sealed secrets, `stiva admin`, key last use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from stiva.app import prepare
from stiva.cli import main
from stiva.config import load_settings
from stiva.metadata import models as m
from stiva.services.identity import ADMIN_POLICY_ARN
from tests.support.databases import connect
from tests.support.registry import InProcessRegistry


def test_no_secret_is_stored_in_clear(registry: InProcessRegistry) -> None:
    with connect(registry.settings.data_dir) as db:
        stored = list(db.execute(text("SELECT secret_access_key FROM access_keys")).scalars())
    assert stored
    assert all(value.startswith("sealed:v1:") for value in stored)
    database = registry.settings.data_dir / "stiva.db"
    if database.exists():  # SQLite: not even in the file's free pages
        assert registry.secret_access_key not in database.read_bytes().decode("latin-1")
    assert registry.ecr("DescribeRepositories").status_code == 200  # and SigV4 still verifies


def test_bootstrap_admin_is_an_administrator_beside_the_root(registry: InProcessRegistry) -> None:
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        users = {u.name: (u.is_root, u.user_id) for u in session.scalars(select(m.IamUser))}
        attached = session.scalars(select(m.IamPolicyAttachment.policy_arn)).all()
    assert users["<root>"] == (True, registry.account_id)
    assert users["admin"][0] is False
    assert users["admin"][1].startswith("AIDA")
    assert attached == [ADMIN_POLICY_ARN]


def test_secrets_stored_in_clear_by_an_earlier_release_get_sealed(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path})
    first = prepare(settings)
    assert first.bootstrap is not None
    with connect(tmp_path) as db:  # what a 0.1 database looked like
        db.execute(
            text("UPDATE access_keys SET secret_access_key = :secret"),
            {"secret": first.bootstrap.secret_access_key},
        )
    prepare(settings)
    with connect(tmp_path) as db:
        stored = db.execute(text("SELECT secret_access_key FROM access_keys")).scalar_one()
    assert stored.startswith("sealed:v1:")


def test_admin_create_and_list_accounts(registry: InProcessRegistry) -> None:
    data_dir = str(registry.settings.data_dir)
    created = CliRunner().invoke(
        main, ["admin", "create-account", "--data-dir", data_dir, "--account-id", "444455556666"]
    )
    assert created.exit_code == 0, created.output
    credential = json.loads(created.output)
    assert credential["accountId"] == "444455556666"
    assert credential["accessKeyId"].startswith("AKIA")
    listed = json.loads(
        CliRunner().invoke(main, ["admin", "list-accounts", "--data-dir", data_dir]).output
    )
    assert {a["accountId"]: a["default"] for a in listed} == {
        registry.account_id: True,
        "444455556666": False,
    }
    again = CliRunner().invoke(
        main, ["admin", "create-account", "--data-dir", data_dir, "--account-id", "444455556666"]
    )
    assert again.exit_code != 0
    assert "already exists" in again.output

    # the server (already running) accepts the new root credential at once
    registry.access_key_id = credential["accessKeyId"]
    registry.secret_access_key = credential["secretAccessKey"]
    token = registry.ecr_ok("GetAuthorizationToken")["authorizationData"][0]
    assert token["authorizationToken"]
    repo = registry.create_repository("root/made")
    assert repo["registryId"] == "444455556666"


@pytest.mark.sqlite_only  # with PostgreSQL the database is configured, not found in a directory
def test_admin_refuses_a_directory_without_a_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["admin", "list-accounts", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "start `stiva serve` once" in result.output


def test_access_key_last_use_is_recorded(registry: InProcessRegistry) -> None:
    registry.ecr_ok("DescribeRepositories")
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    ctx.flush()
    with ctx.db.read() as session:
        key = session.get(m.AccessKey, registry.access_key_id)
        assert key is not None
        assert key.last_used_at is not None
        assert (key.last_used_service, key.last_used_region) == ("ecr", "us-east-1")
