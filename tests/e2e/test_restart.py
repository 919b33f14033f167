"""State that must survive a restart: upload sessions, tokens, images."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from tests.support.live import live_server
from tests.support.registry import basic


def test_chunked_upload_continues_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, second = b"a" * 700_000, b"b" * 300_001
    digest = "sha256:" + hashlib.sha256(first + second).hexdigest()
    with live_server(data_dir) as server:
        server.ecr().create_repository(repositoryName="restart/blob")
        auth = basic(server.password())
        started = httpx.post(f"{server.url}/v2/restart/blob/blobs/uploads/", headers=auth)
        assert started.status_code == 202
        location = started.headers["Location"]
        chunk = httpx.patch(
            f"{server.url}{location}",
            content=first,
            headers={
                **auth,
                "Content-Range": f"0-{len(first) - 1}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert chunk.status_code == 202
        assert chunk.headers["Range"] == f"0-{len(first) - 1}"

    with live_server(data_dir) as server:  # same data directory: a restarted deployment
        status = httpx.get(f"{server.url}{location}", headers=auth)  # the old token still works
        assert status.status_code == 204
        assert status.headers["Range"] == f"0-{len(first) - 1}"
        out_of_order = httpx.patch(
            f"{server.url}{location}",
            content=second,
            headers={**auth, "Content-Range": f"{len(first) + 5}-{len(first) + len(second) + 4}"},
        )
        assert out_of_order.status_code == 416
        done = httpx.put(
            f"{server.url}{location}",
            params={"digest": digest},
            content=second,
            headers={**auth, "Content-Range": f"{len(first)}-{len(first) + len(second) - 1}"},
        )
        assert done.status_code == 201, done.text
        blob = httpx.get(f"{server.url}/v2/restart/blob/blobs/{digest}", headers=auth)
        assert blob.status_code == 200
        assert blob.content == first + second
