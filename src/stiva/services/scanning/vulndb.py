"""The vulnerability database: OSV records imported from files, indexed by (ecosystem, package).

Each record is stored once per source as canonical JSON (`vuln_records`), with the pairs
`stiva.scanning.osv.index_keys` gives for it (`vuln_record_keys`). Imports run beside a live
server: every batch of `BATCH` records is one short unit of work, so pushes and scans wait at
most one batch. An import is incremental and idempotent:

- a record whose canonical JSON is unchanged is left alone (a second import writes nothing);
- a changed record replaces the stored one, unless it is older (`modified`) than it;
- a withdrawn record is kept, marked withdrawn, and never matches again;
- with `prune`, records a source no longer holds are deleted (for complete snapshots such as
  osv.dev's all.zip or a secdb document; a directory of updates must not be pruned).

When anything changed, the source's `updated_at` moves (ECR's `vulnerabilitySourceUpdatedAt`)
and a continuous pass is queued (`queue.enqueue_continuous`), in the same unit of work.
Records that are not valid OSV (no id, unreadable files, array items that are not objects, a
document that is not what its name says) are counted and skipped, with the source's `problems`
in the report. A source is created with its first valid record: one that holds none is reported
but leaves nothing behind. A record without `modified` (secdb's) is never "older" than another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.metadata.database import Database
from stiva.scanning.errors import InvalidAdvisory
from stiva.scanning.osv import index_keys, parse_osv
from stiva.services.scanning import queue
from stiva.services.scanning.vulndb_files import Source

BATCH = 500


@dataclass(frozen=True, slots=True)
class Prepared:
    record_id: str
    modified: str
    withdrawn: bool
    digest: str
    document: str
    keys: tuple[tuple[str, str], ...]


@dataclass
class SourceReport:
    name: str
    kind: str
    location: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    invalid: int = 0
    records: int = 0
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set, repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_json(self) -> dict[str, Any]:
        keys = ("name", "kind", "location", "added", "updated", "unchanged", "removed")
        doc = {key: getattr(self, key) for key in (*keys, "invalid", "records", "withdrawn")}
        return doc | ({"problems": list(self.problems)} if self.problems else {})


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    kind: str
    location: str
    records: int
    withdrawn: int
    last_modified: str | None
    imported_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "location": self.location,
            "records": self.records,
            "withdrawn": self.withdrawn,
            "lastModified": self.last_modified,
            "importedAt": self.imported_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
        }


def prepare(record: dict[str, Any]) -> Prepared | None:
    """The stored form of a record; None when it is not valid OSV."""
    try:
        advisory = parse_osv(record)
    except InvalidAdvisory:
        return None
    document = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return Prepared(
        record_id=advisory.id,
        modified=advisory.modified,
        withdrawn=advisory.is_withdrawn,
        digest=hashlib.sha256(document.encode()).hexdigest(),
        document=document,
        keys=tuple(index_keys(advisory)),
    )


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_older(candidate: str, stored: str) -> bool:
    """Whether `candidate` (an OSV `modified`) is strictly before `stored`; an unknown (empty)
    `modified` is not."""
    if not candidate:
        return False
    a, b = _instant(candidate), _instant(stored)
    if a is not None and b is not None and (a.tzinfo is None) == (b.tzinfo is None):
        return a < b
    return candidate < stored


def _source_id(session: Session, name: str) -> int | None:
    return session.scalar(select(m.VulnSource.id).where(m.VulnSource.name == name))


def _ensure_source(session: Session, source: Source, now: datetime) -> int:
    found = _source_id(session, source.name)
    if found is not None:
        return found
    row = m.VulnSource(
        name=source.name,
        kind=source.kind,
        location=source.location,
        imported_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _key_rows(pairs: Iterable[tuple[int, Prepared]]) -> list[dict[str, Any]]:
    return [
        {"record_id": pk, "ecosystem": ecosystem, "name": name}
        for pk, item in pairs
        for ecosystem, name in item.keys
    ]


def _insert(session: Session, source_id: int, items: list[Prepared], now: datetime) -> None:
    """Insert new records and their keys: two statements, whatever the batch size."""
    if not items:
        return
    rows = [
        {
            "source_id": source_id,
            "record_id": item.record_id,
            "modified": item.modified,
            "withdrawn": item.withdrawn,
            "digest": item.digest,
            "document": item.document,
            "updated_at": now,
        }
        for item in items
    ]
    statement = insert(m.VulnRecord).returning(m.VulnRecord.id, m.VulnRecord.record_id)
    ids = {record_id: pk for pk, record_id in session.execute(statement, rows)}
    keys = _key_rows((ids[item.record_id], item) for item in items)
    if keys:
        session.execute(insert(m.VulnRecordKey), keys)


def _replace(session: Session, pairs: list[tuple[m.VulnRecord, Prepared]], now: datetime) -> None:
    if not pairs:
        return
    for row, item in pairs:
        row.modified, row.withdrawn, row.digest = item.modified, item.withdrawn, item.digest
        row.document, row.updated_at = item.document, now
    session.flush()
    pks = [row.id for row, _item in pairs]
    session.execute(delete(m.VulnRecordKey).where(m.VulnRecordKey.record_id.in_(pks)))
    keys = _key_rows((row.id, item) for row, item in pairs)
    if keys:
        session.execute(insert(m.VulnRecordKey), keys)


def store_batch(
    session: Session, *, source_id: int, batch: list[Prepared], report: SourceReport, now: datetime
) -> None:
    """Insert, replace or leave each record of the batch; counts go to `report`."""
    latest = {item.record_id: item for item in batch}
    existing = {
        row.record_id: row
        for row in session.scalars(
            select(m.VulnRecord).where(
                m.VulnRecord.source_id == source_id, m.VulnRecord.record_id.in_(list(latest))
            )
        )
    }
    new: list[Prepared] = []
    changed: list[tuple[m.VulnRecord, Prepared]] = []
    for record_id, item in latest.items():
        row = existing.get(record_id)
        if row is None:
            new.append(item)
        elif row.digest == item.digest or is_older(item.modified, row.modified):
            report.unchanged += 1
        else:
            changed.append((row, item))
    _insert(session, source_id, new, now)
    _replace(session, changed, now)
    report.added += len(new)
    report.updated += len(changed)


def _batches(records: Iterator[dict[str, Any]], report: SourceReport) -> Iterator[list[Prepared]]:
    while chunk := list(islice(records, BATCH)):
        batch = []
        for record in chunk:
            item = prepare(record)
            if item is None:
                report.invalid += 1
            else:
                report.seen.add(item.record_id)
                batch.append(item)
        yield batch


def _prune(session: Session, source_id: int, keep: set[str]) -> int:
    stored = session.scalars(
        select(m.VulnRecord.record_id).where(m.VulnRecord.source_id == source_id)
    )
    gone = [record_id for record_id in stored if record_id not in keep]
    for start in range(0, len(gone), BATCH):
        session.execute(
            delete(m.VulnRecord).where(
                m.VulnRecord.source_id == source_id,
                m.VulnRecord.record_id.in_(gone[start : start + BATCH]),
            )
        )
    return len(gone)


def _finish(session: Session, source_id: int, report: SourceReport, now: datetime) -> None:
    row = session.get(m.VulnSource, source_id)
    assert row is not None
    count, withdrawn, newest = session.execute(
        select(
            func.count(m.VulnRecord.id),
            func.count(m.VulnRecord.id).filter(m.VulnRecord.withdrawn.is_(True)),
            func.max(m.VulnRecord.modified),
        ).where(m.VulnRecord.source_id == source_id)
    ).one()
    row.record_count, row.withdrawn_count, row.last_modified = count, withdrawn, newest or None
    row.location, row.imported_at = report.location, now
    report.records, report.withdrawn = count, withdrawn
    if report.changed:
        row.updated_at = now
        queue.enqueue_continuous(session)


def import_source(
    db: Database, source: Source, *, prune: bool = False, now: Callable[[], datetime]
) -> SourceReport:
    """Import one source, a unit of work per batch; see the module docstring."""
    report = SourceReport(source.name, source.kind, source.location)
    report.problems += source.problems
    with db.read() as session:
        source_id = _source_id(session, source.name)
    for batch in _batches(source.records(), report):
        if not batch:
            continue  # every record of it invalid
        with db.write() as session:
            if source_id is None:
                source_id = _ensure_source(session, source, now())
            store_batch(session, source_id=source_id, batch=batch, report=report, now=now())
    if source_id is None:
        return report  # nothing valid, and nothing stored before: no source
    with db.write() as session:
        if prune:
            report.removed = _prune(session, source_id, report.seen)
        _finish(session, source_id, report, now())
    return report


def status(session: Session) -> list[SourceStatus]:
    """Every source: record counts and when it was last imported and last changed."""
    rows = session.scalars(select(m.VulnSource).order_by(m.VulnSource.name))
    return [
        SourceStatus(
            r.name,
            r.kind,
            r.location,
            r.record_count,
            r.withdrawn_count,
            r.last_modified,
            r.imported_at,
            r.updated_at,
        )
        for r in rows
    ]


def source_updated_at(session: Session) -> datetime | None:
    """When the database last changed (ECR's vulnerabilitySourceUpdatedAt)."""
    return session.scalar(select(func.max(m.VulnSource.updated_at)))
