"""Garbage collection, phase by phase, with a manual clock (no sleeping): grace, links, rows,
files, upload sessions, leftovers of a crash, dry runs and the recorded summary."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stiva.clock import ManualClock
from stiva.metadata import models as m
from stiva.metadata.dialect import lock_blobs
from stiva.oci.digest import Digest
from stiva.services import gc
from stiva.services.context import RegistryContext
from stiva.services.fsck import fsck
from stiva.storage.base import Storage
from stiva.storage.driver import StorageError
from stiva.storage.filesystem import FilesystemDriver
from stiva.storage.layout import blob_path
from tests.support.registry import InProcessRegistry, in_process_registry

HOUR = timedelta(hours=1)
ACCOUNT = "123456789012"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def reg(tmp_path: Path, clock: ManualClock) -> Iterator[InProcessRegistry]:
    """A registry on a manual clock, its background worker off (collections run when told)."""
    with in_process_registry(tmp_path / "data", clock=clock, workers={"enabled": False}) as r:
        yield r


def context(reg: InProcessRegistry) -> RegistryContext:
    ctx: RegistryContext = reg.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def collect(reg: InProcessRegistry, grace: timedelta = HOUR, **options: Any) -> gc.GcReport:
    ctx = context(reg)
    return gc.collect(ctx.db, ctx.storage, grace=grace, **options)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_file(reg: InProcessRegistry, digest: str) -> Path:
    root = context(reg).storage.driver.root  # type: ignore[attr-defined]
    return Path(root) / blob_path(Digest.parse(digest))


def blob_rows(reg: InProcessRegistry) -> set[str]:
    with context(reg).db.read() as session:
        return set(session.scalars(select(m.Blob.digest)))


def links(reg: InProcessRegistry) -> set[tuple[str, str]]:
    with context(reg).db.read() as session:
        rows = session.execute(
            select(m.Repository.name, m.RepositoryBlob.digest).join(
                m.Repository, m.Repository.id == m.RepositoryBlob.repository_id
            )
        )
        return {(name, digest) for name, digest in rows}


def pull(client: Any, name: str, reference: str, auth: dict[str, str]) -> bytes:
    """Pull an image (`client`: a TestClient or an httpx client on a live server): its manifest
    and every blob it needs, checking their digests."""
    response = client.get(
        f"/v2/{name}/manifests/{reference}", headers={**auth, "Accept": OCI_MANIFEST}
    )
    assert response.status_code == 200, response.text
    manifest = json.loads(response.content)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        got = client.get(f"/v2/{name}/blobs/{descriptor['digest']}", headers=auth)
        assert got.status_code == 200, got.text
        assert sha(got.content) == descriptor["digest"]
    return response.content


def delete_image(reg: InProcessRegistry, name: str, digest: str, auth: dict[str, str]) -> None:
    response = reg.client.delete(f"/v2/{name}/manifests/{digest}", headers=auth)
    assert response.status_code == 202, response.text


def age_file(path: Path, delta: timedelta) -> None:
    then = time.time() - delta.total_seconds()
    os.utime(path, (then, then))


# --- grace and references -----------------------------------------------------------------------
def test_unreferenced_blob_stays_within_grace_then_goes(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest = reg.push_blob("team/app", b"an orphan layer", auth)
    assert collect(reg).blobs_deleted == 0
    clock.advance(HOUR - timedelta(seconds=1))
    assert collect(reg).blobs_deleted == 0
    assert blob_file(reg, digest).exists()
    clock.advance(timedelta(seconds=2))
    report = collect(reg)
    assert report.blobs_deleted == 1
    assert report.blob_bytes == len(b"an orphan layer")
    assert report.repositories == {f"{ACCOUNT}/team/app": gc.Freed(1, 15)}
    assert digest not in blob_rows(reg)
    assert not blob_file(reg, digest).exists()
    assert reg.client.head(f"/v2/team/app/blobs/{digest}", headers=auth).status_code == 404


def test_referenced_blobs_stay_however_old(reg: InProcessRegistry, clock: ManualClock) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest, raw = reg.push_image("team/app", "v1", auth, layers=[b"l1", b"l2"])
    clock.advance(timedelta(hours=11))  # tokens last 12 h
    report = collect(reg, grace=timedelta(0))
    assert (report.blobs_deleted, report.repositories) == (0, {})
    assert pull(reg.client, "team/app", digest, auth) == raw


def test_deleting_an_image_frees_what_only_it_used(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    old, _ = reg.push_image("team/app", "v1", auth, layers=[b"base", b"only-v1"])
    new, raw = reg.push_image("team/app", "v2", auth, layers=[b"base", b"only-v2"])
    delete_image(reg, "team/app", old, auth)
    clock.advance(2 * HOUR)
    report = collect(reg)
    assert report.blobs_deleted == 2  # v1's config and its own layer; the base layer stays
    assert sha(b"only-v1") not in blob_rows(reg)
    assert sha(b"base") in blob_rows(reg)
    assert pull(reg.client, "team/app", new, auth) == raw


def test_a_blob_shared_by_repositories_is_unlinked_here_and_kept(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    auth = reg.auth
    for name in ("team/a", "team/b"):
        reg.create_repository(name)
    first, _ = reg.push_image("team/a", "v1", auth, layers=[b"shared"])
    second, raw = reg.push_image("team/b", "v2", auth, layers=[b"shared"])
    delete_image(reg, "team/a", first, auth)
    clock.advance(2 * HOUR)
    report = collect(reg)
    assert report.repositories[f"{ACCOUNT}/team/a"].blobs == 2  # config + layer unlinked
    assert report.blobs_deleted == 1  # a's config; the layer is b's too
    assert ("team/a", sha(b"shared")) not in links(reg)
    assert ("team/b", sha(b"shared")) in links(reg)
    assert pull(reg.client, "team/b", second, auth) == raw


def test_a_blob_referenced_elsewhere_keeps_its_row_without_links(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    """A link removed by hand (blob DELETE) while a manifest references the blob: the row stays."""
    auth = reg.auth
    reg.create_repository("team/app")
    reg.push_image("team/app", "v1", auth, layers=[b"needed"])
    with context(reg).db.write() as session:
        session.query(m.RepositoryBlob).filter_by(digest=sha(b"needed")).delete()
    clock.advance(2 * HOUR)
    collect(reg, grace=timedelta(0))
    assert sha(b"needed") in blob_rows(reg)
    assert blob_file(reg, sha(b"needed")).exists()


def test_pushing_a_blob_again_renews_its_grace(reg: InProcessRegistry, clock: ManualClock) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest = reg.push_blob("team/app", b"re-pushed", auth)
    clock.advance(2 * HOUR)
    reg.push_blob("team/app", b"re-pushed", auth)  # an in-flight push uploading it again
    assert collect(reg).blobs_deleted == 0
    assert digest in blob_rows(reg)


def test_a_manifest_needing_a_collected_blob_is_refused(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    """A push slower than the grace period: refused, never stored without its blob."""
    auth = reg.auth
    reg.create_repository("team/app")
    config = reg.push_blob("team/app", b"{}", auth)
    clock.advance(2 * HOUR)
    collect(reg)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config,
            "size": 2,
        },
        "layers": [],
    }
    response = reg.client.put(
        "/v2/team/app/manifests/late",
        content=json.dumps(manifest).encode(),
        headers={**auth, "Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_blob_locks_need_a_write_unit_of_work(reg: InProcessRegistry) -> None:
    with context(reg).db.read() as session, pytest.raises(RuntimeError):
        lock_blobs(session, ["sha256:" + "0" * 64])


# --- dry run and the recorded summary -----------------------------------------------------------
def test_dry_run_reports_and_changes_nothing(reg: InProcessRegistry, clock: ManualClock) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest = reg.push_blob("team/app", b"garbage", auth)
    clock.advance(2 * HOUR)
    report = collect(reg, dry_run=True)
    assert (report.blobs_deleted, report.blob_bytes) == (1, 7)
    assert {(i.kind, i.subject) for i in report.items} == {
        ("link", f"{ACCOUNT}/team/app@{digest}"),
        ("blob", digest),
    }
    assert digest in blob_rows(reg)
    assert ("team/app", digest) in links(reg)
    assert blob_file(reg, digest).exists()
    with context(reg).db.read() as session:
        run = session.scalars(select(m.GcRun)).one()
        assert run.dry_run
        assert run.finished_at is not None
        assert run.blobs_deleted == 1


def test_runs_are_recorded_with_their_summary(reg: InProcessRegistry, clock: ManualClock) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    reg.push_blob("team/app", b"x" * 100, auth)
    clock.advance(2 * HOUR)
    report = collect(reg)
    with context(reg).db.read() as session:
        run = session.get(m.GcRun, report.run_id)
        assert run is not None
        assert (run.dry_run, run.grace_seconds, run.blobs_deleted, run.bytes_freed) == (
            False,
            3600,
            1,
            100,
        )
        assert run.started_at == clock.now()
        assert run.finished_at == clock.now()
        summary = json.loads(run.summary or "{}")
    assert summary["repositories"] == {f"{ACCOUNT}/team/app": {"blobs": 1, "bytes": 100}}


# --- upload sessions ----------------------------------------------------------------------------
def start_upload(reg: InProcessRegistry, auth: dict[str, str], data: bytes) -> str:
    response = reg.client.post("/v2/team/app/blobs/uploads/", headers=auth)
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    patched = reg.client.patch(location, content=data, headers=auth)
    assert patched.status_code == 202, patched.text
    return location


def test_idle_upload_sessions_go_with_their_data(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    idle = start_upload(reg, auth, b"half a layer")
    assert collect(reg).uploads_deleted == 0
    clock.advance(2 * HOUR)
    active = start_upload(reg, auth, b"in progress")
    report = collect(reg)
    assert (report.uploads_deleted, report.upload_bytes) == (1, len(b"half a layer"))
    assert reg.client.get(idle, headers=auth).status_code == 404
    assert reg.client.get(active, headers=auth).status_code == 204
    root = Path(context(reg).storage.driver.root)  # type: ignore[attr-defined]
    assert not (root / "uploads" / idle.rsplit("/", 1)[1]).exists()


def test_a_session_written_to_recently_is_not_idle(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    """Chunks bump the data file's modification time: an old row with fresh data stays."""
    auth = reg.auth
    reg.create_repository("team/app")
    location = start_upload(reg, auth, b"part one")
    clock.advance(2 * HOUR)
    root = Path(context(reg).storage.driver.root)  # type: ignore[attr-defined]
    data = root / "uploads" / location.rsplit("/", 1)[1] / "data"
    future = clock.now().timestamp()
    os.utime(data, (future, future))  # a chunk written "now" by the manual clock
    assert collect(reg).uploads_deleted == 0


def test_upload_directories_without_a_row_are_swept(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    root = Path(context(reg).storage.driver.root)  # type: ignore[attr-defined]
    old, fresh = root / "uploads" / str(uuid.uuid4()), root / "uploads" / str(uuid.uuid4())
    for directory in (old, fresh):
        directory.mkdir(parents=True)
        (directory / "data").write_bytes(b"left over")
    age_file(old / "data", 2 * HOUR)
    report = collect(reg)
    assert (report.uploads_deleted, report.upload_bytes) == (1, 9)
    assert not old.exists()
    assert fresh.exists()


# --- files: crash leftovers, and an upload re-creating a blob between the two steps ---------------
class FailingDeletes(FilesystemDriver):
    """A driver whose blob deletes fail after `allowed` of them: a collector dying mid-run."""

    def __init__(self, root: Path, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed

    def delete(self, path: str) -> None:
        if path.startswith("blobs/"):
            if self.allowed <= 0:
                raise OSError("the collector died here")
            self.allowed -= 1
        super().delete(path)


def test_a_collector_dying_between_rows_and_files_is_finished_by_the_next_run(
    reg: InProcessRegistry, clock: ManualClock
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest, raw = reg.push_image("team/app", "v1", auth, layers=[b"keep"])
    garbage = [reg.push_blob("team/app", f"garbage {i}".encode(), auth) for i in range(5)]
    clock.advance(2 * HOUR)
    ctx = context(reg)
    root = ctx.storage.driver.root  # type: ignore[attr-defined]
    with pytest.raises(StorageError):
        gc.collect(ctx.db, Storage(FailingDeletes(root, allowed=2)), grace=HOUR)
    assert not blob_rows(reg) & set(garbage)  # rows went first ...
    assert sum(blob_file(reg, d).exists() for d in garbage) == 3  # ... files were left behind
    for path in root.glob("blobs/sha256/*/*"):
        age_file(path, 2 * HOUR)  # the file clock: modified before the grace period
    checked = fsck(ctx.db, ctx.storage, grace=HOUR)
    assert checked.exit_code == 1
    assert {f.kind for f in checked.findings} == {"file"}
    report = collect(reg)
    assert report.orphan_files == 3
    assert not any(blob_file(reg, d).exists() for d in garbage)
    assert fsck(ctx.db, ctx.storage, grace=HOUR).exit_code == 0
    assert pull(reg.client, "team/app", digest, auth) == raw


def test_an_upload_between_the_two_steps_keeps_the_file(
    reg: InProcessRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest = reg.push_blob("team/app", b"wanted again", auth)
    clock.advance(2 * HOUR)
    original = gc._Collector._delete_files

    def upload_in_between(self: Any, verdicts: Any) -> None:
        reg.push_blob("team/app", b"wanted again", auth)  # re-creates row and link
        original(self, verdicts)

    monkeypatch.setattr(gc._Collector, "_delete_files", upload_in_between)
    assert collect(reg).blobs_deleted == 1
    assert digest in blob_rows(reg)
    assert blob_file(reg, digest).exists()
    got = reg.client.get(f"/v2/team/app/blobs/{digest}", headers=auth)
    assert got.content == b"wanted again"


def test_an_upload_reuses_an_orphan_file(reg: InProcessRegistry, clock: ManualClock) -> None:
    auth = reg.auth
    reg.create_repository("team/app")
    digest = reg.push_blob("team/app", b"orphaned", auth)
    with context(reg).db.write() as session:  # what a crash between the steps leaves
        session.query(m.RepositoryBlob).filter_by(digest=digest).delete()
        session.query(m.Blob).filter_by(digest=digest).delete()
    reg.push_blob("team/app", b"orphaned", auth)
    clock.advance(2 * HOUR)
    age_file(blob_file(reg, digest), 2 * HOUR)
    assert collect(reg, grace=timedelta(days=1)).orphan_files == 0  # it has a row again
    assert reg.client.get(f"/v2/team/app/blobs/{digest}", headers=auth).content == b"orphaned"


def test_files_that_are_not_blobs_are_left_alone(reg: InProcessRegistry) -> None:
    root = Path(context(reg).storage.driver.root)  # type: ignore[attr-defined]
    stray = root / "blobs" / "sha256" / "ab" / "notes.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("keep me")
    age_file(stray, 2 * HOUR)
    report = collect(reg, grace=timedelta(0))
    assert (report.stray_files, report.orphan_files) == (1, 0)
    assert stray.exists()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("blobs/sha256/ab/ab" + "0" * 62, "sha256:ab" + "0" * 62),
        ("blobs/sha256/cd/ab" + "0" * 62, None),  # wrong fan-out directory
        ("blobs/sha256/ab/ab00", None),
        ("blobs/md5/ab/ab" + "0" * 30, None),
        ("uploads/x/data", None),
    ],
)
def test_blob_paths_name_their_digest(path: str, expected: str | None) -> None:
    found = gc.blob_digest(path)
    assert (str(found) if found else None) == expected
