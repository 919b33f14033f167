"""The scanning job kinds and how they are queued (in the caller's unit of work).

    scan-image        payload {manifest_id, request_id}: analyse the image's layers (cached per
                      layer), merge, match, store; a stale request (the image was rescanned
                      since, or deleted) does nothing
    scan-continuous   re-match every CONTINUOUS_SCAN image from its stored inventory and queue
                      scans for those never scanned; queued by database imports and by
                      PutRegistryScanningConfiguration

A database import that finds a continuous job already queued or running queues a second one
under another key, so every import is followed by a complete pass that starts after it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services import jobs

SCAN_JOB = "scan-image"
CONTINUOUS_JOB = "scan-continuous"
_CONTINUOUS_KEYS = ("scan-continuous", "scan-continuous:next")


def enqueue_scan(session: Session, *, manifest_id: int, request_id: str) -> None:
    jobs.enqueue(
        session, kind=SCAN_JOB, payload={"manifest_id": manifest_id, "request_id": request_id}
    )


def enqueue_continuous(session: Session) -> None:
    """Queue a continuous pass unless one is queued that has not started yet."""
    for key in _CONTINUOUS_KEYS:
        if jobs.enqueue(session, kind=CONTINUOUS_JOB, dedup_key=key) is not None:
            return
        status = session.scalar(select(m.Job.status).where(m.Job.dedup_key == key))
        if status == "queued":
            return
