"""Operations: `stiva migrate`, refusing newer schemas, readiness, nodes sharing one database."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from stiva.app import build_context, prepare
from stiva.cli import main
from stiva.config import Settings, load_settings
from stiva.metadata.migrate import head_revision
from stiva.storage.base import Storage
from stiva.storage.driver import FileInfo, StorageError
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
    def stat(self, path: str) -> FileInfo:
        raise StorageError("connection refused")


def test_readyz_reports_unreachable_storage(registry: InProcessRegistry, tmp_path: Path) -> None:
    app = registry.client.app
    ctx = app.state.ctx  # type: ignore[attr-defined]
    app.state.ctx = replace(ctx, storage=Storage(_Unreachable(tmp_path)))  # type: ignore[attr-defined]
    try:
        response = registry.client.get("/readyz")
    finally:
        app.state.ctx = ctx  # type: ignore[attr-defined]
    assert response.status_code == 503
    assert response.json()["reasons"] == ["storage unreachable: StorageError"]


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
