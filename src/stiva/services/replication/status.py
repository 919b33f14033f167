"""DescribeImageReplicationStatus: an image's delivery status per destination."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services.replication.outbox import REPLICATE


def image_replication_statuses(
    session: Session, *, account_id: str, name: str, digest: str
) -> list[dict[str, Any]]:
    """One entry per destination the image was sent to: IN_PROGRESS, COMPLETE or FAILED."""
    rows = session.scalars(
        select(m.ReplicationDelivery)
        .where(
            m.ReplicationDelivery.account_id == account_id,
            m.ReplicationDelivery.repository_name == name,
            m.ReplicationDelivery.image_digest == digest,
            m.ReplicationDelivery.action == REPLICATE,
        )
        .order_by(
            m.ReplicationDelivery.destination_region, m.ReplicationDelivery.destination_registry_id
        )
    )
    out = []
    for row in rows:
        entry: dict[str, Any] = {
            "region": row.destination_region,
            "registryId": row.destination_registry_id,
            "status": row.status,
        }
        if row.failure_code:
            entry["failureCode"] = row.failure_code
        out.append(entry)
    return out
