"""Which code runs inside a database write unit of work (to show slow work stays outside)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import pytest

from stiva.metadata.database import Database


def track_writes(db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[[], bool]:
    """Wrap `db.write`; the function returned tells whether the calling thread is inside one."""
    writing = threading.local()
    database_write = db.write

    @contextlib.contextmanager
    def write() -> Iterator[object]:
        writing.on = True
        try:
            with database_write() as session:
                yield session
        finally:
            writing.on = False

    monkeypatch.setattr(db, "write", write)
    return lambda: bool(getattr(writing, "on", False))
