"""A live `stiva serve` storing blobs in S3 (moto on loopback): skopeo pushes and pulls, chunked
uploads in many PATCHes, blob GETs streamed or redirected to presigned URLs, GC and fsck."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.live import LiveServer, live_server
from tests.support.registry import basic
from tests.support.s3 import S3Server

pytestmark = pytest.mark.slow
MiB = 1024 * 1024
PREFIX = "store"


@dataclass
class S3Registry:
    server: LiveServer
    s3: S3Server
    bucket: str
    redirect: bool

    def env(self) -> dict[str, str]:
        return {**self.server.cli_env(), **self.s3.env(self.bucket, PREFIX)}

    def blob_keys(self) -> set[str]:
        paginator = self.s3.client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=f"{PREFIX}/blobs/")
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def stiva(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "stiva", args[0], "--data-dir", str(self.server.data_dir)]
        return subprocess.run(
            [*command, *args[1:]], env=self.env(), capture_output=True, text=True, timeout=300
        )


@pytest.fixture(scope="module", params=["streamed", "redirected"])
def registry(
    request: pytest.FixtureRequest, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Registry]:
    redirect = request.param == "redirected"
    bucket = s3_server.new_bucket()
    env = {
        **s3_server.env(bucket, PREFIX),
        "STIVA_S3_REDIRECT": str(redirect).lower(),
        "STIVA_S3_PART_SIZE_MB": "5",
    }
    if redirect:  # the node reaches the bucket at localhost, clients at 127.0.0.1
        env["STIVA_S3_PUBLIC_ENDPOINT_URL"] = s3_server.endpoint_url
    with live_server(tmp_path_factory.mktemp("s3live") / "data", extra_env=env) as server:
        yield S3Registry(server, s3_server, bucket, redirect)


def _blobs(layout: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}


def test_skopeo_round_trip(registry: S3Registry, skopeo: Skopeo, tmp_path: Path) -> None:
    server = registry.server
    server.ecr().create_repository(repositoryName="s3/app")
    layout = Layout(tmp_path / "src")
    manifest = layout.add_image([20_000, 7 * MiB], seed=11)  # a layer of several parts
    layout.tag(manifest, "v1")
    skopeo.login(server.host, server.password())

    skopeo.copy(f"oci:{layout.root}:v1", f"docker://{server.host}/s3/app:v1")
    skopeo.copy(f"docker://{server.host}/s3/app:v1", f"oci:{tmp_path / 'dst'}:v1")

    assert _blobs(tmp_path / "dst") == _blobs(layout.root)
    stored = {key.rsplit("/", 1)[-1] for key in registry.blob_keys()}
    assert stored == {name for name in _blobs(layout.root) if name != manifest.digest[7:]}
    assert not (server.data_dir / "storage").exists()  # nothing on the node's disk


def test_blob_get_streams_or_redirects(registry: S3Registry, tmp_path: Path) -> None:
    server = registry.server
    server.ecr().create_repository(repositoryName="s3/ranged")
    data = hashlib.shake_256(b"ranged").digest(3 * MiB)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    auth = basic(server.password())
    with httpx.Client(base_url=server.url, headers=auth, timeout=60) as client:
        put = client.post(f"/v2/s3/ranged/blobs/uploads/?digest={digest}", content=data)
        assert put.status_code == 201, put.text
        answer = client.get(f"/v2/s3/ranged/blobs/{digest}", headers={"Range": "bytes=10-19"})
        if registry.redirect:
            assert answer.status_code == 307
            location = answer.headers["location"]
            assert location.startswith(f"http://127.0.0.1:{registry.s3.port}/")  # the public one
            assert "X-Amz-Signature=" in location
            answer = httpx.get(location, headers={"Range": "bytes=10-19"})  # no credentials
        assert answer.status_code == 206
        assert answer.content == data[10:20]
        head = client.head(f"/v2/s3/ranged/blobs/{digest}")  # HEAD is answered directly
        assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))


def _push_chunked(client: httpx.Client, name: str, data: bytes, chunk: int) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    started = client.post(f"/v2/{name}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(piece) - 1}",
        }
        answer = client.patch(location, content=piece, headers=headers)
        assert answer.status_code == 202, answer.text
        location = answer.headers["location"]
    done = client.put(location, params={"digest": digest})
    assert done.status_code == 201, done.text
    return digest


def test_chunked_push_then_skopeo_pull(
    registry: S3Registry, skopeo: Skopeo, tmp_path: Path
) -> None:
    """Many small PATCHes (buffered into parts) and a few large ones, then a pull by skopeo."""
    server = registry.server
    server.ecr().create_repository(repositoryName="s3/chunked")
    layout = Layout(tmp_path / "src")
    manifest = layout.add_image([6 * MiB, 12 * MiB], seed=5)
    stored = json.loads((layout.root / "blobs" / "sha256" / manifest.digest[7:]).read_bytes())
    descriptors = [stored["config"], *stored["layers"]]
    chunks = [64 * 1024, 300 * 1024, 7 * MiB]
    with httpx.Client(base_url=server.url, headers=basic(server.password()), timeout=120) as c:
        for descriptor, chunk in zip(descriptors, chunks, strict=True):
            blob = (layout.root / "blobs" / "sha256" / descriptor["digest"][7:]).read_bytes()
            assert _push_chunked(c, "s3/chunked", blob, chunk) == descriptor["digest"]
        body = (layout.root / "blobs" / "sha256" / manifest.digest[7:]).read_bytes()
        headers = {"Content-Type": manifest.media_type}
        put = c.put("/v2/s3/chunked/manifests/v1", content=body, headers=headers)
        assert put.status_code == 201, put.text
    skopeo.login(server.host, server.password())
    skopeo.copy(f"docker://{server.host}/s3/chunked:v1", f"oci:{tmp_path / 'dst'}:v1")
    assert _blobs(tmp_path / "dst") == _blobs(layout.root)


def test_gc_and_fsck_on_s3(registry: S3Registry, tmp_path: Path) -> None:
    server = registry.server
    server.ecr().create_repository(repositoryName="s3/gone")
    data = hashlib.shake_256(b"garbage").digest(MiB)
    with httpx.Client(base_url=server.url, headers=basic(server.password()), timeout=60) as c:
        digest = _push_chunked(c, "s3/gone", data, 200 * 1024)
        assert c.delete(f"/v2/s3/gone/blobs/{digest}").status_code == 202
    key = f"{PREFIX}/blobs/sha256/{digest[7:9]}/{digest[7:]}"
    assert key in registry.blob_keys()

    collected = registry.stiva("gc", "--grace", "0", "--json")
    assert collected.returncode == 0, collected.stderr
    assert key not in registry.blob_keys()
    checked = registry.stiva("fsck", "--grace", "0", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_oras_push_and_pull(registry: S3Registry, tmp_path: Path) -> None:
    import oras.client

    server = registry.server
    server.ecr().create_repository(repositoryName="s3/oras")
    client = oras.client.OrasClient(hostname=server.host, insecure=True, auth_backend="basic")
    client.auth.set_basic_auth("AWS", server.password())
    artifact = tmp_path / "artifact.bin"
    artifact.write_bytes(hashlib.shake_256(b"oras").digest(6 * MiB + 5))
    pushed = client.push(
        target=f"{server.host}/s3/oras:v1",
        files=[str(artifact)],
        disable_path_validation=True,
        quiet=True,
    )
    assert pushed.status_code == 201, pushed.text
    out = tmp_path / "out"
    files = client.pull(target=f"{server.host}/s3/oras:v1", outdir=str(out))
    assert [Path(f).read_bytes() for f in files] == [artifact.read_bytes()]
