"""What delivering an image carries, in the order a destination accepts it.

An index's children come before the index (a registry refuses an index whose children it
lacks), then the image, then its referrers (signatures, SBOMs: OCI `subject`), each referrer
with its own children first. Every manifest keeps its exact bytes, so digests are preserved.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m


@dataclass(frozen=True, slots=True)
class Item:
    digest: str
    media_type: str
    content: bytes
    blobs: tuple[tuple[str, int], ...]  # (digest, size) of config and layers


@dataclass(frozen=True, slots=True)
class Plan:
    digest: str
    items: tuple[Item, ...]  # in push order
    tags: tuple[str, ...]  # the image's tags at the source now

    @property
    def blob_bytes(self) -> int:
        return sum(size for item in self.items for _d, size in item.blobs)


def build_plan(session: Session, *, repository_id: int, digest: str) -> Plan | None:
    """The plan for `digest` in the repository; None when the image is no longer there."""
    root = _row(session, repository_id, digest)
    if root is None:
        return None
    ordered: list[Item] = []
    seen: set[str] = set()

    def visit(row: m.Manifest) -> None:
        if row.digest in seen:
            return
        seen.add(row.digest)
        for child_digest in session.scalars(
            select(m.ManifestChild.child_digest).where(m.ManifestChild.parent_id == row.id)
        ):
            child = _row(session, repository_id, child_digest)
            if child is not None:
                visit(child)
        ordered.append(_item(session, row))
        referrers = session.scalars(
            select(m.Manifest)
            .where(
                m.Manifest.repository_id == repository_id, m.Manifest.subject_digest == row.digest
            )
            .order_by(m.Manifest.id)
        )
        for referrer in list(referrers):
            visit(referrer)

    visit(root)
    tags = session.scalars(
        select(m.ImageTag.name).where(m.ImageTag.manifest_id == root.id).order_by(m.ImageTag.name)
    )
    return Plan(digest=digest, items=tuple(ordered), tags=tuple(tags))


def _row(session: Session, repository_id: int, digest: str) -> m.Manifest | None:
    return session.scalars(
        select(m.Manifest).where(
            m.Manifest.repository_id == repository_id, m.Manifest.digest == digest
        )
    ).first()


def _item(session: Session, row: m.Manifest) -> Item:
    blobs = session.execute(
        select(m.Blob.digest, m.Blob.size)
        .join(m.ManifestBlob, m.ManifestBlob.digest == m.Blob.digest)
        .where(m.ManifestBlob.manifest_id == row.id)
        .order_by(m.Blob.digest)
    )
    return Item(
        digest=row.digest,
        media_type=row.media_type,
        content=bytes(row.content),
        blobs=tuple((d, int(s)) for d, s in blobs),
    )
