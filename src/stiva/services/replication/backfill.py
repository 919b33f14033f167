"""Replication backfill: copy images that existed before the configuration to one destination.

StartReplicationBackfill needs a destination of the current configuration; at most 10
backfills in progress per registry and one per destination region (ECR's limits). The
`replication-backfill` job moves a backfill along:

    PREPARING   every image of a repository whose rule targets the destination gets a
                delivery (re-opened if it exists) and an item, PREPARE_BATCH images per
                step (each a short transaction); progress is null meanwhile
    IN_PROGRESS progress counts follow the deliveries; when all are terminal: COMPLETE, or
                FAILED (failureCode REPLICATION_FAILURES) when half or more failed
    STOPPING    (StopReplicationBackfill) → STOPPED; deliveries already queued still finish

Images are top-level ones: an index's children and referrers travel with their image. As in
ECR, progress counts image+tag pairs: an image counts once per tag it has when the backfill
prepares (once if untagged), for the totals and for the half-failed rule. Per-image results are
kept on the items when the backfill ends (DescribeReplicationBackfillResults answers them only
then).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from stiva.errors import (
    InvalidParameter,
    LimitExceeded,
    ReplicationBackfillInProgress,
    ReplicationBackfillInvalidStatus,
    ReplicationBackfillNotFound,
)
from stiva.metadata import models as m
from stiva.services import jobs
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.services.replication.outbox import COMPLETE, FAILED, open_delivery
from stiva.services.replication.rules import Destination, get_rules, targets

JOB_KIND = "replication-backfill"
PREPARING, IN_PROGRESS, STOPPING, STOPPED = "PREPARING", "IN_PROGRESS", "STOPPING", "STOPPED"
LIVE = (PREPARING, IN_PROGRESS, STOPPING)
MAX_LIVE = 10
PREPARE_BATCH = 500  # images given a delivery per step (one short write each)
POLL = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    completed: int
    failed: int
    failure_codes: list[str]


def start_backfill(
    session: Session, *, account_id: str, destination: Destination
) -> m.ReplicationBackfill:
    configured = {
        Destination(d["region"], d["registryId"])
        for rule in get_rules(session, account_id=account_id)
        for d in rule.get("destinations", [])
    }
    if destination not in configured:
        raise InvalidParameter(
            f"destination {destination.region}/{destination.registry_id} is not in the "
            "registry's replication configuration"
        )
    # The account's row, locked until this unit of work ends: concurrent starts check the
    # limits one after the other (on SQLite the write transaction serializes them already).
    session.get(m.Account, account_id, with_for_update=True)
    live = list(
        session.scalars(
            select(m.ReplicationBackfill).where(
                m.ReplicationBackfill.account_id == account_id,
                m.ReplicationBackfill.status.in_(LIVE),
            )
        )
    )
    if len(live) >= MAX_LIVE:
        raise LimitExceeded(f"at most {MAX_LIVE} replication backfills may be in progress")
    if any(b.destination_region == destination.region for b in live):
        raise ReplicationBackfillInProgress(
            f"a replication backfill to region {destination.region} is already in progress"
        )
    row = m.ReplicationBackfill(
        id=str(uuid.uuid4()),
        account_id=account_id,
        destination_region=destination.region,
        destination_registry_id=destination.registry_id,
        status=PREPARING,
        started_at=m.utcnow(),
    )
    session.add(row)
    session.flush()
    jobs.enqueue(session, kind=JOB_KIND, payload={"backfill_id": row.id})
    return row


def get_backfill(
    session: Session, *, account_id: str, backfill_id: str, lock: bool = False
) -> m.ReplicationBackfill:
    """The backfill; with `lock`, its row locked until this unit of work ends."""
    row = session.get(m.ReplicationBackfill, backfill_id, with_for_update=lock)
    if row is None or row.account_id != account_id:
        raise ReplicationBackfillNotFound(
            f"The replication backfill '{backfill_id}' does not exist in the registry with id "
            f"'{account_id}'"
        )
    return row


def stop_backfill(session: Session, *, account_id: str, backfill_id: str) -> m.ReplicationBackfill:
    # Locked: a job step ending the backfill meanwhile is seen (its status), not overwritten.
    row = get_backfill(session, account_id=account_id, backfill_id=backfill_id, lock=True)
    if row.status not in (PREPARING, IN_PROGRESS):
        raise ReplicationBackfillInvalidStatus(
            f"The replication backfill '{backfill_id}' is {row.status} and cannot be stopped"
        )
    row.status = STOPPING
    return row


def run_backfill(ctx: RegistryContext, job: ClaimedJob) -> None:
    """The job handler: one step of the state machine above; re-queued until terminal.

    The backfill's row is locked for the step, so a stop waits for it and then sees what it did
    (and a step never overwrites a stop). Preparing goes a batch of images per step.
    """
    with ctx.db.write() as session:
        row = session.get(
            m.ReplicationBackfill, str(job.payload["backfill_id"]), with_for_update=True
        )
        if row is None or row.status not in LIVE:
            return
        run_after = ctx.now() + POLL
        if row.status == PREPARING:
            if _prepare(session, row):
                row.status = IN_PROGRESS
            else:
                run_after = ctx.now()  # the next batch at once
        elif row.status == STOPPING:
            _finish(session, row, STOPPED, ctx)
            return
        elif _finished(session, row, ctx):
            return
        jobs.enqueue(session, kind=JOB_KIND, payload=job.payload, run_after=run_after)


def _prepare(session: Session, row: m.ReplicationBackfill) -> bool:
    """Open the deliveries of the next batch of images that have no item yet; whether every
    image has one now. Idempotent: a step run twice (its job re-run after a crash between the
    step's commit and the job's completion) skips what the first run prepared."""
    rules = get_rules(session, account_id=row.account_id)
    destination = Destination(row.destination_region, row.destination_registry_id)
    repositories = [
        repository_id
        for repository_id, name in session.execute(
            select(m.Repository.id, m.Repository.name).where(
                m.Repository.account_id == row.account_id
            )
        )
        if any(t.destination == destination for t in targets(rules, name=name, tags=None))
    ]
    if not repositories:
        return True
    child = aliased(m.ManifestChild)
    parent = aliased(m.Manifest)
    listed = (
        select(child.child_digest)
        .join(parent, parent.id == child.parent_id)
        .where(parent.repository_id == m.Manifest.repository_id)
    )
    tags = (
        select(func.count(m.ImageTag.name))
        .where(m.ImageTag.manifest_id == m.Manifest.id)
        .scalar_subquery()
    )
    prepared = exists().where(
        m.ReplicationBackfillItem.backfill_id == row.id,
        m.ReplicationBackfillItem.repository_name == m.Repository.name,
        m.ReplicationBackfillItem.image_digest == m.Manifest.digest,
    )
    images = session.execute(
        select(m.Repository.name, m.Manifest.digest, tags)
        .join(m.Manifest, m.Manifest.repository_id == m.Repository.id)
        .where(
            m.Repository.id.in_(repositories),
            m.Manifest.subject_digest.is_(None),
            m.Manifest.digest.not_in(listed),
            ~prepared,
        )
        .order_by(m.Repository.name, m.Manifest.id)
        .limit(PREPARE_BATCH)
    ).all()
    for name, digest, tag_count in images:
        delivery = open_delivery(
            session, account_id=row.account_id, name=name, digest=digest, destination=destination
        )
        session.add(
            m.ReplicationBackfillItem(
                backfill_id=row.id,
                delivery_id=delivery.id,
                repository_name=name,
                image_digest=digest,
                replications=max(1, tag_count),
            )
        )
    return len(images) < PREPARE_BATCH


def _statuses(
    session: Session, backfill_id: str
) -> list[tuple[m.ReplicationBackfillItem, str, str | None]]:
    rows = session.execute(
        select(
            m.ReplicationBackfillItem,
            m.ReplicationDelivery.status,
            m.ReplicationDelivery.failure_code,
        )
        .join(
            m.ReplicationDelivery, m.ReplicationDelivery.id == m.ReplicationBackfillItem.delivery_id
        )
        .where(m.ReplicationBackfillItem.backfill_id == backfill_id)
    )
    return [(item, status, code) for item, status, code in rows]


def _finished(session: Session, row: m.ReplicationBackfill, ctx: RegistryContext) -> bool:
    statuses = _statuses(session, row.id)
    if any(status not in (COMPLETE, FAILED) for _i, status, _c in statuses):
        return False
    failed = sum(item.replications for item, status, _c in statuses if status == FAILED)
    total = sum(item.replications for item, _s, _c in statuses)
    final = FAILED if statuses and failed * 2 >= total else COMPLETE
    _finish(session, row, final, ctx)
    return True


def _finish(
    session: Session, row: m.ReplicationBackfill, status: str, ctx: RegistryContext
) -> None:
    for item, delivery_status, code in _statuses(session, row.id):
        if delivery_status in (COMPLETE, FAILED):
            item.status, item.failure_code = delivery_status, code
    row.status, row.ended_at = status, ctx.now()
    if status == FAILED:
        row.failure_code = "REPLICATION_FAILURES"


def progress(session: Session, row: m.ReplicationBackfill) -> Progress | None:
    """Counts from the deliveries while the backfill runs; once it ended, from the outcomes
    frozen on its items (a later push or backfill re-opens the same deliveries)."""
    if row.status == PREPARING:
        return None
    counts: Counter[str] = Counter()
    codes: set[str] = set()
    for item, status, code in _statuses(session, row.id):
        if row.status not in LIVE:
            status, code = item.status or "", item.failure_code
        counts[status] += item.replications
        if code:
            codes.add(code)
    total = sum(counts.values())
    return Progress(total, counts[COMPLETE], counts[FAILED], sorted(codes))


def results(
    session: Session, row: m.ReplicationBackfill, *, status: str | None, after_id: int, limit: int
) -> list[m.ReplicationBackfillItem]:
    """Per-image results, once the backfill is terminal (empty before)."""
    if row.status in LIVE:
        return []
    query = select(m.ReplicationBackfillItem).where(
        m.ReplicationBackfillItem.backfill_id == row.id,
        m.ReplicationBackfillItem.status.is_not(None),
        m.ReplicationBackfillItem.id > after_id,
    )
    if status is not None:
        query = query.where(m.ReplicationBackfillItem.status == status)
    return list(session.scalars(query.order_by(m.ReplicationBackfillItem.id).limit(limit)))


def list_backfills(
    session: Session, *, account_id: str, after: str | None, limit: int
) -> list[m.ReplicationBackfill]:
    """In id order, after `after`; terminal backfills are listed for 90 days."""
    horizon = m.utcnow() - timedelta(days=90)
    query = select(m.ReplicationBackfill).where(
        m.ReplicationBackfill.account_id == account_id,
        (m.ReplicationBackfill.ended_at.is_(None)) | (m.ReplicationBackfill.ended_at >= horizon),
    )
    if after is not None:
        query = query.where(m.ReplicationBackfill.id > after)
    rows = session.scalars(query.order_by(m.ReplicationBackfill.id).limit(limit))
    return list(rows)
