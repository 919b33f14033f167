"""Manifests and image tags: push (put_manifest), pull (resolve), delete, list tags, referrers,
and the storage class of images (archive and restore).

This module is the entry point, and holds deletion, tag listing and pull times. The rest lives
beside it and is re-exported here: pushing in `services.pushes`, the pull path in
`services.resolution`, referrer queries in `services.manifest_referrers`, image statuses with
archiving and restoring in `services.storage_class`.

An archived image (`image_status` ARCHIVED, or ACTIVATING while a restore runs) keeps its row
and bytes but cannot be pulled: `resolve` answers ManifestNotFound saying so, by tag and by
digest, as ECR's registry answers 404. Archiving or restoring an image carries along what it is
made of and what refers to it (`storage_class_closure`); pushing an archived image again
restores it at once (ECR: "the image will be immediately restored").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from stiva.errors import ImageReferencedByIndex, ManifestNotFound
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.oci.names import is_tag
from stiva.services.manifest_referrers import Referrer, list_referrers, page_referrers
from stiva.services.pushes import put_manifest
from stiva.services.replication import outbox as replication
from stiva.services.resolution import StoredManifest, is_digest_reference, resolve
from stiva.services.storage_class import (
    ACTIVATING,
    ACTIVE,
    ARCHIVED,
    set_storage_status,
    storage_class_closure,
)

__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "ARCHIVED",
    "Referrer",
    "StoredManifest",
    "delete_manifest",
    "delete_tag",
    "index_using",
    "is_digest_reference",
    "list_referrers",
    "list_tags",
    "page_referrers",
    "put_manifest",
    "record_pulls",
    "resolve",
    "set_storage_status",
    "storage_class_closure",
]


def index_using(session: Session, *, repository_id: int, digest: str) -> str | None:
    """The digest of an index in the repository that lists `digest` as a child, if any."""
    return session.scalar(
        select(m.Manifest.digest)
        .join(m.ManifestChild, m.ManifestChild.parent_id == m.Manifest.id)
        .where(m.Manifest.repository_id == repository_id, m.ManifestChild.child_digest == digest)
        .order_by(m.Manifest.id)
        .limit(1)
    )


def delete_manifest(
    session: Session, *, repository: m.Repository, digest: Digest, replicated: bool = False
) -> list[str]:
    """Delete a manifest and every tag on it (returned, sorted); refused while an index in the
    repository uses it (ECR's ImageReferencedByManifestList)."""
    row = session.scalar(
        select(m.Manifest).where(
            m.Manifest.repository_id == repository.id, m.Manifest.digest == str(digest)
        )
    )
    if row is None:
        raise ManifestNotFound(f"manifest {digest} is unknown to repository {repository.name}")
    parent = index_using(session, repository_id=repository.id, digest=row.digest)
    if parent is not None:
        raise ImageReferencedByIndex(
            f"The image with digest {digest} is referenced by the manifest list {parent} "
            "and cannot be deleted while that manifest list exists"
        )
    tags = sorted(session.scalars(select(m.ImageTag.name).where(m.ImageTag.manifest_id == row.id)))
    session.execute(delete(m.ImageTag).where(m.ImageTag.manifest_id == row.id))
    session.execute(delete(m.ManifestBlob).where(m.ManifestBlob.manifest_id == row.id))
    session.execute(delete(m.ManifestChild).where(m.ManifestChild.parent_id == row.id))
    session.delete(row)
    if not replicated:
        replication.image_deleted(session, repository=repository, digest=row.digest)
    return tags


def delete_tag(
    session: Session, *, repository: m.Repository, tag: str, replicated: bool = False
) -> None:
    row = session.get(m.ImageTag, (repository.id, tag)) if is_tag(tag) else None
    if row is None:
        raise ManifestNotFound(f"tag {tag[:300]} is unknown to repository {repository.name}")
    digest = session.scalar(select(m.Manifest.digest).where(m.Manifest.id == row.manifest_id))
    session.delete(row)
    if not replicated and digest is not None:
        replication.tag_removed(session, repository=repository, digest=digest, tag=tag)


def list_tags(
    session: Session, *, repository_id: int, last: str | None, n: int | None
) -> list[str]:
    query = select(m.ImageTag.name).where(m.ImageTag.repository_id == repository_id)
    if last:
        query = query.where(m.ImageTag.name > last)
    query = query.order_by(m.ImageTag.name)
    if n is not None:
        query = query.limit(n)
    return list(session.scalars(query))


def record_pulls(session: Session, pulls: dict[tuple[int, str], datetime]) -> None:
    """Advance `last_pulled_at` of each (manifest id, digest) (never backwards); a row whose
    digest is not the one pulled (the id went to another image since) is left alone."""
    for (manifest_id, digest), when in pulls.items():
        session.execute(
            update(m.Manifest)
            .where(
                m.Manifest.id == manifest_id,
                m.Manifest.digest == digest,
                (m.Manifest.last_pulled_at.is_(None)) | (m.Manifest.last_pulled_at < when),
            )
            .values(last_pulled_at=when)
        )
