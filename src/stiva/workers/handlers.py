"""Which function runs each kind of job, and which kinds recur (composed by the app).

Each feature adds its rows here: `HANDLERS[kind] = function(ctx, job)`, and its recurring jobs
in `periodic(settings)`.
"""

from __future__ import annotations

from datetime import timedelta

from stiva.config import Settings
from stiva.services import gc
from stiva.services.replication import backfill as replication_backfill
from stiva.services.replication import deliver as replication_deliver
from stiva.services.replication import outbox as replication_outbox
from stiva.services.scanning import continuous, queue, scan_job
from stiva.workers import lifecycle
from stiva.workers.runner import Handler, Periodic

HANDLERS: dict[str, Handler] = {
    **lifecycle.HANDLERS,
    gc.JOB_KIND: gc.collect_job,
    queue.SCAN_JOB: scan_job.run_scan,
    queue.CONTINUOUS_JOB: continuous.run_continuous,
    replication_outbox.JOB_KIND: replication_deliver.run_delivery,
    replication_backfill.JOB_KIND: replication_backfill.run_backfill,
}


def periodic(settings: Settings) -> list[Periodic]:
    """The recurring jobs this deployment runs."""
    return [
        lifecycle.sweep(settings),
        Periodic(
            gc.JOB_KIND,
            timedelta(seconds=settings.gc.interval_seconds),
            {"grace_seconds": settings.gc.grace_seconds},
        ),
    ]
