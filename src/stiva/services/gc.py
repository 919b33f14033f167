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
   (On object stores completion copies verified bytes into place beforehand, unlocked
   (`Uploads.stage`): such a copy is a file without a row, which a collection may delete; the
   completion's check under the lock then finds it gone and moves the upload's bytes, which
   stay until that commit.)
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

import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update

from stiva.errors import InvalidDigest
from stiva.metadata import models as m
from stiva.metadata.database import Database
from stiva.oci.digest import Digest
from stiva.services.context import RegistryContext
from stiva.services.gc_queries import Verdict, apply_verdicts, assess, candidates, repository_names
from stiva.services.gc_run import BATCH, Freed, Garbage, GcReport, Progress, Silent, batches
from stiva.services.gc_uploads import UploadSweeps
from stiva.services.jobs import ClaimedJob
from stiva.storage.base import Storage
from stiva.storage.driver import FileInfo
from stiva.storage.layout import blob_path

__all__ = [
    "BATCH",
    "JOB_KIND",
    "Freed",
    "Garbage",
    "GcReport",
    "Progress",
    "Silent",
    "blob_digest",
    "collect",
    "collect_job",
    "repository_names",
]

log = logging.getLogger(__name__)
JOB_KIND = "gc"


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


class _Collector(UploadSweeps):
    """One collection: idle uploads, blobs, orphan files, then upload leftovers, in that order
    (`run`); the blob sweeps are here, the upload sweeps in `services.gc_uploads`."""

    def run(self) -> None:
        self.sweep_uploads()
        self.sweep_blobs()
        self.sweep_orphan_files()
        self.sweep_upload_leftovers()

    # --- blobs: prune links, delete rows, then files ------------------------------------------
    def sweep_blobs(self) -> None:
        with self.db.read() as session:
            digests = candidates(session, self.cutoff)
        self.progress.phase("unreferenced blobs", len(digests))
        for batch in batches(digests):
            self._delete_files(self._prune(batch))
            self.progress.advance(len(batch))

    def _prune(self, batch: Sequence[str]) -> list[Verdict]:
        """Step 1: re-check under the locks, delete stale links and unneeded rows; commit."""
        with self._unit(batch) as session:
            verdicts = assess(session, batch, self.cutoff)
            names = repository_names(session, {r for v in verdicts for r in v.pruned})
            if not self.dry_run:
                apply_verdicts(session, verdicts)
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

    def _delete_files(self, verdicts: Sequence[Verdict]) -> None:
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
