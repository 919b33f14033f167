"""fsck: check that the metadata and the blob store agree, and report garbage. Read-only.

Damage (exit status bit 4):
- a `blobs` row whose file is missing, has another size, or does not hash to the digest;
- a manifest whose stored bytes do not hash to its digest, that needs a blob without a row or not
  linked to its repository, or an index listing a child manifest its repository lacks;
- a file in the blob store that is not a blob (a name outside the layout).

Garbage (exit status bit 1): what `stiva gc` with the same grace period would delete now (its
dry run, by construction the same rules): links no manifest of their repository references,
rows without links, files without rows, idle upload sessions, upload directories without a row.

Safe beside a running server and collector: blob rows and manifests are read a page at a time,
each page in one read unit of work (one snapshot); a blob whose file looks missing or wrong is
reported only if its row still exists afterwards (a collector may have deleted both meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stiva.errors import InvalidDigest
from stiva.metadata import models as m
from stiva.metadata.database import Database
from stiva.oci.digest import Digest, new_hasher
from stiva.services import gc
from stiva.storage.base import Storage
from stiva.storage.driver import PathNotFound
from stiva.storage.layout import blob_path

PAGE = 500
READ_CHUNK = 1024 * 1024
EXIT_GARBAGE = 1
EXIT_DAMAGE = 4
DAMAGE, GARBAGE = "damage", "garbage"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str  # damage | garbage
    kind: str
    subject: str
    detail: str


@dataclass(slots=True)
class FsckReport:
    grace_seconds: int
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: str, kind: str, subject: str, detail: str) -> None:
        self.findings.append(Finding(severity, kind, subject, detail))

    @property
    def damage(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == DAMAGE]

    @property
    def garbage(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == GARBAGE]

    @property
    def exit_code(self) -> int:
        """0 when clean; bit 1: garbage past the grace period; bit 4: damage."""
        return (EXIT_DAMAGE if self.damage else 0) | (EXIT_GARBAGE if self.garbage else 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "graceSeconds": self.grace_seconds,
            "checked": self.checked,
            "findings": [
                {"severity": f.severity, "kind": f.kind, "subject": f.subject, "detail": f.detail}
                for f in self.findings
            ],
            "exitCode": self.exit_code,
        }


def fsck(
    db: Database,
    storage: Storage,
    *,
    grace: timedelta,
    verify_digests: bool = True,
    progress: gc.Progress | None = None,
) -> FsckReport:
    """Check everything (see the module docstring); the findings and what was checked."""
    shown = progress or gc.Silent()
    report = FsckReport(grace_seconds=int(grace.total_seconds()))
    _check_blobs(db, storage, report, verify_digests, shown)
    _check_manifests(db, report, shown)
    plan = gc.collect(db, storage, grace=grace, dry_run=True, record=False, progress=shown)
    for item in plan.items:
        severity = DAMAGE if item.kind == "stray" else GARBAGE
        detail = item.detail or f"{item.size} bytes"
        report.add(severity, f"{item.kind}", item.subject, detail)
    return report


# --- blobs: every row has its file, of its size and digest --------------------------------------
def _blob_pages(db: Database) -> Iterator[list[tuple[str, int]]]:
    after = ""
    while True:
        with db.read() as session:
            rows = session.execute(
                select(m.Blob.digest, m.Blob.size)
                .where(m.Blob.digest > after)
                .order_by(m.Blob.digest)
                .limit(PAGE)
            ).all()
        if not rows:
            return
        yield [(digest, size) for digest, size in rows]
        after = rows[-1][0]


def _check_blobs(
    db: Database, storage: Storage, report: FsckReport, verify: bool, progress: gc.Progress
) -> None:
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(m.Blob)) or 0
    progress.phase("blobs (hashing)" if verify else "blobs", total)
    checked = 0
    for page in _blob_pages(db):
        for digest, size in page:
            problem = _blob_problem(storage, digest, size, verify)
            if problem is not None and _still_there(db, digest):
                report.add(DAMAGE, problem[0], digest, problem[1])
            checked += 1
            progress.advance()
    report.checked["blobs"] = checked


def _blob_problem(storage: Storage, text: str, size: int, verify: bool) -> tuple[str, str] | None:
    try:
        digest = Digest.parse(text)
    except InvalidDigest as exc:
        return "bad-digest", exc.message
    path = blob_path(digest)
    try:
        info = storage.stat(path)
    except PathNotFound:
        return "missing-file", f"no file at {path}"
    if info.size != size:
        return "size-mismatch", f"{path} holds {info.size} bytes, the row says {size}"
    if verify:
        actual = _hash(storage, path, digest.algorithm)
        if actual is None:
            return "missing-file", f"no file at {path}"
        if actual != digest:
            return "digest-mismatch", f"{path} hashes to {actual}"
    return None


def _hash(storage: Storage, path: str, algorithm: str) -> Digest | None:
    hasher = new_hasher(algorithm)
    try:
        stream = storage.open_read(path)
    except PathNotFound:
        return None
    with stream:
        while chunk := stream.read(READ_CHUNK):
            hasher.update(chunk)
    return Digest(algorithm, hasher.hexdigest())


def _still_there(db: Database, digest: str) -> bool:
    with db.read() as session:
        return session.get(m.Blob, digest) is not None


# --- manifests: their blobs exist and are linked, their children exist --------------------------
def _manifest_pages(db: Database, report: FsckReport) -> Iterator[int]:
    """Check the manifests a page at a time; yields how many each page held."""
    after = 0
    while True:
        with db.read() as session:
            rows = session.execute(
                select(
                    m.Manifest.id, m.Manifest.repository_id, m.Manifest.digest, m.Manifest.content
                )
                .where(m.Manifest.id > after)
                .order_by(m.Manifest.id)
                .limit(PAGE)
            ).all()
            if not rows:
                return
            _check_page(session, report, [(i, r, d, c) for i, r, d, c in rows])
        after = rows[-1][0]
        yield len(rows)


def _check_manifests(db: Database, report: FsckReport, progress: gc.Progress) -> None:
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(m.Manifest)) or 0
    progress.phase("manifests", total)
    checked = 0
    for count in _manifest_pages(db, report):
        checked += count
        progress.advance(count)
    report.checked["manifests"] = checked


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a page of manifests needs, and what of it exists (read in one snapshot)."""

    names: dict[int, str]
    needs: dict[int, set[str]]  # manifest id -> blob digests
    children: dict[int, set[str]]  # manifest id -> child manifest digests
    blobs: set[str]
    links: set[tuple[int, str]]
    manifests: set[tuple[int, str]]


def _facts(session: Session, rows: list[tuple[int, int, str, bytes]]) -> _Facts:
    ids = [row[0] for row in rows]
    needs = _pairs(
        session.execute(
            select(m.ManifestBlob.manifest_id, m.ManifestBlob.digest).where(
                m.ManifestBlob.manifest_id.in_(ids)
            )
        )
    )
    children = _pairs(
        session.execute(
            select(m.ManifestChild.parent_id, m.ManifestChild.child_digest).where(
                m.ManifestChild.parent_id.in_(ids)
            )
        )
    )
    wanted = {d for ds in needs.values() for d in ds}
    kids = {d for ds in children.values() for d in ds}
    link_rows = session.execute(
        select(m.RepositoryBlob.repository_id, m.RepositoryBlob.digest).where(
            m.RepositoryBlob.digest.in_(wanted)
        )
    )
    manifest_rows = session.execute(
        select(m.Manifest.repository_id, m.Manifest.digest).where(m.Manifest.digest.in_(kids))
    )
    return _Facts(
        names=gc.repository_names(session, {row[1] for row in rows}),
        needs=needs,
        children=children,
        blobs=set(session.scalars(select(m.Blob.digest).where(m.Blob.digest.in_(wanted)))),
        links={(r, d) for r, d in link_rows},
        manifests={(r, d) for r, d in manifest_rows},
    )


def _check_page(
    session: Session, report: FsckReport, rows: list[tuple[int, int, str, bytes]]
) -> None:
    """One page of manifests, in one snapshot."""
    facts = _facts(session, rows)
    for manifest_id, repository_id, digest, content in rows:
        subject = f"{facts.names.get(repository_id, repository_id)}@{digest}"
        _check_content(report, subject, digest, content)
        for need in sorted(facts.needs.get(manifest_id, ())):
            if need not in facts.blobs:
                report.add(DAMAGE, "missing-blob", subject, f"needs {need}, which has no row")
            elif (repository_id, need) not in facts.links:
                report.add(DAMAGE, "unlinked-blob", subject, f"needs {need}, not linked here")
        for child in sorted(facts.children.get(manifest_id, ())):
            if (repository_id, child) not in facts.manifests:
                report.add(DAMAGE, "missing-child", subject, f"lists {child}, absent here")


def _pairs(rows: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for key, digest in rows:
        found.setdefault(key, set()).add(digest)
    return found


def _check_content(report: FsckReport, subject: str, digest: str, content: bytes) -> None:
    try:
        expected = Digest.parse(digest)
    except InvalidDigest as exc:
        report.add(DAMAGE, "bad-digest", subject, exc.message)
        return
    if Digest.of(content, expected.algorithm) != expected:
        report.add(DAMAGE, "manifest-digest", subject, "its stored bytes hash differently")
