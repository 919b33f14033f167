"""Completing uploads takes one database connection per request: with a small pool, many
completions at once queue for it, none fails (each used to hold one connection and wait for a
second, for the session's lock, until the pool gave up)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.registry import InProcessRegistry, in_process_registry

PUSHES = 12


@pytest.fixture
def small_pool(tmp_path: Path) -> Iterator[InProcessRegistry]:
    pool = {"pool_size": 2, "max_overflow": 0, "pool_timeout_seconds": 20}
    with in_process_registry(tmp_path / "data", workers={"enabled": False}, database=pool) as r:
        yield r


def test_many_completions_at_once_with_a_small_pool(small_pool: InProcessRegistry) -> None:
    reg = small_pool
    auth = reg.auth
    reg.create_repository("app")
    started = []
    for _ in range(PUSHES):  # sessions opened first, so the completions overlap
        answer = reg.client.post("/v2/app/blobs/uploads/", headers=auth)
        assert answer.status_code == 202, answer.text
        started.append(answer.headers["location"])
    blobs = [hashlib.shake_256(b"%d" % i).digest(256 * 1024) for i in range(PUSHES)]
    statuses: list[Any] = [None] * PUSHES
    gate = threading.Barrier(PUSHES)

    def push(i: int) -> None:
        gate.wait()
        digest = "sha256:" + hashlib.sha256(blobs[i]).hexdigest()
        done = reg.client.put(started[i], params={"digest": digest}, content=blobs[i], headers=auth)
        statuses[i] = (done.status_code, done.text[:200])

    threads = [threading.Thread(target=push, args=(i,)) for i in range(PUSHES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [s for s in statuses if s is None or s[0] != 201] == []
    for data in blobs:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        assert reg.client.get(f"/v2/app/blobs/{digest}", headers=auth).content == data
