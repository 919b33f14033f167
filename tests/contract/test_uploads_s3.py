"""Upload completion on S3 (moto on loopback), where moving a file copies its bytes: the copy
happens before the write unit of work (`Uploads.stage`), which only checks and links."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stiva.oci.digest import Digest
from stiva.storage.layout import blob_path
from stiva.storage.s3_files import MIN_PART
from tests.contract.test_gc import context, sha
from tests.support.registry import InProcessRegistry, in_process_registry
from tests.support.s3 import S3Server, credentials_in_env
from tests.support.writes import track_writes

REPO = "team/app"
PREFIX = "uploads-test"


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def reg(
    tmp_path: Path, s3_server: S3Server, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessRegistry]:
    credentials_in_env(monkeypatch)
    with in_process_registry(
        tmp_path / "data", workers={"enabled": False}, storage=s3_server.settings(bucket, PREFIX)
    ) as registry:
        yield registry


class Calls:
    """Which storage moves and copies ran, and whether inside a write unit of work."""

    def __init__(self, reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
        ctx = context(reg)
        self.seen: list[tuple[str, bool]] = []
        writing = track_writes(ctx.db, monkeypatch)
        driver = ctx.storage.driver
        for name in ("copy", "move"):
            original = getattr(driver, name)

            def tracked(source: str, destination: str, _n: str = name, _o: Any = original) -> None:
                self.seen.append((_n, writing()))
                _o(source, destination)

            monkeypatch.setattr(driver, name, tracked)


def push_in_chunks(reg: InProcessRegistry, chunks: list[bytes], digest: str) -> Any:
    auth = reg.auth
    started = reg.client.post(f"/v2/{REPO}/blobs/uploads/", headers=auth)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    for chunk in chunks:
        patched = reg.client.patch(location, content=chunk, headers=auth)
        assert patched.status_code == 202, patched.text
        location = patched.headers["location"]
    return reg.client.put(location, params={"digest": digest}, headers=auth)


def _keys(s3_server: S3Server, bucket: str, under: str) -> set[str]:
    listing = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/{under}")
    return {item["Key"] for item in listing.get("Contents", [])}


def test_a_segmented_upload_is_assembled_outside_the_write_unit_of_work(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    reg.create_repository(REPO)
    calls = Calls(reg, monkeypatch)
    chunks = [hashlib.shake_256(b"%d" % n).digest(MIN_PART + 1000) for n in range(2)]
    data = b"".join(chunks)
    done = push_in_chunks(reg, chunks, sha(data))
    assert done.status_code == 201, done.text
    assert calls.seen == [("copy", False)]  # assembled once, unlocked; the unit of work links
    got = reg.client.get(f"/v2/{REPO}/blobs/{sha(data)}", headers=reg.auth)
    assert got.status_code == 200
    assert got.content == data
    assert _keys(s3_server, bucket, "uploads/") == set()  # the upload's segments are gone


def test_a_staged_copy_that_a_collection_deletes_is_moved_again(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the copy and the unit of work the file has no row: a collection may delete it.
    Completion then moves the upload's bytes (still there) itself."""
    reg.create_repository(REPO)
    ctx = context(reg)
    stage = ctx.uploads.stage

    def stage_then_collected(upload_id: str, digest: Digest) -> None:
        stage(upload_id, digest)
        ctx.storage.delete(blob_path(digest))  # as a collection would: no row, so it goes

    monkeypatch.setattr(ctx.uploads, "stage", stage_then_collected)
    calls = Calls(reg, monkeypatch)
    data = b"layer bytes, staged then collected"
    done = push_in_chunks(reg, [data], sha(data))
    assert done.status_code == 201, done.text
    assert calls.seen == [("copy", False), ("move", True)]
    got = reg.client.get(f"/v2/{REPO}/blobs/{sha(data)}", headers=reg.auth)
    assert got.content == data


def test_a_wrong_digest_stages_nothing(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    reg.create_repository(REPO)
    calls = Calls(reg, monkeypatch)
    claimed = sha(b"something else")
    done = push_in_chunks(reg, [b"actual bytes"], claimed)
    assert done.status_code == 400, done.text
    assert done.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert calls.seen == []
    assert _keys(s3_server, bucket, "blobs/") == set()
    assert _keys(s3_server, bucket, "uploads/") == set()  # the rejected session is over


def test_ecr_layer_parts_are_assembled_outside_the_write_unit_of_work(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    """CompleteLayerUpload (ECR's own layer API) stages like the OCI PUT does."""
    reg.create_repository(REPO)
    upload_id = str(reg.ecr_ok("InitiateLayerUpload", repositoryName=REPO)["uploadId"])
    parts = [hashlib.shake_256(b"part %d" % n).digest(MIN_PART + 10) for n in range(2)]
    offset = 0
    for data in parts:
        answer = reg.ecr(
            "UploadLayerPart",
            repositoryName=REPO,
            uploadId=upload_id,
            partFirstByte=offset,
            partLastByte=offset + len(data) - 1,
            layerPartBlob=base64.b64encode(data).decode(),
        )
        assert answer.status_code == 200, answer.text
        offset += len(data)
    calls = Calls(reg, monkeypatch)
    uploads = context(reg).uploads
    rehash, reads = uploads._rehash, []

    def counted(upload: str, algorithm: str) -> Any:
        reads.append(algorithm)
        return rehash(upload, algorithm)

    monkeypatch.setattr(uploads, "_rehash", counted)
    layer = b"".join(parts)
    wrong = ["sha512:" + f"{n:0128x}" for n in range(20)] + ["sha256:" + "0" * 64]
    done = reg.ecr_ok(
        "CompleteLayerUpload",
        repositoryName=REPO,
        uploadId=upload_id,
        layerDigests=[*wrong, sha(layer)],  # the last one matches
    )
    assert done["layerDigest"] == sha(layer)
    assert calls.seen == [("copy", False)]  # the matching digest only
    assert reads == []  # the sha256 state matched first: no sha512 digest read the bytes again
    got = reg.client.get(f"/v2/{REPO}/blobs/{sha(layer)}", headers=reg.auth)
    assert got.content == layer
    assert _keys(s3_server, bucket, "uploads/") == set()
    assert len(_keys(s3_server, bucket, "blobs/")) == 1  # the non-matching digest staged nothing
