"""Garbage collection, online: delete the blobs and upload sessions no manifest needs, while the
registry goes on serving pushes and pulls.

SAFETY INVARIANT
    No blob that a committed or in-flight manifest needs is ever deleted: neither its `blobs`
    row, nor the `repository_blobs` link that lets the manifest's repository use it, nor its file.

How the design keeps it (by construction, not by timing):

1. References are metadata. A manifest of repository R needs blob D when one of its
   `manifest_blobs` rows names D. `put_manifest` checks, inside its write unit of work, that each
   blob it needs has a row and a link to R, and inserts its `manifest_blobs` rows in that same
   unit of work.
2. One lock per blob (`metadata.dialect.lock_blobs`). Whoever creates, links, references or
   deletes blob D holds D's lock from before it reads what it decides on until it commits:
   upload completion (file check, move into place, row, link), mounts, manifest pushes and every
   step below. On SQLite the write unit of work is that lock (BEGIN IMMEDIATE excludes every
   other writer); on PostgreSQL it is an advisory lock keyed by the digest, under READ COMMITTED.
3. Decisions are made again under the lock. Candidates come from a plain read; then, a batch at
   a time, one write unit of work holding the batch's locks re-reads and deletes only
   - a link (R, D) older than the grace period that no manifest of R references, and
   - a `blobs` row with no link left and no `manifest_blobs` row in any repository.
   A manifest push serialized before that unit of work has its references seen (the link
   stays); one serialized after finds the link gone and is refused (MANIFEST_BLOB_UNKNOWN):
   never a committed manifest without its blob.
4. Rows first, files after. A blob's row goes first (committed); its file goes in a second unit
   of work that takes the lock again and deletes the file only if the row is still absent (an
   upload of the same digest in between re-created the row, re-using the file: it stays). Upload
   completion checks for the file and moves its bytes into place under the same lock. So at
   every commit a `blobs` row has its file, and a blob without a row cannot be referenced.
5. Crashes. Each step is a committed unit of work that leaves the metadata consistent. A crash
   between a row's deletion and its file's leaves an orphan file: the next run walks the store
   and deletes files that have no row and were modified before the grace period, with the same
   lock and re-check. Upload rows go before their directories; directories left without a row
   are swept the same way.

The grace period is the window of in-flight pushes, which upload blobs before the manifest that
needs them: a link younger than it stays while nothing references it (uploading or mounting the
blob again renews it). A push that skips uploading a blob its repository holds unreferenced since
before the grace period may see its manifest refused if a collection prunes that link in between;
the client uploads the blob again. An upload session is idle when its row's `updated_at` and its
data file's modification time are both older than the grace period: its row goes (the DELETE
re-checks `updated_at`), then its data; completion locks the session's row and refuses a session
whose row is gone. "Now" is the database's clock (`Database.clock`, injectable); files without a
row are aged by their modification time against it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from stiva.errors import InvalidDigest
from stiva.metadata import models as m
from stiva.metadata.database import Database
from stiva.metadata.dialect import lock_blobs
from stiva.oci.digest import Digest
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.storage.base import Storage
from stiva.storage.driver import FileInfo, PathNotFound, StorageError
from stiva.storage.layout import blob_path, upload_dir, upload_path

log = logging.getLogger(__name__)
JOB_KIND = "gc"
BATCH = 200
T = TypeVar("T")


class Progress(Protocol):
    """Where a collection reports how far it got (a progress bar in the CLI)."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase begins, with `total` steps (None: not known in advance)."""
        ...

    def advance(self, amount: int = 1) -> None: ...


class Silent:
    """No progress shown (the server's periodic job)."""

    def phase(self, name: str, total: int | None) -> None:
        del name, total

    def advance(self, amount: int = 1) -> None:
        del amount


@dataclass(slots=True)
class Freed:
    """Blobs a repository no longer holds (links pruned) and their bytes."""

    blobs: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class Garbage:
    """One thing a dry run would delete (kind: link, blob, file, upload, upload-dir), or a
    file in the blob store that is not a blob (kind: stray; never deleted)."""

    kind: str
    subject: str
    size: int
    detail: str = ""


@dataclass(slots=True)
class GcReport:
    dry_run: bool
    grace_seconds: int
    run_id: int | None = None
    repositories: dict[str, Freed] = field(default_factory=dict)
    blobs_deleted: int = 0  # blob rows deleted with their files, each counted once
    blob_bytes: int = 0
    orphan_files: int = 0  # files without a row (a crash's leftovers)
    orphan_bytes: int = 0
    uploads_deleted: int = 0  # idle sessions and directories left without a row
    upload_bytes: int = 0
    stray_files: int = 0
    items: list[Garbage] = field(default_factory=list)  # dry runs only

    @property
    def bytes_freed(self) -> int:
        return self.blob_bytes + self.orphan_bytes + self.upload_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "dryRun": self.dry_run,
            "graceSeconds": self.grace_seconds,
            "repositories": {
                name: {"blobs": f.blobs, "bytes": f.bytes}
                for name, f in sorted(self.repositories.items())
            },
            "blobsDeleted": self.blobs_deleted,
            "blobBytes": self.blob_bytes,
            "orphanFiles": self.orphan_files,
            "orphanBytes": self.orphan_bytes,
            "uploadsDeleted": self.uploads_deleted,
            "uploadBytes": self.upload_bytes,
            "strayFiles": self.stray_files,
            "bytesFreed": self.bytes_freed,
        }


def collect(
    db: Database,
    storage: Storage,
    *,
    grace: timedelta,
    dry_run: bool = False,
    progress: Progress | None = None,
    record: bool = True,
) -> GcReport:
    """Run one collection (see the module docstring); what it freed, or would free (dry run).

    Recorded in a `gc_runs` row unless `record` is false (fsck plans without writing anything).
    """
    report = GcReport(dry_run=dry_run, grace_seconds=int(grace.total_seconds()))
    if record:
        with db.write() as session:
            run = m.GcRun(dry_run=dry_run, grace_seconds=report.grace_seconds)
            session.add(run)
            session.flush()
            report.run_id = run.id
    collector = _Collector(db, storage, db.clock.now() - grace, report, progress or Silent())
    collector.run()
    if report.run_id is not None:
        _finish(db, report)
    return report


def collect_job(ctx: RegistryContext, job: ClaimedJob) -> None:
    """The periodic job (`gc.interval_seconds`, grace `gc.grace_seconds`)."""
    grace = timedelta(seconds=int(job.payload.get("grace_seconds", 3600)))
    report = collect(ctx.db, ctx.storage, grace=grace)
    log.info(
        "gc run %s: %d blobs, %d orphan files, %d uploads deleted, %d bytes freed",
        report.run_id,
        report.blobs_deleted,
        report.orphan_files,
        report.uploads_deleted,
        report.bytes_freed,
    )


def _finish(db: Database, report: GcReport) -> None:
    with db.write() as session:
        session.execute(
            update(m.GcRun)
            .where(m.GcRun.id == report.run_id)
            .values(
                finished_at=m.utcnow(),
                blobs_deleted=report.blobs_deleted + report.orphan_files,
                bytes_freed=report.bytes_freed,
                uploads_deleted=report.uploads_deleted,
                summary=json.dumps(report.to_json(), sort_keys=True),
            )
        )


def blob_digest(path: str) -> Digest | None:
    """The digest whose blob lives at `path` (`blobs/<alg>/<xx>/<hex>`), or None."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "blobs" or parts[2] != parts[3][:2]:
        return None
    try:
        digest = Digest.parse(f"{parts[1]}:{parts[3]}")
    except InvalidDigest:
        return None
    return digest if blob_path(digest) == path else None


def _batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


@dataclass(frozen=True, slots=True)
class _Verdict:
    digest: str
    size: int
    pruned: tuple[int, ...]  # repositories whose links go
    delete_row: bool


def _candidates(session: Session, cutoff: datetime) -> list[str]:
    """Digests with a link that may be pruned, or with a row that has no link (a plain read)."""
    referenced_here = (
        exists()
        .where(
            m.ManifestBlob.digest == m.RepositoryBlob.digest,
            m.Manifest.id == m.ManifestBlob.manifest_id,
            m.Manifest.repository_id == m.RepositoryBlob.repository_id,
        )
        .correlate(m.RepositoryBlob)
    )
    stale = select(m.RepositoryBlob.digest).where(
        m.RepositoryBlob.created_at < cutoff, ~referenced_here
    )
    linked = exists().where(m.RepositoryBlob.digest == m.Blob.digest).correlate(m.Blob)
    linkless = select(m.Blob.digest).where(~linked)
    return sorted(set(session.scalars(stale)) | set(session.scalars(linkless)))


def _assess(session: Session, digests: Sequence[str], cutoff: datetime) -> list[_Verdict]:
    """What may go among `digests`, read now (under their locks when it is for real)."""
    sizes: dict[str, int] = {
        d: s
        for d, s in session.execute(
            select(m.Blob.digest, m.Blob.size).where(m.Blob.digest.in_(digests))
        )
    }
    links: dict[str, list[tuple[int, datetime]]] = {}
    for repository_id, digest, created_at in session.execute(
        select(
            m.RepositoryBlob.repository_id, m.RepositoryBlob.digest, m.RepositoryBlob.created_at
        ).where(m.RepositoryBlob.digest.in_(digests))
    ):
        links.setdefault(digest, []).append((repository_id, created_at))
    refs = {
        (repository_id, digest)
        for repository_id, digest in session.execute(
            select(m.Manifest.repository_id, m.ManifestBlob.digest)
            .join(m.Manifest, m.Manifest.id == m.ManifestBlob.manifest_id)
            .where(m.ManifestBlob.digest.in_(digests))
        )
    }
    referenced = {digest for _r, digest in refs}
    verdicts = []
    for digest in digests:
        held = links.get(digest, [])
        pruned = tuple(r for r, at in held if at < cutoff and (r, digest) not in refs)
        delete_row = digest in sizes and len(held) == len(pruned) and digest not in referenced
        if pruned or delete_row:
            verdicts.append(_Verdict(digest, sizes.get(digest, 0), pruned, delete_row))
    return verdicts


def _apply(session: Session, verdicts: Iterable[_Verdict]) -> None:
    for verdict in verdicts:
        if verdict.pruned:
            session.execute(
                delete(m.RepositoryBlob).where(
                    m.RepositoryBlob.digest == verdict.digest,
                    m.RepositoryBlob.repository_id.in_(verdict.pruned),
                )
            )
        if verdict.delete_row:
            session.execute(delete(m.Blob).where(m.Blob.digest == verdict.digest))


def repository_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(m.Repository.id, m.Repository.account_id, m.Repository.name).where(
            m.Repository.id.in_(ids)
        )
    )
    return {i: f"{account}/{name}" for i, account, name in rows}


class _Collector:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        cutoff: datetime,
        report: GcReport,
        progress: Progress,
    ) -> None:
        self.db = db
        self.storage = storage
        self.cutoff = cutoff
        self.report = report
        self.dry_run = report.dry_run
        self.progress = progress

    def run(self) -> None:
        self.sweep_uploads()
        self.sweep_blobs()
        self.sweep_orphan_files()
        self.sweep_upload_leftovers()

    @contextlib.contextmanager
    def _unit(self, digests: Iterable[str] = ()) -> Iterator[Session]:
        """A write unit of work holding the blobs' locks; a read one in a dry run."""
        if self.dry_run:
            with self.db.read() as session:
                yield session
            return
        with self.db.write() as session:
            lock_blobs(session, digests)
            yield session

    def _delete(self, path: str) -> None:
        with contextlib.suppress(PathNotFound):
            self.storage.delete(path)

    def _delete_upload(self, path: str) -> None:
        """Delete an upload's directory; a chunk still being written to a session deleted
        meanwhile can re-create its file mid-way: the directory is left for the next run."""
        try:
            self._delete(path)
        except StorageError as exc:
            log.warning("gc: %s stays until the next run: %s", path, exc)

    def _note(self, kind: str, subject: str, size: int, detail: str = "") -> None:
        if self.dry_run:
            self.report.items.append(Garbage(kind, subject, size, detail))

    # --- blobs: prune links, delete rows, then files ------------------------------------------
    def sweep_blobs(self) -> None:
        with self.db.read() as session:
            digests = _candidates(session, self.cutoff)
        self.progress.phase("unreferenced blobs", len(digests))
        for batch in _batches(digests):
            self._delete_files(self._prune(batch))
            self.progress.advance(len(batch))

    def _prune(self, batch: Sequence[str]) -> list[_Verdict]:
        """Step 1: re-check under the locks, delete stale links and unneeded rows; commit."""
        with self._unit(batch) as session:
            verdicts = _assess(session, batch, self.cutoff)
            names = repository_names(session, {r for v in verdicts for r in v.pruned})
            if not self.dry_run:
                _apply(session, verdicts)
        for verdict in verdicts:
            for repository_id in verdict.pruned:
                name = names.get(repository_id, f"repository #{repository_id}")
                freed = self.report.repositories.setdefault(name, Freed())
                freed.blobs += 1
                freed.bytes += verdict.size
                self._note("link", f"{name}@{verdict.digest}", verdict.size)
            if verdict.delete_row:
                self.report.blobs_deleted += 1
                self.report.blob_bytes += verdict.size
                self._note("blob", verdict.digest, verdict.size)
        return [v for v in verdicts if v.delete_row]

    def _delete_files(self, verdicts: Sequence[_Verdict]) -> None:
        """Step 2: delete the files of the rows deleted, unless a row came back meanwhile."""
        if self.dry_run or not verdicts:
            return
        digests = [v.digest for v in verdicts]
        with self._unit(digests) as session:
            back = set(session.scalars(select(m.Blob.digest).where(m.Blob.digest.in_(digests))))
            for digest in digests:
                if digest not in back:
                    self._delete(blob_path(Digest.parse(digest)))

    # --- files without rows (a crash between steps 1 and 2) -----------------------------------
    def sweep_orphan_files(self) -> None:
        self.progress.phase("blob store", None)
        batch: list[tuple[Digest, FileInfo]] = []
        for info in self.storage.walk("blobs"):
            self.progress.advance()
            digest = blob_digest(info.path)
            if digest is None:
                self.report.stray_files += 1
                self._note("stray", info.path, info.size, "not a blob (left alone)")
            elif info.modified_at < self.cutoff:
                batch.append((digest, info))
            if len(batch) >= BATCH:
                self._sweep_files(batch)
                batch = []
        if batch:
            self._sweep_files(batch)

    def _sweep_files(self, batch: Sequence[tuple[Digest, FileInfo]]) -> None:
        files = {str(digest): info for digest, info in batch}
        with self._unit(files) as session:
            known = set(session.scalars(select(m.Blob.digest).where(m.Blob.digest.in_(files))))
            for digest, info in files.items():
                if digest in known:
                    continue
                if not self.dry_run:
                    self._delete(info.path)
                self.report.orphan_files += 1
                self.report.orphan_bytes += info.size
                self._note("file", info.path, info.size, "no blobs row")

    # --- upload sessions ----------------------------------------------------------------------
    def sweep_uploads(self) -> None:
        with self.db.read() as session:
            ids = list(
                session.scalars(
                    select(m.Upload.id)
                    .where(m.Upload.updated_at < self.cutoff)
                    .order_by(m.Upload.id)
                )
            )
        self.progress.phase("idle uploads", len(ids))
        for batch in _batches(ids):
            idle = {i: size for i in batch if (size := self._idle_size(i)) is not None}
            for upload_id in self._delete_upload_rows(list(idle)):
                if not self.dry_run:
                    self._delete_upload(upload_dir(upload_id))
                self.report.uploads_deleted += 1
                self.report.upload_bytes += idle[upload_id]
                self._note("upload", upload_id, idle[upload_id], "idle session")
            self.progress.advance(len(batch))

    def _idle_size(self, upload_id: str) -> int | None:
        """The bytes of an upload whose data was not written since the cutoff; None if it was."""
        try:
            info = self.storage.stat(upload_path(upload_id))
        except PathNotFound:
            return 0
        return info.size if info.modified_at < self.cutoff else None

    def _delete_upload_rows(self, ids: list[str]) -> list[str]:
        """Delete the rows still idle (re-checked in the statement); the ids deleted."""
        if not ids or self.dry_run:
            return ids
        with self.db.write() as session:
            result = session.execute(
                delete(m.Upload)
                .where(m.Upload.id.in_(ids), m.Upload.updated_at < self.cutoff)
                .returning(m.Upload.id)
            )
            return sorted(result.scalars())

    def sweep_upload_leftovers(self) -> None:
        """Upload directories without a row (a crash, or a session deleted mid-chunk)."""
        children = self.storage.list("uploads")
        self.progress.phase("upload leftovers", len(children))
        for batch in _batches(children):
            dirs = {path.rsplit("/", 1)[-1]: path for path in batch}
            with self.db.read() as session:
                rows = set(session.scalars(select(m.Upload.id).where(m.Upload.id.in_(dirs))))
            for upload_id, path in dirs.items():
                size = None if upload_id in rows else self._idle_tree(path)
                if size is not None:
                    self._delete_leftover(upload_id, path, size)
            self.progress.advance(len(batch))

    def _idle_tree(self, path: str) -> int | None:
        size = 0
        for info in self.storage.walk(path):
            if info.modified_at >= self.cutoff:
                return None
            size += info.size
        return size

    def _delete_leftover(self, upload_id: str, path: str, size: int) -> None:
        with self._unit() as session:
            if session.get(m.Upload, upload_id) is not None:
                return  # started meanwhile
            if not self.dry_run:
                self._delete_upload(path)
        self.report.uploads_deleted += 1
        self.report.upload_bytes += size
        self._note("upload-dir", path, size, "no upload row")
