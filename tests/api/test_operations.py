"""Operations: `stiva migrate`, refusing newer schemas, readiness, nodes sharing one database."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from stiva.api import health
from stiva.app import build_context, prepare
from stiva.cli import main
from stiva.config import Settings, load_settings
from stiva.metadata.migrate import head_revision
from stiva.storage.base import Storage
from stiva.storage.driver import StorageError
from stiva.storage.filesystem import FilesystemDriver
from tests.support.databases import connect, empty_database_url
from tests.support.registry import InProcessRegistry


def _stamp(data_dir: Path, revision: str) -> None:
    with connect(data_dir) as db:
        db.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_migrate_upgrades_once_then_reports_current(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = CliRunner().invoke(main, ["migrate", "--data-dir", data])
    assert first.exit_code == 0, first.output
    assert head_revision() in first.output
    again = CliRunner().invoke(main, ["migrate", "--data-dir", data])
    assert again.exit_code == 0, again.output
    assert "already" in again.output


def test_migrate_and_serve_refuse_a_newer_schema(registry: InProcessRegistry) -> None:
    data_dir = registry.settings.data_dir
    _stamp(data_dir, "ffff_future")
    try:
        for command in (["migrate"], ["serve", "--listen", "127.0.0.1:1"]):
            result = CliRunner().invoke(main, [*command, "--data-dir", str(data_dir)])
            assert result.exit_code != 0, result.output
            assert "newer release" in result.output
    finally:
        _stamp(data_dir, head_revision())


def test_readyz_reports_a_schema_mismatch_and_healthz_stays_up(
    registry: InProcessRegistry,
) -> None:
    assert registry.client.get("/readyz").json() == {"status": "ready"}
    _stamp(registry.settings.data_dir, "0001")
    try:
        response = registry.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert "revision 0001" in response.json()["reasons"][0]
        assert registry.client.get("/healthz").status_code == 200
    finally:
        _stamp(registry.settings.data_dir, head_revision())
    assert registry.client.get("/readyz").status_code == 200


def test_a_node_of_the_previous_release_stays_ready_after_a_newer_migration(
    registry: InProcessRegistry,
) -> None:
    """A rolling upgrade runs `stiva migrate` first: the old nodes keep serving (and stay in
    the load balancer) until they are replaced, rather than all going out at once."""
    _stamp(registry.settings.data_dir, "ffff_from_a_newer_release")
    try:
        response = registry.client.get("/readyz")
        assert response.status_code == 200, response.text
    finally:
        _stamp(registry.settings.data_dir, head_revision())


class _Unreachable(FilesystemDriver):
    def check(self) -> None:
        raise StorageError("connection refused")


class _Hung(FilesystemDriver):
    """A store whose check hangs (a dead NFS mount) until `release` is set."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.release = threading.Event()
        self.calls = 0

    def check(self) -> None:
        self.calls += 1
        self.release.wait(timeout=60)


def _readyz_on(registry: InProcessRegistry, driver: FilesystemDriver) -> list[tuple[int, Any]]:
    """GET /readyz three times with the blob store replaced by `driver`."""
    app = registry.client.app
    ctx = app.state.ctx  # type: ignore[attr-defined]
    app.state.ctx = replace(ctx, storage=Storage(driver))  # type: ignore[attr-defined]
    try:
        responses = [registry.client.get("/readyz") for _ in range(3)]
    finally:
        app.state.ctx = ctx  # type: ignore[attr-defined]
    return [(r.status_code, r.json()) for r in responses]


def test_readyz_reports_unreachable_storage(registry: InProcessRegistry, tmp_path: Path) -> None:
    status, body = _readyz_on(registry, _Unreachable(tmp_path))[0]
    assert status == 503
    assert body["reasons"] == ["storage unreachable: StorageError"]


def test_readyz_fails_when_the_storage_root_vanished(
    registry: InProcessRegistry, tmp_path: Path
) -> None:
    """A stat of a file that is not there also answers "not found" under a missing mount."""
    status, body = _readyz_on(registry, FilesystemDriver(tmp_path / "unmounted"))[0]
    assert status == 503
    assert body["reasons"] == ["storage unreachable: StorageError"]
    (tmp_path / "unmounted").mkdir()
    assert _readyz_on(registry, FilesystemDriver(tmp_path / "unmounted"))[0][0] == 200


def test_a_hung_readiness_check_holds_one_thread_however_often_probed(
    registry: InProcessRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "READY_TIMEOUT", 0.2)
    hung = _Hung(tmp_path)
    try:
        answers = _readyz_on(registry, hung)
        assert (
            answers
            == [
                (
                    503,
                    {
                        "status": "unavailable",
                        "reasons": ["readiness checks did not answer within 0.2 s"],
                    },
                )
            ]
            * 3
        )
        assert hung.calls == 1
        assert sum(t.name == "readyz" for t in threading.enumerate()) == 1
    finally:
        hung.release.set()
    for _ in range(50):  # the check in progress ends: the next probe starts a new one
        if _readyz_on(registry, hung)[-1][0] == 200:
            break
    assert _readyz_on(registry, hung)[-1][0] == 200


def _node(tmp_path: Path, name: str, database_url: str, key: str) -> Settings:
    return load_settings(
        overrides={
            "data_dir": tmp_path / name,
            "database": {"url": database_url},
            "storage": {"url": (tmp_path / "storage").as_uri()},
            "auth": {"secret_key": key},
        }
    )


def test_nodes_starting_together_migrate_and_bootstrap_once(tmp_path: Path) -> None:
    url = empty_database_url(tmp_path)
    key = base64.b64encode(os.urandom(32)).decode()
    migrations = [
        subprocess.Popen(
            [sys.executable, "-m", "stiva", "migrate", "--data-dir", str(tmp_path / f"m{i}")],
            env={**os.environ, "STIVA_DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for i in range(3)
    ]  # processes: Alembic's command context is global to a process
    outputs = [process.communicate(timeout=120)[0].decode() for process in migrations]
    assert [process.returncode for process in migrations] == [0, 0, 0], outputs
    assert sum("migrated the database from revision (empty)" in out for out in outputs) == 1
    nodes = [_node(tmp_path, f"node{i}", url, key) for i in range(3)]
    results: dict[int, object] = {}

    def start(i: int) -> None:
        try:
            results[i] = prepare(nodes[i]).bootstrap
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(nodes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [r for r in results.values() if isinstance(r, Exception)], results
    assert sum(r is not None for r in results.values()) == 1  # exactly one bootstrapped
    contexts = [build_context(settings) for settings in nodes]
    try:
        assert len({(c.keys.token, c.keys.pagination, c.keys.download) for c in contexts}) == 1
        assert len({c.deployment.default_account_id for c in contexts}) == 1
    finally:
        for context in contexts:
            context.db.dispose()
    assert not any((tmp_path / f"node{i}" / "secret.key").exists() for i in range(3))


def test_pool_options_size_the_postgresql_pool(tmp_path: Path) -> None:
    from sqlalchemy.pool import QueuePool

    from stiva.app import open_database

    settings = load_settings(
        env={"STIVA_DATABASE_URL": "postgresql+psycopg://u@db.invalid/stiva"},
        overrides={"data_dir": tmp_path, "database": {"pool_size": 3, "max_overflow": 1}},
    )
    db = open_database(settings)  # engines connect lazily: no server needed
    try:
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow, pool._recycle) == (3, 1, 1800)
    finally:
        db.dispose()
