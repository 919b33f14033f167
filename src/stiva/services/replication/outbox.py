"""Replication deliveries, written in the unit of work of the change that causes them.

`services.manifests` calls `image_pushed` for every manifest stored (push by tag or digest,
PutImage, restore by re-push), `tag_removed` / `image_deleted` for removals, and
`services.archive` calls `image_restored`. Each matching destination gets one delivery row per
(image, destination, action) — pushing the same image again re-opens its row instead of adding
one — and a `replicate` job naming it. Changes that arrive *by* replication (an inbound peer
push, a local copy) pass `replicated=True` and start nothing: one hop only, as in ECR.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services import jobs
from stiva.services.replication.rules import Destination, get_rules, targets

JOB_KIND = "replicate"
REPLICATE, DELETE_TAG, DELETE_IMAGE = "REPLICATE", "DELETE_TAG", "DELETE_IMAGE"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"


def open_delivery(
    session: Session,
    *,
    account_id: str,
    name: str,
    digest: str,
    destination: Destination,
    action: str = REPLICATE,
    tag: str = "",
) -> m.ReplicationDelivery:
    """Create or re-open the delivery of `digest` to `destination`, and queue its job."""
    key = {
        "account_id": account_id,
        "repository_name": name,
        "image_digest": digest,
        "destination_region": destination.region,
        "destination_registry_id": destination.registry_id,
        "action": action,
        "tag": tag,
    }
    row = _find(session, key)
    now = m.utcnow()
    if row is None:
        try:
            with session.begin_nested():
                row = m.ReplicationDelivery(**key, next_attempt_at=now, attempts=0)
                session.add(row)
                session.flush()
        except IntegrityError:  # a concurrent push opened it first
            row = _find(session, key)
            assert row is not None
    row.status, row.failure_code, row.failure_reason = IN_PROGRESS, None, None
    row.attempts, row.next_attempt_at, row.horizon_at = 0, now, None
    row.generation = (row.generation or 0) + 1  # an attempt already running records nothing
    row.updated_at, row.completed_at = now, None
    session.flush()
    jobs.enqueue(session, kind=JOB_KIND, payload={"delivery_id": row.id})
    return row


def _find(session: Session, key: dict[str, str]) -> m.ReplicationDelivery | None:
    """The delivery, locked until this unit of work ends: two pushes re-opening it take turns,
    so each counts its own generation (an unlocked read lost one: a delivery of the older
    tags could then be recorded as the newer one's)."""
    query = select(m.ReplicationDelivery).filter_by(**key).with_for_update()
    return session.scalars(query).first()


def image_pushed(
    session: Session, *, repository: m.Repository, digest: str, tags: Sequence[str]
) -> int:
    """Queue the image for every destination a rule gives it; how many deliveries."""
    rules = get_rules(session, account_id=repository.account_id)
    if not rules:
        return 0
    found = targets(rules, name=repository.name, tags=_tags_of(session, repository, digest, tags))
    for target in found:
        open_delivery(
            session,
            account_id=repository.account_id,
            name=repository.name,
            digest=digest,
            destination=target.destination,
        )
    return len(found)


def image_tags(session: Session, *, repository_id: int, digest: str) -> list[str]:
    """The tags of image `digest` in a repository now, sorted."""
    return list(
        session.scalars(
            select(m.ImageTag.name)
            .join(m.Manifest, m.Manifest.id == m.ImageTag.manifest_id)
            .where(m.ImageTag.repository_id == repository_id, m.Manifest.digest == digest)
            .order_by(m.ImageTag.name)
        )
    )


def _tags_of(
    session: Session, repository: m.Repository, digest: str, pushed: Sequence[str]
) -> list[str]:
    current = image_tags(session, repository_id=repository.id, digest=digest)
    return sorted({*pushed, *current})


def _removal(
    session: Session, *, repository: m.Repository, digest: str, action: str, tag: str
) -> None:
    rules = get_rules(session, account_id=repository.account_id)
    for target in targets(rules, name=repository.name, tags=None):
        if target.delete_replication:
            open_delivery(
                session,
                account_id=repository.account_id,
                name=repository.name,
                digest=digest,
                destination=target.destination,
                action=action,
                tag=tag,
            )


def tag_removed(session: Session, *, repository: m.Repository, digest: str, tag: str) -> None:
    """With deleteReplication, the tag goes at the destinations too."""
    _removal(session, repository=repository, digest=digest, action=DELETE_TAG, tag=tag)


def image_deleted(session: Session, *, repository: m.Repository, digest: str) -> None:
    """With deleteReplication, the image (and its tags) goes at the destinations too."""
    _removal(session, repository=repository, digest=digest, action=DELETE_IMAGE, tag="")


def image_restored(session: Session, *, repository: m.Repository, digest: str) -> None:
    """A restore from archive replicates like a push (ECR: "pushed or restored")."""
    image_pushed(session, repository=repository, digest=digest, tags=[])
