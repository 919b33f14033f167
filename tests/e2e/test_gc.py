"""`stiva gc` as an operator runs it, beside a live `stiva serve`: repeatedly with zero grace
while clients push, pull and delete; and killed mid-run, then run again. `stiva fsck` is clean
after both, and every image kept pulls byte-exact."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from stiva.app import build_context
from stiva.config import load_settings
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.services.uploads import link_blob
from stiva.storage.layout import blob_path
from tests.api.test_gc_concurrency import Pushed, busy, pusher
from tests.contract.test_gc import pull
from tests.support.databases import connect
from tests.support.live import LiveServer
from tests.support.registry import basic

pytestmark = pytest.mark.slow
GARBAGE = 4000


def stiva(server: LiveServer, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "stiva", args[0], "--data-dir", str(server.data_dir)]
    return subprocess.Popen(
        [*command, *args[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server.cli_env(),
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, (out + err).decode()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    for name in ("busy/repo0", "busy/repo1"):
        server.ecr().create_repository(repositoryName=name)
    with httpx.Client(base_url=server.url, timeout=60) as handle:
        yield handle


def blob_rows(server: LiveServer) -> int:
    with connect(server.data_dir) as db:
        return int(db.execute(text("SELECT count(*) FROM blobs")).scalar_one())


def make_garbage(server: LiveServer, count: int) -> None:
    """`count` unreferenced blobs in busy/repo0 (rows, links and files), written directly."""
    settings = load_settings(overrides={"data_dir": server.data_dir})
    ctx = build_context(settings)
    root = server.data_dir / "storage"
    try:
        with ctx.db.write() as session:
            repo = session.query(m.Repository).filter_by(name="busy/repo0").one()
            for i in range(count):
                data = f"garbage {time.time_ns()} {i}".encode()
                digest = Digest("sha256", hashlib.sha256(data).hexdigest())
                path = root / blob_path(digest)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                link_blob(session, repository_id=repo.id, digest=digest, size=len(data))
    finally:
        ctx.db.dispose()


def test_gc_runs_repeatedly_beside_busy_clients(server: LiveServer, client: httpx.Client) -> None:
    auth = basic(server.password())
    collections: list[tuple[int, str]] = []
    pushed = busy(
        client, auth, lambda: collections.append(finish(stiva(server, "gc", "--grace", "0")))
    )
    assert all(code == 0 for code, _ in collections), collections
    assert finish(stiva(server, "gc", "--grace", "0"))[0] == 0
    for (name, digest), raw in pushed.kept.items():
        assert pull(client, name, digest, auth) == raw
    code, report = finish(stiva(server, "fsck", "--grace", "0"))
    assert code == 0, report
    assert report.strip().endswith("clean")


def test_a_collector_killed_mid_run_is_finished_by_the_next(
    server: LiveServer, client: httpx.Client
) -> None:
    auth = basic(server.password())
    kept = busy_free_push(client, auth)
    for _attempt in range(5):
        make_garbage(server, GARBAGE)
        before = blob_rows(server)
        collector = stiva(server, "gc", "--grace", "0")
        while collector.poll() is None and blob_rows(server) == before:
            time.sleep(0.002)
        collector.send_signal(signal.SIGKILL)
        collector.communicate()  # reaps it and closes its pipes
        if collector.returncode == -signal.SIGKILL:
            break
    assert collector.returncode == -signal.SIGKILL, "the collector always finished first"
    assert blob_rows(server) < before
    code, report = finish(stiva(server, "fsck", "--grace", "0"))
    assert code & 4 == 0, report  # garbage left over, nothing damaged
    assert finish(stiva(server, "gc", "--grace", "0"))[0] == 0
    code, report = finish(stiva(server, "fsck", "--grace", "0"))
    assert code == 0, report
    for (name, digest), raw in kept.items():
        assert pull(client, name, digest, auth) == raw
    files = sum(1 for p in (server.data_dir / "storage" / "blobs").rglob("*") if p.is_file())
    assert files == blob_rows(server)


def busy_free_push(client: httpx.Client, auth: dict[str, str]) -> dict[tuple[str, str], bytes]:
    """Images pushed (and some deleted) by one client, with no collector around."""
    pushed = Pushed()
    pusher(client, 7, auth, pushed)
    return pushed.kept
