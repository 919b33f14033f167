"""The `replicate` job: carry one delivery to its destination and record the outcome.

State lives in `replication_deliveries`, so a restart of either side loses nothing: a delivery
is IN_PROGRESS until it completes or fails for good. Each attempt reads the source *now* (the
image's current tags; whether a removed tag or image is still gone), so attempts are idempotent
and late retries never undo newer changes; copies are by digest, so nothing is duplicated.

Failures (`outcome`): permanent refusals end FAILED at once; transient ones are retried after
`backoff_seconds * 2**(attempt-1)` (capped at `max_backoff_seconds`) until `horizon_seconds`
after the first attempt, then FAILED with DESTINATION_UNREACHABLE. Every terminal REPLICATE
outcome writes an "ECR Replication Action" event in the source account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from stiva.config import ReplicationConfig
from stiva.metadata import models as m
from stiva.services import events, jobs
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.services.replication import local, outcome
from stiva.services.replication.outbox import (
    COMPLETE,
    DELETE_IMAGE,
    DELETE_TAG,
    FAILED,
    IN_PROGRESS,
    JOB_KIND,
    REPLICATE,
    image_tags,
)
from stiva.services.replication.plan import Plan, build_plan
from stiva.services.replication.remote import PeerSession
from stiva.services.repositories import find_repository

log = logging.getLogger(__name__)
REPLICATION_ACTION = "ECR Replication Action"


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    account_id: str
    name: str
    digest: str
    region: str
    registry_id: str
    action: str
    tag: str
    generation: int


def run_delivery(ctx: RegistryContext, job: ClaimedJob) -> None:
    """The job handler (thin): claim the attempt, carry it, record what happened."""
    options: ReplicationConfig = ctx.replication
    task = _start_attempt(ctx, int(job.payload["delivery_id"]), options)
    if task is None:
        return
    try:
        dropped = carry(ctx, task, options)
    except outcome.DeliveryError as exc:
        _record_failure(ctx, task, exc, options)
    except Exception as exc:  # a bug or an unexpected answer: retried, then FAILED
        log.exception("replication delivery %s failed", task.id)
        _record_failure(ctx, task, outcome.transient(f"{type(exc).__name__}: {exc}"), options)
    else:
        _record_success(ctx, task, dropped)


def _start_attempt(
    ctx: RegistryContext, delivery_id: int, options: ReplicationConfig
) -> Task | None:
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.get(m.ReplicationDelivery, delivery_id)
        if row is None or row.status != IN_PROGRESS or row.next_attempt_at > now:
            return None  # done already, or another job is scheduled for its next attempt
        if row.horizon_at is None:
            row.horizon_at = now + timedelta(seconds=options.horizon_seconds)
        row.attempts += 1
        row.updated_at = now
        return Task(
            row.id,
            row.account_id,
            row.repository_name,
            row.image_digest,
            row.destination_region,
            row.destination_registry_id,
            row.action,
            row.tag,
            row.generation,
        )


def _plan(ctx: RegistryContext, task: Task) -> Plan | None:
    with ctx.db.read() as session:
        repo = find_repository(session, account_id=task.account_id, name=task.name)
        if repo is None:
            return None
        return build_plan(session, repository_id=repo.id, digest=task.digest)


def _tags_now(ctx: RegistryContext, task: Task) -> list[str]:
    """The tags of the task's image at the source now (none once it is gone)."""
    with ctx.db.read() as session:
        repo = find_repository(session, account_id=task.account_id, name=task.name)
        if repo is None:
            return []
        return image_tags(session, repository_id=repo.id, digest=task.digest)


def _still_there(ctx: RegistryContext, task: Task) -> bool:
    """For removals: is the removed tag (or image) back at the source? Then nothing to do."""
    with ctx.db.read() as session:
        repo = find_repository(session, account_id=task.account_id, name=task.name)
        if repo is None:
            return False
        if task.action == DELETE_TAG:
            return session.get(m.ImageTag, (repo.id, task.tag)) is not None
        return build_plan(session, repository_id=repo.id, digest=task.digest) is not None


def carry(ctx: RegistryContext, task: Task, options: ReplicationConfig) -> list[str]:
    """Do the delivery's work; the tags the destination dropped."""
    plan = _plan(ctx, task) if task.action == REPLICATE else None
    if task.action == REPLICATE and plan is None:
        raise outcome.permanent(outcome.SOURCE_NOT_FOUND, f"{task.digest} left {task.name}")
    if task.action != REPLICATE and _still_there(ctx, task):
        return []
    if task.region == ctx.deployment.region:
        return _carry_local(ctx, task, plan)
    peer = next((p for p in options.peers if p.region == task.region), None)
    if peer is None:
        raise outcome.permanent(
            outcome.PEER_NOT_CONFIGURED, f"no [[replication.peers]] entry for {task.region}"
        )
    session = PeerSession(
        peer,
        source_account=task.account_id,
        source_region=ctx.deployment.region,
        destination_account=task.registry_id,
        timeout=options.timeout_seconds,
    )
    try:
        session.login()
        if task.action == DELETE_IMAGE:
            session.delete_image(task.name, task.digest)
            return []
        if task.action == DELETE_TAG:
            session.delete_tag(task.name, task.digest, task.tag)
            return []
        assert plan is not None
        session.ensure_repository(task.name)
        return session.push(ctx.storage, task.name, plan, tags_now=lambda: _tags_now(ctx, task))
    finally:
        session.close()


def _carry_local(ctx: RegistryContext, task: Task, plan: Plan | None) -> list[str]:
    where = {"source": task.account_id, "account": task.registry_id, "name": task.name}
    if task.action == DELETE_IMAGE:
        local.delete_image(ctx, digest=task.digest, **where)
        return []
    if task.action == DELETE_TAG:
        local.delete_tag(ctx, digest=task.digest, tag=task.tag, **where)
        return []
    assert plan is not None
    return local.push(ctx, plan=plan, **where)


def _record_success(ctx: RegistryContext, task: Task, dropped: list[str]) -> None:
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.get(m.ReplicationDelivery, task.id)
        if row is None or row.status != IN_PROGRESS or row.generation != task.generation:
            return  # re-opened by a push meanwhile: its own attempt carries the newer state
        row.status, row.failure_code, row.completed_at, row.updated_at = COMPLETE, None, now, now
        row.failure_reason = (
            f"tags dropped (immutable at the destination): {dropped}" if dropped else None
        )
        if task.action == REPLICATE:
            _event(ctx, session, task, "SUCCESS", now, dropped)


def _record_failure(
    ctx: RegistryContext, task: Task, error: outcome.DeliveryError, options: ReplicationConfig
) -> None:
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.get(m.ReplicationDelivery, task.id)
        if row is None or row.status != IN_PROGRESS or row.generation != task.generation:
            return  # re-opened by a push meanwhile: its own attempt carries the newer state
        row.failure_reason, row.updated_at = error.message[:4000], now
        if error.permanent or (row.horizon_at is not None and now >= row.horizon_at):
            row.status, row.failure_code, row.completed_at = FAILED, error.code, now
            if task.action == REPLICATE:
                _event(ctx, session, task, "FAILED", now, [])
            return
        row.next_attempt_at = now + _backoff(row.attempts, options)
        jobs.enqueue(
            session, kind=JOB_KIND, payload={"delivery_id": row.id}, run_after=row.next_attempt_at
        )


def _backoff(attempts: int, options: ReplicationConfig) -> timedelta:
    seconds = options.backoff_seconds * 2 ** min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(seconds, options.max_backoff_seconds))


def _event(
    ctx: RegistryContext,
    session: Session,
    task: Task,
    result: str,
    now: datetime,
    dropped: list[str],
) -> None:
    with_tags = _plan(ctx, task)
    detail: dict[str, object] = {
        "result": result,
        "repository-name": task.name,
        "image-digest": task.digest,
        "source-account": task.account_id,
        "source-region": ctx.deployment.region,
        "action-type": "REPLICATE",
        "destination-region": task.region,
        "destination-registry-id": task.registry_id,
        "destination-repository-arn": (
            f"arn:aws:ecr:{task.region}:{task.registry_id}:repository/{task.name}"
        ),
    }
    if with_tags is not None and with_tags.tags:
        detail["image-tag"] = with_tags.tags[0]
    if dropped:
        detail["dropped-tags"] = dropped
    events.emit(
        session,
        account_id=task.account_id,
        detail_type=REPLICATION_ACTION,
        detail=detail,
        now=now,
    )
