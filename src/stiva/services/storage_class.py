"""The storage class of images: their statuses, and archiving or restoring them.

An image is ACTIVE (pullable), ARCHIVED, or ACTIVATING while a restore runs. Archiving or
restoring an image carries along what it is made of and what refers to it
(`storage_class_closure`); `set_storage_status` moves the images found and stamps the time.
`services.manifests` re-exports all of these.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from stiva.metadata import models as m

ACTIVE, ARCHIVED, ACTIVATING = "ACTIVE", "ARCHIVED", "ACTIVATING"


def storage_class_closure(
    session: Session, *, repository_id: int, manifest_id: int, archiving: bool
) -> set[int]:
    """The images a change of `manifest_id`'s storage class carries along, itself included.

    An index takes its children and every image takes its referrers (OCI `subject`), both
    recursively, as ECR archives and restores artifacts with their subject. Archiving takes only
    ACTIVE images and leaves out a child another ACTIVE index still lists; restoring takes only
    images that are not ACTIVE.
    """
    members, frontier = {manifest_id}, {manifest_id}
    while frontier:
        linked = _linked(session, repository_id, frontier)
        if archiving:
            candidates = {i: d for i, (d, s) in linked.items() if s == ACTIVE}
            shared = _listed_elsewhere(session, repository_id, candidates.values(), members)
            found = {i for i, d in candidates.items() if d not in shared}
        else:
            found = {i for i, (_d, s) in linked.items() if s != ACTIVE}
        frontier = found - members
        members |= frontier
    return members


def _linked(session: Session, repository_id: int, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Children and referrers of the manifests `ids`: {id: (digest, status)}."""
    child, parent = aliased(m.Manifest), aliased(m.Manifest)
    children = session.execute(
        select(child.id, child.digest, child.image_status)
        .join(m.ManifestChild, m.ManifestChild.child_digest == child.digest)
        .where(m.ManifestChild.parent_id.in_(ids), child.repository_id == repository_id)
    )
    referrers = session.execute(
        select(child.id, child.digest, child.image_status)
        .join(
            parent,
            (parent.digest == child.subject_digest) & (parent.repository_id == repository_id),
        )
        .where(parent.id.in_(ids), child.repository_id == repository_id)
    )
    return {i: (d, s) for i, d, s in [*children, *referrers]}


def _listed_elsewhere(
    session: Session, repository_id: int, digests: Collection[str], members: set[int]
) -> set[str]:
    if not digests:
        return set()
    return set(
        session.scalars(
            select(m.ManifestChild.child_digest)
            .join(m.Manifest, m.Manifest.id == m.ManifestChild.parent_id)
            .where(
                m.Manifest.repository_id == repository_id,
                m.Manifest.image_status == ACTIVE,
                m.Manifest.id.not_in(members),
                m.ManifestChild.child_digest.in_(list(digests)),
            )
        )
    )


def set_storage_status(
    session: Session, *, manifest_ids: Collection[int], status: str, now: datetime
) -> None:
    """Move manifests to `status`, stamping lastArchivedAt (ARCHIVED) or lastActivatedAt."""
    stamp = {"last_archived_at": now} if status == ARCHIVED else {"last_activated_at": now}
    session.execute(
        update(m.Manifest)
        .where(m.Manifest.id.in_(list(manifest_ids)))
        .values(image_status=status, **stamp)
        .execution_options(synchronize_session="fetch")
    )
