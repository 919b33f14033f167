"""Graceful shutdown: on SIGTERM a node stops accepting work but finishes requests in flight."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.live import live_server
from tests.support.registry import basic


def _range_end(response: httpx.Response) -> int:
    return int(response.headers["Range"].rpartition("-")[2])


def test_sigterm_lets_a_slow_upload_in_flight_finish(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as server:
        server.ecr().create_repository(repositoryName="slow/app")
        auth = basic(server.password())
        started = httpx.post(f"{server.url}/v2/slow/app/blobs/uploads/", headers=auth)
        assert started.status_code == 202, started.text
        location = server.url + httpx.URL(started.headers["Location"]).raw_path.decode()
        release = threading.Event()
        first, second = b"a" * (3 << 20), b"b" * 65536  # bodies are stored 1 MiB at a time

        def body() -> Iterator[bytes]:
            yield first
            release.wait(30)
            yield second

        outcome: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: outcome.append(
                httpx.patch(location, content=body(), headers=auth, timeout=60)
            )
        )
        sender.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the first half is stored: the request is in flight
            status = httpx.get(location, headers=auth)
            if status.status_code == 204 and _range_end(status) >= (1 << 20) - 1:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the first half never arrived")
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.process.poll() is None  # waiting for the request in flight
        release.set()
        sender.join(30)
        assert outcome, "the upload got no answer"
        assert outcome[0].status_code == 202, outcome[0].text
        assert _range_end(outcome[0]) == len(first) + len(second) - 1
        # uvicorn shuts down cleanly, then re-raises the signal it caught
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Finished server process" in server.log()
