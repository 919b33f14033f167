"""One garbage collection run (see the SAFETY INVARIANT at the top of `services.gc`): what it
reports, how it shows progress, and `Sweeper`, the state and helpers its sweeps share (units of
work holding the blobs' locks, batches, deleting files, noting what a dry run would delete).

`services.gc` re-exports the report and progress types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from stiva.metadata.database import Database
from stiva.metadata.dialect import lock_blobs
from stiva.storage.base import Storage
from stiva.storage.driver import PathNotFound

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


def batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


class Sweeper:
    """The state of one collection and what its sweeps share (`gc._Collector` runs them)."""

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

    def _note(self, kind: str, subject: str, size: int, detail: str = "") -> None:
        if self.dry_run:
            self.report.items.append(Garbage(kind, subject, size, detail))
