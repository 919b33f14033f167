"""The OCI referrers of a subject as stored: the manifests whose `subject` names it.

`list_referrers` serves the /v2 referrers API (pullable referrers only); `page_referrers` serves
ListImageReferrers (`services.referrers`). `services.manifests` re-exports both and `Referrer`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.services.storage_class import ACTIVE


@dataclass(frozen=True, slots=True)
class Referrer:
    media_type: str
    digest: str
    size: int
    artifact_type: str | None
    annotations: dict[str, str]
    status: str = ACTIVE
    id: int = 0


_REFERRER_COLUMNS = (
    m.Manifest.media_type,
    m.Manifest.digest,
    m.Manifest.size,
    m.Manifest.artifact_type,
    m.Manifest.config_media_type,
    m.Manifest.annotations,
    m.Manifest.image_status,
    m.Manifest.id,
)


def _referrer(
    media_type: str,
    digest: str,
    size: int,
    explicit: str | None,
    config_type: str | None,
    annotations: str | None,
    status: str,
    manifest_id: int,
) -> Referrer:
    return Referrer(
        media_type=media_type,
        digest=digest,
        size=size,
        artifact_type=explicit or config_type,
        annotations=json.loads(annotations) if annotations else {},
        status=status,
        id=manifest_id,
    )


def list_referrers(
    session: Session, *, repository_id: int, subject: Digest, artifact_type: str | None
) -> list[Referrer]:
    """The OCI referrers of `subject` that can be pulled (archived ones are left out)."""
    rows = session.execute(
        select(*_REFERRER_COLUMNS)
        .where(
            m.Manifest.repository_id == repository_id,
            m.Manifest.subject_digest == str(subject),
            m.Manifest.image_status == ACTIVE,
        )
        .order_by(m.Manifest.pushed_at, m.Manifest.id)
    )
    referrers = [_referrer(*row) for row in rows]
    if artifact_type is not None:
        referrers = [r for r in referrers if r.artifact_type == artifact_type]
    return referrers


def page_referrers(
    session: Session,
    *,
    repository_id: int,
    subject: str,
    artifact_types: Collection[str],
    statuses: Collection[str] | None,
    after_id: int,
    limit: int,
) -> list[Referrer]:
    """Referrers of `subject` after manifest id `after_id`, in push order (ListImageReferrers).

    `artifact_types` (empty: any) match the artifactType a referrers listing reports (the
    manifest's artifactType, else its config media type); `statuses` None means any status.
    """
    query = select(*_REFERRER_COLUMNS).where(
        m.Manifest.repository_id == repository_id,
        m.Manifest.subject_digest == subject,
        m.Manifest.id > after_id,
    )
    if statuses is not None:
        query = query.where(m.Manifest.image_status.in_(statuses))
    if artifact_types:
        reported = func.coalesce(m.Manifest.artifact_type, m.Manifest.config_media_type)
        query = query.where(reported.in_(artifact_types))
    rows = session.execute(query.order_by(m.Manifest.id).limit(limit))
    return [_referrer(*row) for row in rows]
