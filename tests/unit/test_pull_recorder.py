"""The pull recorder keeps the latest pull per (image, puller) and survives a failed write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from stiva.metadata.database import Database
from stiva.services.pulls import PullRecorder

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class BrokenDatabase:
    @contextmanager
    def write(self) -> Iterator[Any]:
        raise RuntimeError("database unavailable")
        yield  # pragma: no cover


def test_a_failed_flush_keeps_the_notes_for_the_next_one() -> None:
    recorder = PullRecorder()
    recorder.record(1, "sha256:1", T0, "arn:aws:iam::123456789012:user/a")
    recorder.record(1, "sha256:1", T0 - timedelta(hours=1), "arn:aws:iam::123456789012:user/a")
    recorder.record(2, "sha256:2", T0, "arn:aws:iam::123456789012:role/b")
    with pytest.raises(RuntimeError):
        recorder.flush(cast(Database, BrokenDatabase()))
    recorder.record(1, "sha256:1", T0 + timedelta(seconds=1), "arn:aws:iam::123456789012:user/a")
    pending = recorder._pending  # its state is what this test is about
    assert pending == {
        (1, "sha256:1", "arn:aws:iam::123456789012:user/a"): T0 + timedelta(seconds=1),
        (2, "sha256:2", "arn:aws:iam::123456789012:role/b"): T0,
    }


def test_nothing_to_flush_touches_no_database() -> None:
    assert PullRecorder().flush(cast(Database, BrokenDatabase())) == 0
