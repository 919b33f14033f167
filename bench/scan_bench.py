#!/usr/bin/env python3
"""Scanning benchmark: what a scan costs next to merely decompressing the image's layers, and
what a rescan costs after a vulnerability database update.

In-process (the service layer of a fresh Stiva in a temp directory, SQLite + filesystem), with
the real advisory databases of `tests/fixtures/shared/vulndb` imported first (PyPI, Go,
crates.io, npm sample, Alpine secdb v3.4, the tests' synthetic Debian records). Images:

- `known`: the tests' known-answer image (Debian 12 dpkg status with 796 packages, Python, npm,
  Go, Rust, Java and Ruby packages, a whiteout layer), about 1 MiB;
- `alpine`: the Alpine 3.4 apk database of the tests, one small layer;
- `large`: the `known` Debian base plus two generated layers of `--large-mib` MiB of files
  (half pseudo-random, half text, 256 KiB each) with 300 Python distributions and 300 npm
  packages among them, gzip level 6 like `docker push`.

For each image it reports, as medians of `--reps` runs:

- decompress: reading every layer blob from storage and inflating it, nothing else (the floor
  any scanner pays);
- cold scan: StartImageScan's job with no layer in the analysis cache (read + inflate + tar walk
  + analyzers + merge + match + store), each run on a fresh copy of the image's layers;
- warm scan: the same job when every layer was analysed before (merge + match + store);
- rescan: one continuous pass over `--images` CONTINUOUS_SCAN images after a database import
  that changes one advisory, divided by the number of images (no layer is read).

It is a measurement, not a test. `make bench` does not run it; run it directly:

    .venv/bin/python bench/scan_bench.py [--reps 5] [--large-mib 256] [--images 40] [--json F]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import zstandard  # noqa: E402
from tests.support.registry import InProcessRegistry, in_process_registry  # noqa: E402
from tests.support.scanning import (  # noqa: E402
    DATABASE,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    VULNDB,
    alpine_layer,
    debian_base,
    known_image_layers,
)

from stiva.app import make_worker  # noqa: E402
from stiva.oci.digest import Digest  # noqa: E402
from stiva.services.blobs import open_blob  # noqa: E402
from stiva.services.scanning import continuous, queue, scan_job, vulndb_files  # noqa: E402
from stiva.services.scanning.vulndb import import_source  # noqa: E402
from stiva.workers.runner import Worker  # noqa: E402

MIB = 1 << 20
CHUNK = 1 << 20


def _noise(size: int, seed: int) -> bytes:
    return hashlib.shake_256(seed.to_bytes(8, "big")).digest(size)


def _text(size: int, seed: int) -> bytes:
    line = f"def function_{seed}(argument):\n    return argument * {seed} + 1  # text\n".encode()
    return (line * (size // len(line) + 1))[:size]


def large_layer(mib: int, seed: int) -> bytes:
    """Files of 256 KiB (half noise, half text) + 150 dist-infos + 150 package.json, gzip -6."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:

        def add(path: str, data: bytes) -> None:
            info = tarfile.TarInfo(path)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))

        for index in range(mib * 4):
            maker = _noise if index % 2 else _text
            add(f"opt/data{seed}/file{index}.bin", maker(256 * 1024, seed * 100_000 + index))
        site = "usr/local/lib/python3.11/site-packages"
        for index in range(150):
            name = f"pkg{seed}x{index}"
            meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{index}.0\n\nbody\n"
            add(f"{site}/{name}-1.{index}.0.dist-info/METADATA", meta.encode())
            manifest = json.dumps({"name": f"npm{seed}x{index}", "version": f"2.{index}.0"})
            add(f"srv/node_modules/npm{seed}x{index}/package.json", manifest.encode())
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def push(registry: InProcessRegistry, name: str, layers: list[bytes], salt: str) -> str:
    """Push an image (a config unique to `salt`); its digest."""
    auth = registry.auth
    config = json.dumps({"architecture": "amd64", "os": "linux", "salt": salt}).encode()
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": registry.push_blob(name, config, auth),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": OCI_LAYER,
                "digest": registry.push_blob(name, data, auth),
                "size": len(data),
            }
            for data in layers
        ],
    }
    raw = json.dumps(doc).encode()
    response = registry.client.put(
        f"/v2/{name}/manifests/{salt}",
        content=raw,
        headers={**auth, "Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201, response.text
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def decompress(registry: InProcessRegistry, layers: list[bytes]) -> float:
    """Seconds to read every layer from storage and inflate it (the data is discarded)."""
    storage = registry.client.app.state.ctx.storage  # type: ignore[attr-defined]
    began = time.perf_counter()
    for data in layers:
        with open_blob(storage, Digest.of(data)) as blob:
            if data[:2] == b"\x1f\x8b":
                stream: Any = gzip.GzipFile(fileobj=blob, mode="rb")
            elif data[:4] == b"\x28\xb5\x2f\xfd":
                stream = zstandard.ZstdDecompressor().stream_reader(blob, read_across_frames=True)
            else:
                stream = blob
            while stream.read(CHUNK):
                pass
    return time.perf_counter() - began


def scan(registry: InProcessRegistry, name: str, digest: str) -> float:
    """Seconds for one StartImageScan job (the worker runs scan jobs only)."""
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    worker = Worker(ctx, {queue.SCAN_JOB: scan_job.run_scan})
    registry.ecr_ok("StartImageScan", repositoryName=name, imageId={"imageDigest": digest})
    began = time.perf_counter()
    assert worker.drain() == 1
    elapsed = time.perf_counter() - began
    status = registry.ecr_ok(
        "DescribeImageScanFindings", repositoryName=name, imageId={"imageDigest": digest}
    )["imageScanStatus"]["status"]
    assert status == "COMPLETE", status
    return elapsed


def variants(layers: list[bytes], salt: int) -> list[bytes]:
    """The layers made new (so no analysis is cached): a file appended to each tar stream."""
    fresh = []
    for data in layers:
        marker = tarfile.TarInfo(f"bench/marker-{salt}")
        marker.size, marker.mtime = 0, 0
        if data[:2] == b"\x1f\x8b":
            fresh.append(data + gzip.compress(marker.tobuf() + bytes(1024), mtime=0))
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            fresh.append(data + zstandard.ZstdCompressor().compress(marker.tobuf()))
        else:
            fresh.append(data[:-1024] + marker.tobuf() + bytes(1024))
    return fresh


def measure_image(
    registry: InProcessRegistry, label: str, layers: list[bytes], reps: int
) -> dict[str, Any]:
    name = f"bench/{label}"
    registry.create_repository(name)
    cold, inflate = [], []
    for rep in range(reps):
        fresh = variants(layers, rep) if rep else layers
        digest = push(registry, name, fresh, f"cold{rep}")
        os.sync()
        inflate.append(decompress(registry, fresh))
        cold.append(scan(registry, name, digest))
    warm = [scan(registry, name, push(registry, name, layers, f"warm{rep}")) for rep in range(reps)]
    sizes = sum(len(layer) for layer in layers)
    return {
        "image": label,
        "compressed_mib": round(sizes / MIB, 2),
        "decompress_s": statistics.median(inflate),
        "cold_scan_s": statistics.median(cold),
        "warm_scan_s": statistics.median(warm),
    }


def rescan(registry: InProcessRegistry, images: int, data: Path) -> dict[str, Any]:
    """Seconds per image of a continuous pass after an import that changes one advisory."""
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    registry.create_repository("live/app")
    registry.ecr_ok(
        "PutRegistryScanningConfiguration",
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": "CONTINUOUS_SCAN",
                "repositoryFilters": [{"filter": "live/*", "filterType": "WILDCARD"}],
            }
        ],
    )
    layers = known_image_layers()
    for index in range(images):
        push(registry, "live/app", layers, f"img{index}")
    make_worker(ctx, registry.settings).drain()  # first scans (layers cached after the first)
    record = {
        "id": "BENCH-0001",
        "modified": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "zlib"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:9"}]}
                ],
            }
        ],
    }
    feed = data / "bench-update.json"
    feed.write_text(json.dumps([record]))
    for source in vulndb_files.sources_of(feed):
        import_source(ctx.db, source, now=ctx.now)
    began = time.perf_counter()
    report = continuous.continuous_pass(ctx)
    elapsed = time.perf_counter() - began
    assert report.rematched == images, report
    assert report.opened == 2 * images, report  # zlib1g and zlib1g-dev in every image
    return {"images": images, "pass_s": elapsed, "per_image_ms": 1000 * elapsed / images}


def import_database(registry: InProcessRegistry) -> dict[str, Any]:
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    paths = [*DATABASE, VULNDB / "alpine-secdb" / "v3.4"]
    sources = [s for p in paths for s in vulndb_files.sources_of(p)]
    began = time.perf_counter()
    records = sum(import_source(ctx.db, s, now=ctx.now).records for s in sources)
    return {"records": records, "import_s": time.perf_counter() - began}


@contextmanager
def registry_in(tmp: Path) -> Iterator[InProcessRegistry]:
    with in_process_registry(tmp / "data", workers={"enabled": False}) as registry:
        yield registry


def timed(label: str, action: Callable[[], Any]) -> Any:
    print(f"... {label}", file=sys.stderr, flush=True)
    return action()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--large-mib", type=int, default=256, help="MiB of each generated layer")
    parser.add_argument("--images", type=int, default=40, help="images in the rescan pass")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stiva-scan-bench-") as temp:
        tmp = Path(temp)
        with registry_in(tmp) as registry:
            database = timed("importing the databases", lambda: import_database(registry))
            half = args.large_mib // 2
            images = {
                "known": known_image_layers(),
                "alpine": [alpine_layer()],
                "large": timed(
                    "generating the large image",
                    lambda: [debian_base().gzip(), large_layer(half, 1), large_layer(half, 2)],
                ),
            }
            results = [
                timed(
                    f"image {label}",
                    lambda i=label, ls=layers: measure_image(registry, i, ls, args.reps),
                )
                for label, layers in images.items()
            ]
            again = timed("rescans", lambda: rescan(registry, args.images, tmp))
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "database": database,
        "images": results,
        "rescan": again,
    }
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def render(report: dict[str, Any]) -> str:
    lines = [
        f"database: {report['database']['records']} records imported in "
        f"{report['database']['import_s']:.2f} s",
        "",
        "| image | compressed | decompress only | cold scan | cold / decompress | warm scan |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["images"]:
        ratio = r["cold_scan_s"] / r["decompress_s"] if r["decompress_s"] else float("nan")
        lines.append(
            f"| {r['image']} | {r['compressed_mib']} MiB | {r['decompress_s']:.3f} s | "
            f"{r['cold_scan_s']:.3f} s | {ratio:.2f}x | {r['warm_scan_s']:.3f} s |"
        )
    again = report["rescan"]
    lines += [
        "",
        f"rescan after a database update: {again['images']} images in {again['pass_s']:.2f} s, "
        f"{again['per_image_ms']:.1f} ms per image",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
