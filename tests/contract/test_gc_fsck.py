"""fsck: damage (missing or corrupt blobs, dangling references) and garbage past the grace period,
each found through a registry damaged on purpose."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from stiva.clock import ManualClock
from stiva.metadata import models as m
from stiva.services.fsck import FsckReport, fsck
from tests.contract.test_gc import (
    HOUR,
    age_file,
    blob_file,
    context,
    sha,
)
from tests.support.registry import InProcessRegistry, in_process_registry


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def reg(tmp_path: Path, clock: ManualClock) -> Iterator[InProcessRegistry]:
    with in_process_registry(tmp_path / "data", clock=clock, workers={"enabled": False}) as r:
        auth = r.auth
        r.create_repository("team/app")
        r.push_image("team/app", "v1", auth, layers=[b"layer one", b"layer two"])
        yield r


def check(reg: InProcessRegistry, grace: timedelta = HOUR, **options: bool) -> FsckReport:
    ctx = context(reg)
    return fsck(ctx.db, ctx.storage, grace=grace, **options)


def kinds(report: FsckReport) -> set[tuple[str, str]]:
    return {(f.severity, f.kind) for f in report.findings}


def test_a_whole_registry_is_clean(reg: InProcessRegistry) -> None:
    report = check(reg)
    assert report.findings == []
    assert report.exit_code == 0
    assert report.checked == {"blobs": 3, "manifests": 1}


def test_a_missing_blob_file_is_damage(reg: InProcessRegistry) -> None:
    blob_file(reg, sha(b"layer one")).unlink()
    report = check(reg)
    assert kinds(report) == {("damage", "missing-file")}
    assert report.findings[0].subject == sha(b"layer one")
    assert report.exit_code == 4


def test_a_blob_of_the_wrong_size_or_content_is_damage(reg: InProcessRegistry) -> None:
    blob_file(reg, sha(b"layer one")).write_bytes(b"layer 1!!")  # same size, other bytes
    blob_file(reg, sha(b"layer two")).write_bytes(b"short")
    assert kinds(check(reg)) == {("damage", "digest-mismatch"), ("damage", "size-mismatch")}
    assert kinds(check(reg, verify_digests=False)) == {("damage", "size-mismatch")}


def test_dangling_references_are_damage(reg: InProcessRegistry) -> None:
    with context(reg).db.write() as session:
        session.execute(
            delete(m.RepositoryBlob).where(m.RepositoryBlob.digest == sha(b"layer one"))
        )
        session.execute(
            delete(m.RepositoryBlob).where(m.RepositoryBlob.digest == sha(b"layer two"))
        )
        session.execute(delete(m.Blob).where(m.Blob.digest == sha(b"layer two")))
        manifest_id = session.scalars(select(m.Manifest.id)).one()
        session.add(m.ManifestChild(parent_id=manifest_id, child_digest="sha256:" + "1" * 64))
    report = check(reg)
    assert kinds(report) == {
        ("damage", "unlinked-blob"),
        ("damage", "missing-blob"),
        ("damage", "missing-child"),
    }
    assert all(f.subject.startswith("123456789012/team/app@sha256:") for f in report.findings)


def test_a_manifest_whose_bytes_changed_is_damage(reg: InProcessRegistry) -> None:
    with context(reg).db.write() as session:
        row = session.scalars(select(m.Manifest)).one()
        row.content = row.content.replace(b"layer", b"LAYER")
    assert kinds(check(reg)) == {("damage", "manifest-digest")}


def test_garbage_is_reported_past_the_grace_period_only(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    auth = reg.auth
    reg.push_blob("team/app", b"unreferenced", auth)
    reg.client.post("/v2/team/app/blobs/uploads/", headers=auth)  # an upload left open
    assert check(reg).exit_code == 0
    clock.advance(2 * HOUR)
    report = check(reg)
    assert kinds(report) == {
        ("garbage", "link"),
        ("garbage", "blob"),
        ("garbage", "upload"),
    }
    assert report.exit_code == 1
    assert check(reg, grace=timedelta(hours=3)).exit_code == 0


def test_orphan_and_stray_files(reg: InProcessRegistry) -> None:
    root = Path(context(reg).storage.driver.root)  # type: ignore[attr-defined]
    orphan = root / "blobs" / "sha256" / "ee" / ("ee" + "0" * 62)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"no row")
    age_file(orphan, 2 * HOUR)
    stray = root / "blobs" / "README"
    stray.write_text("not a blob")
    report = check(reg)
    assert kinds(report) == {("garbage", "file"), ("damage", "stray")}
    assert report.exit_code == 5


def test_the_report_is_json(reg: InProcessRegistry) -> None:
    blob_file(reg, sha(b"layer one")).unlink()
    doc = json.loads(json.dumps(check(reg).to_json()))
    assert doc["exitCode"] == 4
    assert doc["findings"][0]["kind"] == "missing-file"
