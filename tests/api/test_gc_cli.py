"""`stiva gc` and `stiva fsck` against a running registry's data directory, and the periodic GC
job the server's worker runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from stiva.app import build_context
from stiva.cli import main
from stiva.clock import ManualClock
from stiva.config import load_settings
from stiva.metadata import models as m
from stiva.workers.handlers import HANDLERS, periodic
from stiva.workers.runner import Worker
from tests.contract.test_gc import blob_file, pull, sha
from tests.support.registry import InProcessRegistry, in_process_registry


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[InProcessRegistry]:
    with in_process_registry(tmp_path / "data", workers={"enabled": False}) as r:
        auth = r.auth
        r.create_repository("team/app")
        r.push_image("team/app", "v1", auth, layers=[b"kept layer"])
        r.push_blob("team/app", b"garbage one", auth)
        r.push_blob("team/app", b"garbage two!", auth)
        yield r


def run(reg: InProcessRegistry, *args: str) -> Result:
    data_dir = str(reg.settings.data_dir)
    return CliRunner().invoke(main, [args[0], "--data-dir", data_dir, *args[1:]])


def test_dry_run_lists_and_keeps(reg: InProcessRegistry) -> None:
    result = run(reg, "gc", "--dry-run", "--grace", "0")
    assert result.exit_code == 0, result.output
    assert f"would delete blob: {sha(b'garbage one')}" in result.output
    assert "123456789012/team/app" in result.output
    assert blob_file(reg, sha(b"garbage one")).exists()


def test_stray_files_are_reported_as_left_alone(reg: InProcessRegistry) -> None:
    stray = reg.settings.data_dir / "storage" / "blobs" / "notes.txt"
    stray.write_text("someone's notes")
    dry = run(reg, "gc", "--dry-run", "--grace", "0")
    assert dry.exit_code == 0, dry.output
    assert "left alone, not a blob: blobs/notes.txt" in dry.output
    assert "would delete stray" not in dry.output
    real = run(reg, "gc", "--grace", "0")
    assert "files in the blob store that are not blobs (left alone): 1" in real.output
    assert stray.exists()


def test_gc_frees_garbage_while_the_server_runs(reg: InProcessRegistry) -> None:
    auth = reg.auth
    result = run(reg, "gc", "--grace", "0", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["blobsDeleted"] == 2
    assert summary["blobBytes"] == len(b"garbage one") + len(b"garbage two!")
    assert summary["repositories"] == {"123456789012/team/app": {"blobs": 2, "bytes": 23}}
    assert not blob_file(reg, sha(b"garbage one")).exists()
    assert pull(reg.client, "team/app", "v1", auth)
    checked = run(reg, "fsck", "--grace", "0")
    assert checked.exit_code == 0, checked.output
    assert checked.output.strip().endswith("clean")


def test_the_configured_grace_keeps_young_garbage(reg: InProcessRegistry) -> None:
    result = run(reg, "gc")  # gc.grace_seconds: one hour by default
    assert result.exit_code == 0, result.output
    assert "blobs deleted: 0" in result.output
    assert blob_file(reg, sha(b"garbage one")).exists()


def test_fsck_exit_status_tells_garbage_from_damage(reg: InProcessRegistry) -> None:
    assert run(reg, "fsck").exit_code == 0  # the garbage is younger than the grace period
    garbage = run(reg, "fsck", "--grace", "0")
    assert garbage.exit_code == 1
    assert "GARBAGE" in garbage.output
    blob_file(reg, sha(b"kept layer")).unlink()
    damaged = run(reg, "fsck", "--grace", "0", "--json")
    assert damaged.exit_code == 5
    doc = json.loads(damaged.output)
    assert {"severity": "damage", "kind": "missing-file"}.items() <= doc["findings"][0].items()
    assert run(reg, "fsck").exit_code == 4


def test_commands_need_a_stiva_data_directory(tmp_path: Path) -> None:
    for command in ("gc", "fsck"):
        result = CliRunner().invoke(main, [command, "--data-dir", str(tmp_path / "nothing")])
        assert result.exit_code == 1
        assert "no Stiva database" in result.output


def test_the_server_collects_periodically(tmp_path: Path) -> None:
    """The worker's periodic `gc` job, on the configured interval and grace, by a manual clock."""
    clock = ManualClock()
    with in_process_registry(tmp_path / "data", clock=clock, workers={"enabled": False}) as r:
        r.create_repository("team/app")
        digest = r.push_blob("team/app", b"garbage", r.auth)
    settings = load_settings(
        overrides={
            "data_dir": tmp_path / "data",
            "gc": {"interval_seconds": 600, "grace_seconds": 60},
        }
    )
    [spec] = [p for p in periodic(settings) if p.kind == "gc"]
    assert (spec.interval, spec.payload) == (timedelta(seconds=600), {"grace_seconds": 60})
    ctx = build_context(settings, clock)
    worker = Worker(ctx, HANDLERS, periodic=[spec])
    try:
        worker.schedule_periodic()
        assert worker.drain() == 1  # the first run: the garbage is younger than 60 s
        clock.advance(timedelta(seconds=90))
        assert worker.drain() == 0  # not due before the interval
        clock.advance(timedelta(seconds=600))
        assert worker.drain() == 1
        with ctx.db.read() as session:
            runs = session.scalars(select(m.GcRun).order_by(m.GcRun.id)).all()
            assert [run.blobs_deleted for run in runs] == [0, 1]
            assert session.get(m.Blob, digest) is None
    finally:
        ctx.db.dispose()
