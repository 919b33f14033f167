"""The worker loop: claim a job, keep its lease alive while running it, record the outcome.

Periodic work (lifecycle sweeps, garbage collection) is a job that re-queues its next run when it
completes; `schedule_periodic` (at start and every minute) re-creates any that went missing, and
the dedup key keeps one live occurrence per kind across every node.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from stiva.services import jobs
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob

log = logging.getLogger(__name__)
Handler = Callable[[RegistryContext, ClaimedJob], None]


@dataclass(frozen=True, slots=True)
class Periodic:
    kind: str
    interval: timedelta
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return f"periodic:{self.kind}"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(
        self,
        ctx: RegistryContext,
        handlers: Mapping[str, Handler],
        *,
        lease: timedelta = timedelta(minutes=5),
        max_attempts: int = 8,
        periodic: Sequence[Periodic] = (),
        owner: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.handlers = dict(handlers)
        self.lease = lease
        self.max_attempts = max_attempts
        self.periodic = {p.kind: p for p in periodic}
        self.owner = owner or worker_name()

    def schedule_periodic(self) -> None:
        with self.ctx.db.write() as session:
            for spec in self.periodic.values():
                jobs.enqueue(
                    session, kind=spec.kind, payload=spec.payload, dedup_key=spec.dedup_key
                )

    def run_once(self) -> bool:
        """Run one due job, if any; True when a job ran (whatever its outcome)."""
        with self.ctx.db.write() as session:
            job = jobs.claim(session, kinds=list(self.handlers), owner=self.owner, lease=self.lease)
        if job is None:
            return False
        stop = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(job, stop), daemon=True)
        keeper.start()
        try:
            self.handlers[job.kind](self.ctx, job)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            with self.ctx.db.write() as session:
                jobs.fail(
                    session,
                    job_id=job.id,
                    owner=self.owner,
                    error=f"{type(exc).__name__}: {exc}",
                    max_attempts=self.max_attempts,
                )
        else:
            self._complete(job)
        finally:
            stop.set()
            keeper.join()
        return True

    def _complete(self, job: ClaimedJob) -> None:
        with self.ctx.db.write() as session:
            if not jobs.complete(session, job_id=job.id, owner=self.owner):
                return
            session.flush()
            spec = self.periodic.get(job.kind)
            if spec is not None:
                jobs.enqueue(
                    session,
                    kind=spec.kind,
                    payload=spec.payload,
                    dedup_key=spec.dedup_key,
                    run_after=self.ctx.now() + spec.interval,
                )

    def _keep_lease(self, job: ClaimedJob, stop: threading.Event) -> None:
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                with self.ctx.db.write() as session:
                    if not jobs.heartbeat(
                        session, job_id=job.id, owner=self.owner, lease=self.lease
                    ):
                        return
            except Exception:
                log.exception("could not extend the lease of job %s", job.id)

    def drain(self, limit: int = 10_000) -> int:
        """Run due jobs until none is left (CLIs and tests); how many ran."""
        ran = 0
        while ran < limit and self.run_once():
            ran += 1
        return ran
