"""The queries of garbage collection's blob sweep (see the SAFETY INVARIANT at the top of
`services.gc`): candidates from a plain read, then, under the batch's blob locks, what may go
(`assess`, read again) and deleting it (`apply_verdicts`). `services.gc` re-exports
`repository_names`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from stiva.metadata import models as m


@dataclass(frozen=True, slots=True)
class Verdict:
    digest: str
    size: int
    pruned: tuple[int, ...]  # repositories whose links go
    delete_row: bool


def candidates(session: Session, cutoff: datetime) -> list[str]:
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


def assess(session: Session, digests: Sequence[str], cutoff: datetime) -> list[Verdict]:
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
            verdicts.append(Verdict(digest, sizes.get(digest, 0), pruned, delete_row))
    return verdicts


def apply_verdicts(session: Session, verdicts: Iterable[Verdict]) -> None:
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
