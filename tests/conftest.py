"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.registry import InProcessRegistry, in_process_registry


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[InProcessRegistry]:
    """A fresh Stiva (SQLite + filesystem in tmp_path) driven in-process."""
    with in_process_registry(tmp_path / "data") as handle:
        yield handle
