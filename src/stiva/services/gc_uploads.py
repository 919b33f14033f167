"""Garbage collection's upload sweeps (see the SAFETY INVARIANT at the top of `services.gc`).

Idle upload sessions go row first (the DELETE re-checks `updated_at`), then their data; upload
directories left without a row (a crash, or a session deleted mid-chunk) go under a unit of work
that checks the row is still absent. `UploadSweeps` is a base of gc's collector.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from stiva.metadata import models as m
from stiva.services.gc_run import Sweeper, batches
from stiva.storage.driver import PathNotFound, StorageError
from stiva.storage.layout import upload_dir, upload_path

log = logging.getLogger("stiva.services.gc")  # the collection's logger, wherever the sweep is


class UploadSweeps(Sweeper):
    """The upload-session sweeps of a collection (`gc._Collector` runs them)."""

    def _delete_upload(self, path: str) -> None:
        """Delete an upload's directory; a chunk still being written to a session deleted
        meanwhile can re-create its file mid-way: the directory is left for the next run."""
        try:
            self._delete(path)
        except StorageError as exc:
            log.warning("gc: %s stays until the next run: %s", path, exc)

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
        for batch in batches(ids):
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
        for batch in batches(children):
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
