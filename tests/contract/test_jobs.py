"""The job queue and the worker: leases, retries, dedup, periodic jobs (no sleeping: a clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stiva.app import build_context, prepare
from stiva.clock import ManualClock
from stiva.config import load_settings
from stiva.metadata import models as m
from stiva.services import jobs
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.workers.runner import Periodic, Worker

START = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[RegistryContext]:
    settings = load_settings(overrides={"data_dir": tmp_path})
    prepare(settings)
    context = build_context(settings, ManualClock(START))
    yield context
    context.db.dispose()


def clock(ctx: RegistryContext) -> ManualClock:
    assert isinstance(ctx.db.clock, ManualClock)
    return ctx.db.clock


def job_rows(ctx: RegistryContext) -> list[tuple[str, str, int]]:
    with ctx.db.read() as session:
        return [
            (j.kind, j.status, j.attempts)
            for j in session.scalars(select(m.Job).order_by(m.Job.id))
        ]


def test_dedup_key_allows_one_live_job(ctx: RegistryContext) -> None:
    with ctx.db.write() as session:
        first = jobs.enqueue(session, kind="k", dedup_key="one")
        assert jobs.enqueue(session, kind="k", dedup_key="one") is None
        assert jobs.enqueue(session, kind="k") is not None  # no key: no dedup
    assert first is not None
    with ctx.db.write() as session:
        claimed = jobs.claim(session, kinds=["k"], owner="w1", lease=LEASE)
        assert claimed is not None
        assert claimed.id == first
    with ctx.db.write() as session:
        assert jobs.complete(session, job_id=first, owner="w1")
    with ctx.db.write() as session:
        assert jobs.enqueue(session, kind="k", dedup_key="one") is not None  # released when done


def test_expired_lease_passes_the_job_to_another_worker(ctx: RegistryContext) -> None:
    with ctx.db.write() as session:
        jobs.enqueue(session, kind="k", payload={"x": 1})
    with ctx.db.write() as session:
        first = jobs.claim(session, kinds=["k"], owner="dead", lease=LEASE)
    assert first is not None
    with ctx.db.write() as session:
        assert jobs.claim(session, kinds=["k"], owner="other", lease=LEASE) is None  # leased
    clock(ctx).advance(LEASE + timedelta(seconds=1))
    with ctx.db.write() as session:
        second = jobs.claim(session, kinds=["k"], owner="other", lease=LEASE)
    assert second is not None
    assert (second.id, second.payload, second.attempts) == (first.id, {"x": 1}, 2)
    with ctx.db.write() as session:
        assert not jobs.complete(session, job_id=first.id, owner="dead")  # no longer its job
        assert jobs.complete(session, job_id=first.id, owner="other")


def test_failures_back_off_then_give_up(ctx: RegistryContext) -> None:
    calls: list[int] = []

    def broken(_ctx: RegistryContext, job: ClaimedJob) -> None:
        calls.append(job.attempts)
        raise RuntimeError("boom")

    worker = Worker(ctx, {"k": broken}, lease=LEASE, max_attempts=3)
    with ctx.db.write() as session:
        jobs.enqueue(session, kind="k")
    assert worker.run_once()
    assert not worker.run_once()  # backing off
    clock(ctx).advance(timedelta(seconds=11))
    assert worker.run_once()
    clock(ctx).advance(timedelta(seconds=21))
    assert worker.run_once()
    clock(ctx).advance(timedelta(hours=2))
    assert not worker.run_once()
    assert calls == [1, 2, 3]
    assert job_rows(ctx) == [("k", "failed", 3)]
    with ctx.db.read() as session:
        assert session.scalars(select(m.Job.last_error)).one() == "RuntimeError: boom"


def test_periodic_jobs_requeue_themselves_once(ctx: RegistryContext) -> None:
    runs: list[datetime] = []

    def sweep(c: RegistryContext, job: ClaimedJob) -> None:
        runs.append(c.now())

    hourly = Periodic("sweep", timedelta(hours=1))
    workers = [Worker(ctx, {"sweep": sweep}, periodic=[hourly], owner=f"n{i}") for i in range(2)]
    for worker in workers:  # two nodes start: one occurrence is queued
        worker.schedule_periodic()
    assert [w.run_once() for w in workers] == [True, False]
    clock(ctx).advance(timedelta(minutes=59))
    assert not any(w.run_once() for w in workers)
    clock(ctx).advance(timedelta(minutes=2))
    assert workers[1].run_once()
    assert runs == [START, START + timedelta(minutes=61)]
    kinds: list[tuple[str, str, int]] = job_rows(ctx)
    assert [status for _, status, _ in kinds] == ["done", "done", "queued"]


def test_a_long_job_keeps_its_lease(ctx: RegistryContext) -> None:
    seen: dict[str, Any] = {}

    def slow(c: RegistryContext, job: ClaimedJob) -> None:
        with c.db.write() as session:
            seen["renewed"] = jobs.heartbeat(session, job_id=job.id, owner=job.owner, lease=LEASE)
            seen["stolen"] = jobs.claim(session, kinds=["slow"], owner="thief", lease=LEASE)

    with ctx.db.write() as session:
        jobs.enqueue(session, kind="slow")
    assert Worker(ctx, {"slow": slow}, lease=LEASE).run_once()
    assert seen == {"renewed": True, "stolen": None}
    assert job_rows(ctx) == [("slow", "done", 1)]
