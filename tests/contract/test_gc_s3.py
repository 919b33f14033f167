"""Garbage collection and fsck on the S3 driver (moto on loopback): the same phases as
`test_gc.py`, observed in the bucket (blob objects, upload segments, leftovers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stiva.clock import ManualClock
from stiva.services.fsck import fsck
from tests.contract.test_gc import (
    HOUR,
    blob_rows,
    collect,
    context,
    delete_image,
    pull,
    start_upload,
)
from tests.support.registry import InProcessRegistry, in_process_registry
from tests.support.s3 import S3Server, credentials_in_env

PREFIX = "gc"


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def reg(
    tmp_path: Path,
    s3_server: S3Server,
    bucket: str,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InProcessRegistry]:
    credentials_in_env(monkeypatch)
    with in_process_registry(
        tmp_path / "data",
        clock=clock,
        workers={"enabled": False},
        storage=s3_server.settings(bucket, PREFIX),
    ) as registry:
        yield registry


def _keys(s3_server: S3Server, bucket: str, under: str) -> set[str]:
    listing = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/{under}")
    return {item["Key"][len(PREFIX) + 1 :] for item in listing.get("Contents", [])}


def test_deleted_image_blobs_leave_the_bucket(
    reg: InProcessRegistry, clock: ManualClock, s3_server: S3Server, bucket: str
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    old, _ = reg.push_image("team/app", "v1", auth, layers=[b"base", b"only-v1"])
    new, raw = reg.push_image("team/app", "v2", auth, layers=[b"base", b"only-v2"])
    before = _keys(s3_server, bucket, "blobs/")
    delete_image(reg, "team/app", old, auth)
    clock.advance(2 * HOUR)
    report = collect(reg)
    assert report.blobs_deleted == 2
    gone = before - _keys(s3_server, bucket, "blobs/")
    assert len(gone) == 2
    assert all(path.rsplit("/", 1)[1] not in {d[7:] for d in blob_rows(reg)} for path in gone)
    assert pull(reg.client, "team/app", new, auth) == raw
    ctx = context(reg)
    assert fsck(ctx.db, ctx.storage, grace=HOUR).exit_code == 0


def test_idle_uploads_and_leftovers_go_with_their_segments(
    reg: InProcessRegistry, clock: ManualClock, s3_server: S3Server, bucket: str
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    idle = start_upload(reg, auth, b"half a layer")
    reg.client.patch(idle, content=b" and more", headers=auth)  # a second segment
    leftover = f"uploads/{uuid.uuid4()}/data"
    context(reg).storage.put_content(leftover, b"left over")
    assert len(_keys(s3_server, bucket, "uploads/")) == 3
    clock.advance(2 * HOUR)
    active = start_upload(reg, auth, b"in progress")
    report = collect(reg)
    assert report.uploads_deleted == 2
    assert report.upload_bytes == len(b"half a layer and more") + len(b"left over")
    assert reg.client.get(idle, headers=auth).status_code == 404
    assert reg.client.get(active, headers=auth).status_code == 204
    assert _keys(s3_server, bucket, "uploads/") == {f"uploads/{active.rsplit('/', 1)[1]}/data"}


def test_fsck_finds_a_blob_missing_from_the_bucket(
    reg: InProcessRegistry, s3_server: S3Server, bucket: str
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    reg.push_image("team/app", "v1", auth, layers=[b"layer"])
    ctx = context(reg)
    assert fsck(ctx.db, ctx.storage, grace=timedelta(0)).exit_code == 0
    victim = next(iter(_keys(s3_server, bucket, "blobs/")))
    s3_server.client().delete_object(Bucket=bucket, Key=f"{PREFIX}/{victim}")
    report = fsck(ctx.db, ctx.storage, grace=timedelta(0))
    assert report.damage
    assert any(victim.rsplit("/", 1)[1] in finding.subject for finding in report.damage)
