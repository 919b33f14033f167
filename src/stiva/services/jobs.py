"""The job queue: background work written in the same transaction as the change that needs it.

A job is claimed under a lease by one worker (on any node); a worker that dies leaves its lease
to expire, and the job is claimed again. On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so
concurrent workers never take the same job; on SQLite every write transaction is serialized.
A live job may carry a `dedup_key`: at most one queued-or-running job per key (periodic sweeps,
one preview per repository); the key is released when the job ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.metadata.dialect import skip_locked

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    owner: str


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any] | None = None,
    dedup_key: str | None = None,
    run_after: datetime | None = None,
) -> int | None:
    """Queue a job; its id, or None when a live job with the same `dedup_key` exists."""
    job = m.Job(
        kind=kind,
        payload=json.dumps(payload or {}, sort_keys=True),
        dedup_key=dedup_key,
        run_after=run_after or m.utcnow(),
    )
    if dedup_key is None:
        session.add(job)
        session.flush()
        return job.id
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        return None
    return job.id


def claim(session: Session, *, kinds: list[str], owner: str, lease: timedelta) -> ClaimedJob | None:
    """Take the oldest due job of these kinds (or one whose worker's lease ran out)."""
    now = m.utcnow()
    due = or_(
        (m.Job.status == "queued") & (m.Job.run_after <= now),
        (m.Job.status == "running") & (m.Job.lease_expires_at < now),
    )
    query = select(m.Job).where(m.Job.kind.in_(kinds), due).order_by(m.Job.run_after, m.Job.id)
    job = session.scalars(skip_locked(session, query.limit(1))).first()
    if job is None:
        return None
    job.status = "running"
    job.lease_owner = owner
    job.lease_expires_at = now + lease
    job.attempts += 1
    return ClaimedJob(job.id, job.kind, json.loads(job.payload), job.attempts, owner)


def heartbeat(session: Session, *, job_id: int, owner: str, lease: timedelta) -> bool:
    """Extend the lease; False when the job is no longer this worker's."""
    result = session.execute(
        update(m.Job)
        .where(m.Job.id == job_id, m.Job.lease_owner == owner, m.Job.status == "running")
        .values(lease_expires_at=m.utcnow() + lease)
    )
    return bool(getattr(result, "rowcount", 0))


def _owned(session: Session, job_id: int, owner: str) -> m.Job | None:
    job = session.get(m.Job, job_id)
    if job is None or job.lease_owner != owner or job.status != "running":
        return None  # the lease expired and another worker took the job: leave it be
    return job


def complete(session: Session, *, job_id: int, owner: str) -> bool:
    job = _owned(session, job_id, owner)
    if job is None:
        return False
    job.status, job.dedup_key, job.finished_at = "done", None, m.utcnow()
    job.lease_owner = job.lease_expires_at = None
    return True


def fail(session: Session, *, job_id: int, owner: str, error: str, max_attempts: int) -> bool:
    """Record a failure: retry later with exponential backoff, or give up after max_attempts."""
    job = _owned(session, job_id, owner)
    if job is None:
        return False
    job.last_error = error[:4000]
    job.lease_owner = job.lease_expires_at = None
    if job.attempts >= max_attempts:
        job.status, job.dedup_key, job.finished_at = "failed", None, m.utcnow()
    else:
        job.status = "queued"
        job.run_after = m.utcnow() + min(timedelta(seconds=5 * 2**job.attempts), MAX_BACKOFF)
    return True
