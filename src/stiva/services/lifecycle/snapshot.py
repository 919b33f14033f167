"""A repository's images as the evaluator sees them, and what deleting some would free.

`repository_images` builds `stiva.lifecycle.evaluate.Image`s from the manifests of one
repository: tags, push / pull / archive / restore times, status, the live indexes that list
each image (`parents`: an index that still exists protects its children, whatever its status,
as `manifests.delete_manifest` refuses to break it) and the OCI subject. An image being
restored (ACTIVATING; Stiva restores at once, so none should exist) counts as ACTIVE: leaving it
out would make its referrers look orphaned.

`bytes_freed` answers "how much would the blob store shrink?": blobs are content-addressed and
shared by every repository of every account, so a blob counts only when no surviving manifest,
anywhere in the deployment, uses it, and counts once however many deleted images used it.
Manifests themselves live in the database and are not counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from stiva.lifecycle.evaluate import Image
from stiva.metadata import models as m
from stiva.services.manifests import ARCHIVED

CHUNK = 500  # bound parameters per IN (...) list
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Freed:
    blobs: int
    bytes: int


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _tags(session: Session, repository_id: int) -> dict[int, tuple[str, ...]]:
    tags: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(m.ImageTag.manifest_id, m.ImageTag.name)
        .where(m.ImageTag.repository_id == repository_id)
        .order_by(m.ImageTag.name)
    )
    for manifest_id, name in rows:
        tags[manifest_id].append(name)
    return {k: tuple(v) for k, v in tags.items()}


def _parents(session: Session, repository_id: int) -> dict[str, tuple[str, ...]]:
    """{child digest: digests of the indexes in the repository that list it}."""
    parent = aliased(m.Manifest)
    parents: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(m.ManifestChild.child_digest, parent.digest)
        .join(parent, parent.id == m.ManifestChild.parent_id)
        .where(parent.repository_id == repository_id)
        .order_by(parent.digest)
    )
    for child, index in rows:
        parents[child].append(index)
    return {k: tuple(v) for k, v in parents.items()}


def repository_images(session: Session, *, repository_id: int) -> list[Image]:
    """Every image of the repository, oldest push first."""
    tags = _tags(session, repository_id)
    parents = _parents(session, repository_id)
    rows = session.scalars(
        select(m.Manifest)
        .where(m.Manifest.repository_id == repository_id)
        .order_by(m.Manifest.pushed_at, m.Manifest.id)
    )
    return [
        Image(
            digest=row.digest,
            tags=tags.get(row.id, ()),
            pushed_at=row.pushed_at,
            last_pulled_at=row.last_pulled_at,
            status="ARCHIVED" if row.image_status == ARCHIVED else "ACTIVE",
            last_archived_at=row.last_archived_at,
            last_activated_at=row.last_activated_at,
            parents=parents.get(row.digest, ()),
            subject=row.subject_digest,
        )
        for row in rows
    ]


def _manifest_ids(session: Session, repository_id: int, digests: Collection[str]) -> set[int]:
    ids: set[int] = set()
    for part in chunks(sorted(digests)):
        ids.update(
            session.scalars(
                select(m.Manifest.id).where(
                    m.Manifest.repository_id == repository_id, m.Manifest.digest.in_(part)
                )
            )
        )
    return ids


def bytes_freed(session: Session, *, repository_id: int, digests: Collection[str]) -> Freed:
    """The blobs (count, bytes) only the images `digests` of the repository use.

    A blob is freed when every manifest referencing it is one of those images: its references
    among them (counted from their side) equal its references everywhere.
    """
    doomed = _manifest_ids(session, repository_id, digests)
    doomed_refs: Counter[str] = Counter()
    for part in chunks(sorted(doomed)):
        doomed_refs.update(
            session.scalars(
                select(m.ManifestBlob.digest).where(m.ManifestBlob.manifest_id.in_(part))
            )
        )
    freed: list[str] = []
    for blobs in chunks(sorted(doomed_refs)):
        rows = session.execute(
            select(m.ManifestBlob.digest, func.count())
            .where(m.ManifestBlob.digest.in_(blobs))
            .group_by(m.ManifestBlob.digest)
        )
        freed.extend(digest for digest, refs in rows if refs == doomed_refs[digest])
    total = 0
    for blobs in chunks(freed):
        total += sum(session.scalars(select(m.Blob.size).where(m.Blob.digest.in_(blobs))))
    return Freed(len(freed), total)
