"""Archive storage class: UpdateImageStorageClass (ARCHIVE / STANDARD).

An archived image is listed (imageStatus ARCHIVED), never pulled, and restorable; an index takes
its children along and any image its referrers (`manifests.storage_class_closure`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.errors import ImageStorageClassUpdateNotSupported
from stiva.metadata import models as m
from stiva.services import manifests
from stiva.services.images import ImageId, get_image
from stiva.services.manifests import ACTIVE, ARCHIVED
from stiva.services.replication import outbox as replication


def update_image_storage_class(
    session: Session,
    *,
    repository: m.Repository,
    image_id: ImageId,
    target: str,
    now: datetime,
) -> tuple[ImageId, str]:
    """Archive (ARCHIVE) or restore (STANDARD) an image and what goes with it; its new status.

    Restoring is immediate (ACTIVE, lastActivatedAt now): Stiva keeps archived images on the
    same storage, so there is nothing to wait for, where ECR answers ACTIVATING for up to 20
    minutes.
    """
    row = get_image(session, repository, image_id)
    archiving = target == "ARCHIVE"
    _check_storage_class_update(session, repository, row, archiving=archiving)
    members = manifests.storage_class_closure(
        session, repository_id=repository.id, manifest_id=row.id, archiving=archiving
    )
    status = ARCHIVED if archiving else ACTIVE
    manifests.set_storage_status(session, manifest_ids=members, status=status, now=now)
    if not archiving:  # archiving never replicates; a restore replicates like a push
        replication.image_restored(session, repository=repository, digest=row.digest)
    return ImageId(row.digest, image_id.tag), status


def _check_storage_class_update(
    session: Session, repository: m.Repository, row: m.Manifest, *, archiving: bool
) -> None:
    where = f"The image with digest '{row.digest}' in the repository with name '{repository.name}'"
    if not archiving:
        if row.image_status == ACTIVE:
            raise ImageStorageClassUpdateNotSupported(f"{where} is not archived")
        return
    if row.image_status != ACTIVE:
        raise ImageStorageClassUpdateNotSupported(f"{where} is already archived")
    parent = session.scalar(
        select(m.Manifest.digest)
        .join(m.ManifestChild, m.ManifestChild.parent_id == m.Manifest.id)
        .where(
            m.Manifest.repository_id == repository.id,
            m.Manifest.image_status == ACTIVE,
            m.ManifestChild.child_digest == row.digest,
        )
        .limit(1)
    )
    if parent is not None:
        raise ImageStorageClassUpdateNotSupported(
            f"{where} is part of the image index '{parent}'; archive the index instead"
        )
    if row.subject_digest is not None and _is_active(session, repository.id, row.subject_digest):
        raise ImageStorageClassUpdateNotSupported(
            f"{where} is an artifact of the image '{row.subject_digest}'; artifacts are archived "
            "and restored with their subject image"
        )


def _is_active(session: Session, repository_id: int, digest: str) -> bool:
    status = session.scalar(
        select(m.Manifest.image_status).where(
            m.Manifest.repository_id == repository_id, m.Manifest.digest == digest
        )
    )
    return status == ACTIVE
