"""GC while the registry is busy: clients push images sharing layers (and delete some) while
collections run back to back with zero grace; pulls go on meanwhile. Afterwards every image kept
pulls byte-exact, fsck is clean and no unreferenced blob is left.

With zero grace a push can lose the race for its own blobs (collected between their upload and
the manifest PUT): the PUT is then refused (MANIFEST_BLOB_UNKNOWN) and the client pushes the
image again, as a real client would. What must never happen is a stored manifest missing a blob.

Zero grace promises safety, not progress: on a slow machine every attempt of a push can have a
collection in it. So the collector, between two runs, waits (a bounded time) until each pusher
still at work has made one whole attempt since the last run ended; that attempt meets no
collection and gets through, while the next run still overlaps the attempts then in flight.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exists, select

from stiva.metadata import models as m
from stiva.services import gc
from stiva.services.fsck import fsck
from tests.contract.test_gc import OCI_MANIFEST, context, pull, sha
from tests.support.registry import InProcessRegistry, in_process_registry

PUSHERS = 4
IMAGES = 6
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"
ATTEMPTS = 200


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[InProcessRegistry]:
    with in_process_registry(tmp_path / "data", workers={"enabled": False}) as r:
        yield r


@dataclass
class Pushed:
    kept: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, digest) -> bytes
    retries: int = 0
    pulls: int = 0
    collections: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)
    # Collections ended so far (the "epoch"); per pusher at work, the latest epoch in which it
    # began and finished a whole attempt (no collection ended during it).
    epoch: int = 0
    attempted: dict[int, int] = field(default_factory=dict)

    def attempt(self, pusher: int, began: int) -> None:
        with self.lock:
            if began == self.epoch:
                self.attempted[pusher] = began
                self.lock.notify_all()

    def retire(self, pusher: int) -> None:
        with self.lock:
            self.attempted.pop(pusher, None)
            self.lock.notify_all()

    def collected(self, stop: threading.Event) -> None:
        """One more collection ended: wait until each pusher at work made an attempt after it."""
        with self.lock:
            self.collections += 1
            self.epoch += 1
            self.lock.wait_for(
                lambda: stop.is_set() or all(e == self.epoch for e in self.attempted.values()),
                timeout=60,
            )


def push_blob(client: Any, name: str, data: bytes, auth: dict[str, str]) -> bool:
    """Upload one blob (POST, PATCH, PUT); False when a collection ended the session first."""
    started = client.post(f"/v2/{name}/blobs/uploads/", headers=auth)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    patched = client.patch(location, content=data, headers=auth)
    if patched.status_code == 404:  # BLOB_UPLOAD_UNKNOWN: the idle session was collected
        return False
    assert patched.status_code == 202, patched.text
    put = client.put(location, params={"digest": sha(data)}, headers=auth)
    if put.status_code == 404:
        return False
    assert put.status_code == 201, put.text
    return True


def push_image(
    client: Any,
    number: int,
    tag: str,
    layers: list[bytes],
    auth: dict[str, str],
    pushed: Pushed,
) -> tuple[str, bytes]:
    """Push like a client: upload the blobs, PUT the manifest; when the PUT is refused because
    a collection took some of the blobs (MANIFEST_BLOB_UNKNOWN), push the image again (the
    other blobs may be gone too by the next PUT)."""
    name = repository_of(number)
    config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
    blobs = {sha(data): data for data in [config, *layers]}
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": LAYER, "digest": sha(d), "size": len(d)} for d in layers],
    }
    raw = json.dumps(manifest).encode()
    for _attempt in range(ATTEMPTS):
        with pushed.lock:
            began = pushed.epoch
        put = None
        if all(push_blob(client, name, data, auth) for data in blobs.values()):
            put = client.put(
                f"/v2/{name}/manifests/{tag}",
                content=raw,
                headers={**auth, "Content-Type": OCI_MANIFEST},
            )
        pushed.attempt(number, began)
        if put is not None and put.status_code == 201:
            return "sha256:" + hashlib.sha256(raw).hexdigest(), raw
        if put is not None:
            errors = put.json()["errors"]
            assert {e["code"] for e in errors} == {"MANIFEST_BLOB_UNKNOWN"}, put.text
            assert {e["detail"]["digest"] for e in errors} <= set(blobs), put.text
        with pushed.lock:
            pushed.retries += 1
    raise AssertionError(f"the push of {name}:{tag} never got through")


def repository_of(number: int) -> str:
    return f"busy/repo{number % 2}"  # two repositories, two pushers each


def pusher(client: Any, number: int, auth: dict[str, str], pushed: Pushed) -> None:
    """Push IMAGES images; keep the even ones, delete each odd one after pushing the next."""
    try:
        push_images(client, number, auth, pushed)
    finally:
        pushed.retire(number)


def push_images(client: Any, number: int, auth: dict[str, str], pushed: Pushed) -> None:
    name = repository_of(number)
    doomed: str | None = None
    for k in range(IMAGES):
        layers = [b"base layer of everyone", f"team layer {number % 2}".encode()]
        layers.append(f"own layer {number}-{k}".encode())
        digest, raw = push_image(client, number, f"p{number}-{k}", layers, auth, pushed)
        if doomed is not None:
            deleted = client.delete(f"/v2/{name}/manifests/{doomed}", headers=auth)
            assert deleted.status_code == 202, deleted.text
        if k % 2 == 0:
            with pushed.lock:
                pushed.kept[(name, digest)] = raw
        doomed = digest if k % 2 == 1 else None
    if doomed is not None:
        deleted = client.delete(f"/v2/{name}/manifests/{doomed}", headers=auth)
        assert deleted.status_code == 202, deleted.text


def puller(client: Any, auth: dict[str, str], pushed: Pushed, stop: threading.Event) -> None:
    """Pull the images kept (never deleted), one after another, while all this goes on."""
    while not stop.is_set():
        with pushed.lock:
            kept = list(pushed.kept.items())
        if kept:
            (name, digest), raw = kept[pushed.pulls % len(kept)]
            assert pull(client, name, digest, auth) == raw
            pushed.pulls += 1
        time.sleep(0.02)


def busy(client: Any, auth: dict[str, str], collect_once: Callable[[], object]) -> Pushed:
    """PUSHERS clients pushing and deleting, one puller, and `collect_once` called back to back
    (with a short pause) until the pushers are done; what was pushed and kept."""
    pushed, stop = Pushed(), threading.Event()
    errors: list[BaseException] = []

    def guarded(target: Callable[..., object], *args: object) -> None:
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)

    first_done = threading.Event()

    def collector() -> None:
        # At least two runs whatever the timing: the pushers start once the first is over, so
        # the second and any later ones overlap their pushes.
        while pushed.collections < 2 or not stop.is_set():
            collect_once()
            first_done.set()
            pushed.collected(stop)

    background = [
        threading.Thread(target=guarded, args=(collector,)),
        threading.Thread(target=guarded, args=(puller, client, auth, pushed, stop)),
    ]
    pushers = [
        threading.Thread(target=guarded, args=(pusher, client, i, auth, pushed))
        for i in range(PUSHERS)
    ]
    with pushed.lock:
        pushed.attempted = dict.fromkeys(range(PUSHERS), -1)
    for thread in background:
        thread.start()
    assert first_done.wait(timeout=240), "the first collection never finished"
    for thread in pushers:
        thread.start()
    for thread in pushers:
        thread.join(timeout=240)
    stop.set()
    for thread in background:
        thread.join(timeout=120)
    assert not errors, errors
    assert pushed.collections >= 2
    assert len(pushed.kept) == PUSHERS * ((IMAGES + 1) // 2)
    assert pushed.pulls > 0
    return pushed


def unreferenced_blobs(reg: InProcessRegistry) -> set[str]:
    with context(reg).db.read() as session:
        referenced = exists().where(m.ManifestBlob.digest == m.Blob.digest)
        return set(session.scalars(select(m.Blob.digest).where(~referenced)))


@pytest.mark.slow
def test_pushes_pulls_and_collections_at_once(reg: InProcessRegistry) -> None:
    auth = reg.auth
    for name in ("busy/repo0", "busy/repo1"):
        reg.create_repository(name)
    ctx = context(reg)
    runs: list[gc.GcReport] = []
    pushed = busy(
        reg.client,
        auth,
        lambda: runs.append(gc.collect(ctx.db, ctx.storage, grace=timedelta(0))),
    )
    final = gc.collect(ctx.db, ctx.storage, grace=timedelta(0))
    assert final.stray_files == 0
    for (name, digest), raw in pushed.kept.items():
        assert pull(reg.client, name, digest, auth) == raw
    assert unreferenced_blobs(reg) == set()
    report = fsck(ctx.db, ctx.storage, grace=timedelta(0))
    assert report.findings == []
    freed = sum(r.blobs_deleted + r.orphan_files for r in [*runs, final])
    assert freed > 0, "deleting images left garbage for the collector"
