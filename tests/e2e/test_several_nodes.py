"""Two nodes sharing one database and one S3 bucket behave as one registry.

Node A and node B are separate `stiva serve` processes with separate, empty data directories;
they share only the database URL, the storage settings (a bucket on the loopback S3 server) and
`auth.secret_key` (configuration). Every other secret (registry-token, pagination-token and
download-URL keys) comes from the database. With STIVA_TEST_DATABASE=postgresql the database is
PostgreSQL; otherwise both nodes open one SQLite file (one machine only, same semantics).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from stiva.app import build_context
from stiva.config import load_settings
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.services.uploads import link_blob
from stiva.storage.base import Storage
from stiva.storage.driver import PathNotFound
from stiva.storage.layout import blob_path
from tests.e2e.conftest import Skopeo
from tests.support import databases
from tests.support.balancer import balancer
from tests.support.images import Layout
from tests.support.live import LiveServer, live_server
from tests.support.registry import basic
from tests.support.s3 import S3Server

pytestmark = pytest.mark.slow
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Cluster:
    root: Path
    database_url: str
    storage_env: dict[str, str]
    storage: Storage  # the same bucket and prefix, for the test's own reads and writes
    secret_key: str

    def env(self, *, workers: bool = False) -> dict[str, str]:
        return {
            **self.storage_env,
            "STIVA_DATABASE_URL": self.database_url,
            "STIVA_AUTH_SECRET_KEY": self.secret_key,
            "STIVA_WORKERS_ENABLED": "true" if workers else "false",
            "STIVA_WORKERS_LEASE_SECONDS": "5",
            "STIVA_WORKERS_POLL_SECONDS": "0.2",
            "STIVA_GC_GRACE_SECONDS": "0",
        }

    @contextmanager
    def node(self, name: str, *, workers: bool = False) -> Iterator[LiveServer]:
        """A node with its own empty data directory (the first one started bootstraps)."""
        first = self.root / "a" / "data" / "credentials"
        with live_server(
            self.root / name / "data",
            extra_env=self.env(workers=workers),
            credentials=first if first.exists() else None,
        ) as server:
            yield server

    def connect(self) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        return create_engine(self.database_url, poolclass=NullPool).begin()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Cluster:
    root = tmp_path_factory.mktemp("cluster")
    active = databases.ACTIVE
    url = active.create() if active is not None else f"sqlite:///{root / 'shared.db'}"
    bucket = s3_server.new_bucket()
    return Cluster(
        root,
        url,
        s3_server.env(bucket, "nodes"),
        s3_server.storage(bucket, prefix="nodes"),
        base64.b64encode(os.urandom(32)).decode(),
    )


@pytest.fixture(scope="module")
def nodes(cluster: Cluster) -> Iterator[tuple[LiveServer, LiveServer]]:
    with cluster.node("a") as a, cluster.node("b") as b:
        yield a, b


def test_only_the_first_node_bootstrapped_and_data_dirs_hold_no_shared_secret(
    cluster: Cluster, nodes: tuple[LiveServer, LiveServer]
) -> None:
    a, b = nodes
    assert (a.data_dir / "credentials").exists()
    assert not (b.data_dir / "credentials").exists()
    assert "bootstrapped account" not in b.log()
    for node in nodes:  # the secret key is configured, so no key file either
        assert sorted(p.name for p in node.data_dir.iterdir()) in ([], ["credentials"])
    with cluster.connect() as db:
        assert db.execute(text("SELECT count(*) FROM accounts")).scalar_one() == 1


def test_ecr_state_tokens_and_pagination_cross_nodes(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    for i in range(3):
        a.ecr().create_repository(repositoryName=f"cross/page{i}")
    seen = b.ecr().describe_repositories(repositoryNames=["cross/page1"])["repositories"]
    assert seen[0]["repositoryName"] == "cross/page1"
    first = a.ecr().describe_repositories(maxResults=1)
    second = b.ecr().describe_repositories(maxResults=1, nextToken=first["nextToken"])
    names = [r["repositoryName"] for r in first["repositories"] + second["repositories"]]
    assert len(set(names)) == 2
    response = httpx.get(f"{b.url}/v2/cross/page0/tags/list", headers=basic(a.password()))
    assert response.status_code == 200, response.text


def test_chunked_upload_started_on_a_finishes_on_b_and_pulls_anywhere(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    a, b = nodes
    a.ecr().create_repository(repositoryName="cross/app")
    auth = basic(a.password())
    layer = secrets.token_bytes(3 * 1024 * 1024 + 17)
    digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    started = httpx.post(f"{a.url}/v2/cross/app/blobs/uploads/", headers=auth)
    assert started.status_code == 202, started.text
    location = httpx.URL(started.headers["Location"]).raw_path.decode()
    cut = 2 * 1024 * 1024
    for node, chunk, offset in ((a, layer[:cut], 0), (b, layer[cut:], cut)):
        patched = httpx.patch(
            f"{node.url}{location}",
            content=chunk,
            headers={
                **auth,
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            },
        )
        assert patched.status_code == 202, patched.text
        location = httpx.URL(patched.headers["Location"]).raw_path.decode()
    done = httpx.put(f"{b.url}{location}", params={"digest": digest}, headers=auth)
    assert done.status_code == 201, done.text
    manifest = _push_manifest(a, auth, digest, len(layer))
    for node in (a, b):
        got = httpx.get(
            f"{node.url}/v2/cross/app/manifests/v1", headers={**auth, "Accept": OCI_MANIFEST}
        )
        assert got.status_code == 200, got.text
        assert got.content == manifest
        blob = httpx.get(f"{node.url}/v2/cross/app/blobs/{digest}", headers=auth)
        assert blob.status_code == 200, blob.text
        assert blob.content == layer


def test_skopeo_pushes_through_a_round_robin_balancer_and_pulls_from_b(
    nodes: tuple[LiveServer, LiveServer], skopeo: Skopeo, tmp_path: Path
) -> None:
    """skopeo behind a balancer that alternates nodes per request: its upload sessions start on
    one node and are continued and finished on the other; the image then pulls from B alone."""
    a, b = nodes
    a.ecr().create_repository(repositoryName="lb/app")
    layout = Layout(tmp_path / "src")
    manifest = layout.add_image([3_000_000, 400_000, 20_000], seed=11)
    layout.tag(manifest, "v1")
    with balancer(a.url, b.url) as lb:
        skopeo.login(lb.host, a.password())
        skopeo.copy(f"oci:{layout.root}:v1", f"docker://{lb.host}/lb/app:v1")
    uploads = [(backend, method) for backend, method, path in lb.served if "/uploads/" in path]
    assert {backend for backend, _ in uploads} == {a.url, b.url}, lb.served
    session_steps = [step for step in uploads if step[1] in ("PATCH", "PUT")]
    assert {backend for backend, _ in session_steps} == {a.url, b.url}, lb.served
    skopeo.login(b.host, a.password())
    skopeo.copy(f"docker://{b.host}/lb/app:v1", f"oci:{tmp_path / 'dst'}:v1")
    pulled = tmp_path / "dst" / "blobs" / "sha256"
    original = layout.root / "blobs" / "sha256"
    assert {p.name: p.read_bytes() for p in pulled.iterdir()} == {
        p.name: p.read_bytes() for p in original.iterdir()
    }


def _push_manifest(node: LiveServer, auth: dict[str, str], layer: str, size: int) -> bytes:
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    pushed = httpx.post(
        f"{node.url}/v2/cross/app/blobs/uploads/",
        params={"digest": config_digest},
        content=config,
        headers=auth,
    )
    assert pushed.status_code == 201, pushed.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer,
                    "size": size,
                }
            ],
        }
    ).encode()
    put = httpx.put(
        f"{node.url}/v2/cross/app/manifests/v1",
        content=manifest,
        headers={**auth, "Content-Type": OCI_MANIFEST},
    )
    assert put.status_code == 201, put.text
    return manifest


def _garbage(cluster: Cluster, count: int) -> list[str]:
    """`count` unreferenced blobs in cross/app (rows, links and objects), written directly."""
    settings = load_settings(
        overrides={
            "data_dir": cluster.root / "tool",
            "database": {"url": cluster.database_url},
            "auth": {"secret_key": cluster.secret_key},
        }
    )  # the context is used for its database only: the objects are written to the bucket below
    ctx = build_context(settings)
    digests = []
    try:
        with ctx.db.write() as session:
            repo = session.query(m.Repository).filter_by(name="cross/app").one()
            for i in range(count):
                data = f"garbage {time.time_ns()} {i}".encode()
                digest = Digest("sha256", hashlib.sha256(data).hexdigest())
                cluster.storage.put_content(blob_path(digest), data)
                link_blob(session, repository_id=repo.id, digest=digest, size=len(data))
                digests.append(str(digest))
    finally:
        ctx.db.dispose()
    return digests


def _gc_job(cluster: Cluster, job_id: int | None = None) -> dict[str, Any] | None:
    """The GC job `job_id`, or the latest one."""
    with cluster.connect() as db:
        which = "" if job_id is None else f"AND id = {int(job_id)}"
        row = db.execute(
            text(
                "SELECT id, status, lease_owner, attempts FROM jobs WHERE kind = 'gc' "
                f"{which} ORDER BY id DESC LIMIT 1"
            )
        ).first()
    return dict(row._mapping) if row is not None else None


def _until(predicate: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


@pytest.mark.postgres
@pytest.mark.skipif(
    databases.server_url() is None, reason="holds a blob lock: PostgreSQL advisory locks"
)
def test_a_job_of_a_killed_node_completes_on_another(
    cluster: Cluster, nodes: tuple[LiveServer, LiveServer]
) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from stiva.metadata.dialect import blob_lock_key

    garbage = _garbage(cluster, 20)
    # Hold one garbage blob's lock: the collector that claims the GC job blocks on it, mid-job.
    holder = create_engine(cluster.database_url, poolclass=NullPool).connect()
    transaction = holder.begin()
    holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": blob_lock_key(min(garbage))})
    try:
        with cluster.node("c", workers=True) as c:
            pid = f":{c.process.pid}:"
            job = _until(
                lambda: (j := _gc_job(cluster)) and j["status"] == "running" and j, 60, "a claim"
            )
            assert pid in job["lease_owner"]
            time.sleep(0.5)  # the collector is now waiting on the lock
            c.process.send_signal(signal.SIGKILL)
            c.process.wait()
    finally:
        transaction.rollback()
        holder.close()
    assert _gc_job(cluster, job["id"]) == job  # still running, still C's
    with cluster.node("d", workers=True):
        finished = _until(
            lambda: (j := _gc_job(cluster, job["id"])) and j["status"] == "done" and j,
            60,
            "the job to complete on node D",
        )
    assert finished["attempts"] == job["attempts"] + 1
    for digest in garbage:
        with pytest.raises(PathNotFound):
            cluster.storage.stat(blob_path(Digest.parse(digest)))
