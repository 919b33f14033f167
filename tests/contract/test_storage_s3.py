"""The S3 driver beyond the shared contract: segments, multipart assembly, resume on another node.

Runs against moto in server mode on loopback (`tests/support/s3.py`), which enforces S3's part
rules (5 MiB minimum for every part but the last).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stiva.config import load_settings
from stiva.errors import ConfigError, InvalidRange
from stiva.metadata.locks import UploadLocks
from stiva.oci.digest import Digest
from stiva.services.uploads import Uploads
from stiva.storage import s3_files
from stiva.storage.base import Storage
from stiva.storage.driver import StorageError
from stiva.storage.s3 import S3Driver
from stiva.storage.s3_files import MIN_PART
from tests.support import databases
from tests.support.s3 import S3Server

MiB = 1024 * 1024


def _objects(server: S3Server, bucket: str) -> dict[str, int]:
    listing = server.client().list_objects_v2(Bucket=bucket)
    return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}


def _append(storage: Storage, path: str, data: bytes) -> int:
    writer = storage.open_write(path, append=True)
    writer.write(data)
    writer.close()
    return writer.size


def test_many_small_chunks_become_parts(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket, part_size=5 * MiB)
    storage.open_write("uploads/u/data").commit()
    chunks = [os.urandom(256 * 1024) for _ in range(50)]  # 12.5 MiB in 256 KiB PATCHes
    for chunk in chunks:
        _append(storage, "uploads/u/data", chunk)
    data = b"".join(chunks)
    stored = _objects(s3_server, bucket)
    # small chunks were merged as they came: the segments are valid parts, then a small tail
    sizes = [stored[key] for key in sorted(stored)]
    large = [size for size in sizes if size >= MIN_PART]
    assert sizes[: len(large)] == large == [5 * MiB, 5 * MiB]
    assert sum(sizes[len(large) :]) < MIN_PART
    assert storage.stat("uploads/u/data").size == len(data)
    with storage.open_read("uploads/u/data", 7 * MiB + 3) as stream:
        assert stream.read() == data[7 * MiB + 3 :]

    storage.move("uploads/u/data", "blobs/b")
    assert _objects(s3_server, bucket) == {"blobs/b": len(data)}
    head = s3_server.client().head_object(Bucket=bucket, Key="blobs/b")
    assert head["ETag"].strip('"').endswith("-3")  # one object: two copied parts and the tail
    assert hashlib.sha256(storage.get_content("blobs/b")).digest() == hashlib.sha256(data).digest()


def test_more_segments_than_parts_are_grouped_into_fewer_parts(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of more segments than S3's 10,000 parts (say 60 GB pushed in 5 MiB PATCHes)
    still assembles: neighbours are grouped into larger parts. Shown with the limit at 3."""
    monkeypatch.setattr(s3_files, "MAX_PARTS", 3)
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket, part_size=5 * MiB)
    storage.open_write("uploads/u/data").commit()
    chunks = [hashlib.shake_256(b"%d" % n).digest(MIN_PART + n) for n in range(5)]
    for chunk in chunks:
        _append(storage, "uploads/u/data", chunk)
    assert len(_objects(s3_server, bucket)) == 5  # five segments, each a valid part
    storage.move("uploads/u/data", "blobs/b")
    head = s3_server.client().head_object(Bucket=bucket, Key="blobs/b")
    parts = int(head["ETag"].strip('"').rsplit("-", 1)[1])
    assert parts == 2  # parts of at least a half: segments 0-2, then 3-4
    assert storage.get_content("blobs/b") == b"".join(chunks)


def test_part_plans_fit_s3s_limits() -> None:
    """12,000 segments of 5 MiB (60 GB), and one of the largest segments among small ones."""
    now = datetime.now(UTC)

    def segments(sizes: list[int]) -> list[s3_files.Segment]:
        offsets = itertools.accumulate(sizes, initial=0)
        return [
            s3_files.Segment(f"k{i}", offset, size, now)
            for i, (offset, size) in enumerate(zip(offsets, sizes, strict=False))
        ]

    many = segments([MIN_PART] * 12_000)
    total = MIN_PART * 12_000
    plan = s3_files._plan(many, min_part=-(-total // (s3_files.MAX_PARTS - 1)))
    assert len(plan) <= s3_files.MAX_PARTS
    assert [s for part in plan for s in part] == many  # in order, each once
    assert all(sum(s.size for s in part) < 5 * 1024 * MiB for part in plan)
    mixed = segments([MIN_PART - 1, s3_files.MAX_SEGMENT, 100])
    parts = s3_files._plan(mixed)
    assert [[s.key for s in part] for part in parts] == [["k0", "k1"], ["k2"]]
    assert sum(s.size for s in parts[0]) < 5 * 1024 * MiB


def test_chunks_larger_than_a_part(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket, part_size=5 * MiB)
    storage.open_write("u/data").commit()
    first, second = os.urandom(12 * MiB), os.urandom(6 * MiB + 17)
    writer = storage.open_write("u/data", append=True)
    for start in range(0, len(first), MiB):  # the API layer writes 1 MiB buffers
        writer.write(first[start : start + MiB])
    writer.close()
    assert _append(storage, "u/data", second) == len(first) + len(second)
    assert max(_objects(s3_server, bucket).values()) < 12 * MiB  # split at the part size
    storage.move("u/data", "blob")
    assert storage.get_content("blob") == first + second


def test_upload_continues_on_another_node(s3_server: S3Server) -> None:
    """Chunks alternate between two driver instances (two nodes): all state is in the bucket."""
    bucket = s3_server.new_bucket()
    node_a, node_b = (Uploads(s3_server.storage(bucket, prefix="p")) for _ in range(2))
    upload_id = "0b6c4f0e-8a43-4a53-9a38-3f3f0d2f6a10"
    node_a.storage.open_write(f"uploads/{upload_id}/data").commit()
    chunks = [os.urandom(size) for size in (3 * MiB, 100, 4 * MiB, 2 * MiB + 5, 1)]
    for number, chunk in enumerate(chunks):
        node = node_a if number % 2 == 0 else node_b
        writer = node.open_chunk(upload_id, start=node.size(upload_id))
        writer.write(chunk)
        writer.close()
    data = b"".join(chunks)
    fresh = Uploads(s3_server.storage(bucket, prefix="p"))  # no hash state: streams from S3
    expected = Digest("sha256", hashlib.sha256(data).hexdigest())
    assert fresh.digest_of(upload_id, "sha256", size=len(data)) == expected
    assert node_a.size(upload_id) == len(data)


def _lock_engine(kind: str, tmp_path: Path) -> Any:
    from sqlalchemy import create_engine

    if kind == "sqlite":
        return create_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    if databases.ACTIVE is None:
        pytest.skip("needs STIVA_TEST_DATABASE=postgresql")
    return create_engine(databases.ACTIVE.url("postgres"))  # advisory locks: any database


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_racing_chunks_of_one_session_cannot_poison_a_digest(
    s3_server: S3Server, tmp_path: Path, kind: str
) -> None:
    """Two nodes PATCH the same session at the same offset (a retried chunk, or a hostile
    client). Without the session lock both wrote offset 0 (the later segment object replacing
    the earlier) and each node cached the hash of its own bytes, so completing with the first
    chunk's digest moved the second chunk's bytes under it. Now the second waits, finds the
    offset taken and is refused; what is stored is what the digest says."""
    engine = _lock_engine(kind, tmp_path)
    bucket = s3_server.new_bucket()
    node_a, node_b = (
        Uploads(s3_server.storage(bucket, prefix="p"), locks=UploadLocks(engine)) for _ in range(2)
    )
    upload_id = "5f0c2a6e-7d4b-4c1e-9a2f-0d1e2f3a4b5c"
    node_a.storage.open_write(f"uploads/{upload_id}/data").commit()
    good, evil = b"G" * 1000, b"E" * 1000
    first = node_a.open_chunk(upload_id, start=0)
    outcome: dict[str, str] = {}

    def second() -> None:
        try:
            writer = node_b.open_chunk(upload_id, start=0)
        except InvalidRange:
            outcome["b"] = "refused"
            return
        writer.write(evil)
        writer.close()
        outcome["b"] = "written"

    racer = threading.Thread(target=second)
    racer.start()
    racer.join(0.3)
    assert racer.is_alive(), "the second chunk did not wait for the first"
    first.write(good)
    first.close()
    racer.join(30)
    assert outcome == {"b": "refused"}
    expected = Digest("sha256", hashlib.sha256(good).hexdigest())
    assert node_b.digest_of(upload_id, "sha256", size=len(good)) == expected
    assert node_a.storage.get_content(f"uploads/{upload_id}/data") == good
    engine.dispose()


def test_segments_are_invisible_to_list_and_walk(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket)
    storage.open_write("d/f").commit()
    for _ in range(3):
        _append(storage, "d/f", b"abc")
    assert len(_objects(s3_server, bucket)) == 3  # the file and two segments
    assert storage.list("d") == ["d/f"]
    assert [(i.path, i.size) for i in storage.walk("d")] == [("d/f", 9)]
    storage.delete("d")
    assert _objects(s3_server, bucket) == {}


def test_redirect_url_presigns_when_enabled(s3_server: S3Server) -> None:
    import httpx

    bucket = s3_server.new_bucket()
    assert s3_server.storage(bucket).redirect_url("blob") is None
    storage = s3_server.storage(bucket, redirect=True, presign_expiry_seconds=300)
    storage.put_content("blob", b"0123456789")
    url = storage.redirect_url("blob")
    assert url is not None
    assert "X-Amz-Expires=300" in url
    answer = httpx.get(url, headers={"Range": "bytes=2-4"})
    assert (answer.status_code, answer.content) == (206, b"234")


def test_presigned_urls_name_the_public_endpoint_when_set(s3_server: S3Server) -> None:
    """Nodes may reach the bucket at an internal address and clients at another."""
    import httpx

    public = s3_server.endpoint_url.replace("127.0.0.1", "localhost")
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket, redirect=True, public_endpoint_url=public)
    storage.put_content("blob", b"0123456789")
    url = storage.redirect_url("blob")
    assert url is not None
    assert url.startswith(f"{public}/{bucket}/blob?")
    assert httpx.get(url).content == b"0123456789"


def test_open_storage_validates_the_bucket(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stiva.app import open_storage

    env = {**s3_server.env("no-such-bucket"), "STIVA_S3_ENDPOINT_URL": s3_server.endpoint_url}
    for name, value in env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    settings = load_settings(env=env)
    with pytest.raises(ConfigError, match="bucket 'no-such-bucket' does not exist"):
        open_storage(settings)
    bucket = s3_server.new_bucket()
    settings = load_settings(env={**env, "STIVA_STORAGE_URL": f"s3://{bucket}/a/b"})
    storage = open_storage(settings)
    assert isinstance(storage.driver, S3Driver)
    assert storage.driver.options.prefix == "a/b"
    unreachable = {**env, "STIVA_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    with pytest.raises(ConfigError, match="cannot reach the S3 endpoint"):
        open_storage(load_settings(env={**unreachable, "STIVA_STORAGE_URL": f"s3://{bucket}"}))


def test_check_fails_when_the_bucket_is_gone(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket)
    storage.check()
    s3_server.client().delete_bucket(Bucket=bucket)
    with pytest.raises(StorageError, match=r"NoSuchBucket|Not Found|404"):
        storage.check()


@pytest.mark.parametrize(
    ("url", "message"),
    [("gs://bucket/x", "is not a file:///path or s3://"), ("s3:///prefix", "does not name")],
)
def test_storage_url_is_checked(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env={"STIVA_STORAGE_URL": url})
