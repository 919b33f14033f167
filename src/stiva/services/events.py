"""Events in Amazon EventBridge's shape (`source`, `detail-type`, `detail`), kept in `events`.

ECR sends these to EventBridge, best effort; Stiva writes each one as a row in the transaction
of the change it reports, so an event exists exactly when its change committed. `envelope`
renders a row as EventBridge delivers it:

    {"version": "0", "id", "detail-type", "source": "aws.ecr", "account", "time", "region",
     "resources": [], "detail": {...}}

Image actions (detail-type "ECR Image Action"): detail {"result": "SUCCESS", "repository-name",
"image-digest", "action-type": PUSH | DELETE | UPDATE_STORAGE_CLASS, "image-tag" (when the image
is tagged)}; storage-class changes add "target-storage-class", "manifest-media-type" and
"artifact-media-type". ECR's detail names one tag; an image with several tags gets one event
whose "image-tag" is the first tag in name order and whose "image-tags" (a Stiva addition)
lists them all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m

SOURCE = "aws.ecr"
IMAGE_ACTION = "ECR Image Action"
_NAMESPACE = uuid.UUID("6f1e8f0e-3f5c-5b8e-9a57-5f1d7c0e2a11")


def emit(
    session: Session, *, account_id: str, detail_type: str, detail: dict[str, Any], now: datetime
) -> m.Event:
    event = m.Event(
        account_id=account_id,
        source=SOURCE,
        detail_type=detail_type,
        detail=json.dumps(detail, sort_keys=True),
        created_at=now,
    )
    session.add(event)
    return event


def image_action(
    session: Session,
    *,
    repository: m.Repository,
    digest: str,
    action_type: str,
    tags: Sequence[str],
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> m.Event:
    """Record an "ECR Image Action" event (action_type PUSH, DELETE or UPDATE_STORAGE_CLASS)."""
    detail: dict[str, Any] = {
        "result": "SUCCESS",
        "repository-name": repository.name,
        "image-digest": digest,
        "action-type": action_type,
    }
    names = sorted(tags)
    if names:
        detail["image-tag"] = names[0]
    if len(names) > 1:
        detail["image-tags"] = names
    detail.update(extra or {})
    return emit(
        session, account_id=repository.account_id, detail_type=IMAGE_ACTION, detail=detail, now=now
    )


def envelope(event: m.Event, *, region: str) -> dict[str, Any]:
    """The event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": str(uuid.uuid5(_NAMESPACE, f"{event.account_id}/{event.id}")),
        "detail-type": event.detail_type,
        "source": event.source,
        "account": event.account_id,
        "time": event.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": json.loads(event.detail),
    }


def list_events(
    session: Session, *, account_id: str | None = None, after_id: int = 0, limit: int = 100
) -> list[m.Event]:
    """Events after `after_id`, oldest first (every account's when `account_id` is None)."""
    query = select(m.Event).where(m.Event.id > after_id)
    if account_id is not None:
        query = query.where(m.Event.account_id == account_id)
    return list(session.scalars(query.order_by(m.Event.id).limit(limit)))
