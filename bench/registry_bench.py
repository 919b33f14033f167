#!/usr/bin/env python3
"""Side-by-side benchmark: Stiva vs CNCF Distribution (Debian's `docker-registry`).

Measures, on loopback, with fresh servers and fresh data directories:

- push of a 512 MiB, 5-layer OCI image with skopeo (median of a few repetitions, alternating
  which registry goes first). Every repetition pushes a freshly generated image into a new
  repository, and the registry's storage must grow by the whole image: skopeo silently skips
  blobs the destination holds and mounts blobs it pushed before to another repository of the
  same registry, and neither would be a real upload;
- pull of that image with skopeo into a fresh `oci:` layout (median, alternating);
- the rate of manifest GETs by tag with wrk: Stiva authenticated (Basic, the ECR token),
  Distribution anonymous, Stiva with 1 and 2 server workers (`server.workers`);
- the server CPU time (user + system, workers included) each transfer cost.

The registries store on disk (the temp dir); skopeo's side (the image, the pulled copies) lives
on tmpfs when there is room, so the client's writes and deletions stay out of the timings.

It is a measurement, not a test: it exits 0 whichever registry is faster (non-zero only when the
benchmark itself cannot run). `make bench` runs it; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import configparser
import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REGION = "us-east-1"
TAG = "bench"
DISTRIBUTION = "/usr/bin/docker-registry"


# --- the image ---------------------------------------------------------------------------------


def _write_layer(
    blobs: Path, size: int, rng: random.Random, name: str
) -> tuple[dict[str, Any], str]:
    """A gzip'd (store-level) tar holding one file of `size` random bytes: (descriptor, diff_id).

    Streamed to disk in 1 MiB pieces: both digests are computed on the way, nothing is held whole.
    """
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 0, 0o644
    tar_parts = [info.tobuf(format=tarfile.PAX_FORMAT)]
    diff = hashlib.sha256()
    digest = hashlib.sha256()
    compressor = zlib.compressobj(0, zlib.DEFLATED, 31)  # gzip container, stored blocks
    temp = blobs / f".{name}.tmp"
    written = 0
    with open(temp, "wb") as out:

        def emit(data: bytes) -> None:
            nonlocal written
            diff.update(data)
            packed = compressor.compress(data)
            digest.update(packed)
            out.write(packed)
            written += len(packed)

        for part in tar_parts:
            emit(part)
        remaining = size
        while remaining > 0:
            piece = rng.randbytes(min(MIB, remaining))
            remaining -= len(piece)
            emit(piece)
        emit(b"\0" * (-size % 512) + b"\0" * 1024)  # pad the member, then the end-of-archive
        tail = compressor.flush()
        digest.update(tail)
        out.write(tail)
        written += len(tail)
    encoded = digest.hexdigest()
    temp.rename(blobs / encoded)
    descriptor = {"mediaType": OCI_LAYER, "digest": f"sha256:{encoded}", "size": written}
    return descriptor, f"sha256:{diff.hexdigest()}"


def _write_blob(blobs: Path, data: bytes, media_type: str) -> dict[str, Any]:
    encoded = hashlib.sha256(data).hexdigest()
    (blobs / encoded).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{encoded}", "size": len(data)}


def build_image(root: Path, *, total_bytes: int, layers: int, seed: int) -> int:
    """Write an OCI image layout at `root` (tag TAG); return the bytes of its layers."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    rng = random.Random(seed)  # fast, reproducible, incompressible
    base, extra = divmod(total_bytes, layers)
    descriptors, diff_ids = [], []
    for i in range(layers):
        descriptor, diff_id = _write_layer(
            blobs, base + (1 if i < extra else 0), rng, f"seed-{seed}-layer-{i}.bin"
        )
        descriptors.append(descriptor)
        diff_ids.append(diff_id)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {"Env": [f"SEED={seed}"]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _write_blob(blobs, json.dumps(config).encode(), OCI_CONFIG),
        "layers": descriptors,
    }
    top = _write_blob(blobs, json.dumps(manifest).encode(), OCI_MANIFEST)
    top["annotations"] = {"org.opencontainers.image.ref.name": TAG}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return sum(d["size"] for d in descriptors)


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(url: str, headers: dict[str, str] | None = None) -> int | None:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    log: Path
    ready_path: str
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends workers too
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if http_status(self.url + self.ready_path) == 200:
                return
            time.sleep(0.1)
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start ({self.argv}); its log ends:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


def stiva_command() -> str:
    found = shutil.which("stiva")
    if found is None:
        candidate = Path(sys.executable).parent / "stiva"
        if candidate.exists():
            return str(candidate)
        raise RuntimeError("the `stiva` command is not on PATH (run via `make bench`)")
    return found


def stiva_server(work: Path, port: int, workers: int) -> Server:
    data = work / "stiva-data"
    argv = [stiva_command(), "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}"]
    if workers > 1:
        config = work / f"stiva-{workers}-workers.toml"
        config.write_text(f"[server]\nworkers = {workers}\n")
        argv += ["--config", str(config)]
    name = f"Stiva ({workers} worker{'s' * (workers > 1)})"
    return Server(name, argv, port, work / "stiva.log", "/healthz", data)


def distribution_server(work: Path, port: int) -> Server:
    root = work / "distribution-data"
    root.mkdir()
    config = work / "distribution.yml"
    # Debian's packaged config (in-memory blob descriptor cache, delete enabled) minus auth and
    # the access log: Stiva logs no requests by default either.
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root}\n"
        "  cache:\n    blobdescriptor: inmemory\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    argv = [DISTRIBUTION, "serve", str(config)]
    return Server("Distribution", argv, port, work / "dist.log", "/v2/", root)


@dataclass
class StivaAccess:
    password: str
    basic: str  # the Authorization header's value

    @property
    def creds(self) -> str:
        return f"AWS:{self.password}"


def stiva_access(server: Server, data_dir: Path) -> tuple[Any, StivaAccess]:
    import boto3

    parser = configparser.ConfigParser()
    parser.read(data_dir / "credentials")
    client = boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=parser["default"]["aws_access_key_id"],
        aws_secret_access_key=parser["default"]["aws_secret_access_key"],
    )
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS", user
    return client, StivaAccess(password=password, basic=f"Basic {token}")


# --- measurements ------------------------------------------------------------------------------


@dataclass
class Target:
    server: Server
    creds: str | None  # user:password for skopeo, None: anonymous
    headers: dict[str, str] = field(default_factory=dict)  # for wrk


def skopeo(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    argv = ["skopeo", "--insecure-policy", "copy", "--retry-times", "0", *args]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout + done.stderr


def stored_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def push(
    target: Target, layout: Path, repo: str, env: dict[str, str], expected_bytes: int
) -> float:
    """Push the image; check the registry's storage grew by the whole image.

    skopeo reports neither a blob that already exists nor a cross-repository mount it made
    (its blob-info cache remembers where it pushed each digest), hence the storage check.
    """
    args = ["--dest-tls-verify=false"]
    if target.creds:
        args += ["--dest-creds", target.creds]
    before = stored_bytes(target.server.data_dir)
    elapsed, output = skopeo(
        [*args, f"oci:{layout}:{TAG}", f"docker://{target.server.host}/{repo}:{TAG}"], env
    )
    grown = stored_bytes(target.server.data_dir) - before
    if grown < expected_bytes or "skipped" in output:
        raise RuntimeError(
            f"push to {target.server.name} stored {grown} bytes of {expected_bytes}: "
            f"blobs were reused, not uploaded\n{output}"
        )
    return elapsed


def pull(target: Target, repo: str, dest: Path, env: dict[str, str], expected_bytes: int) -> float:
    args = ["--src-tls-verify=false"]
    if target.creds:
        args += ["--src-creds", target.creds]
    elapsed, _ = skopeo(
        [*args, f"docker://{target.server.host}/{repo}:{TAG}", f"oci:{dest}:{TAG}"], env
    )
    pulled = sum(f.stat().st_size for f in (dest / "blobs" / "sha256").iterdir())
    shutil.rmtree(dest)
    if pulled < expected_bytes:
        raise RuntimeError(f"pull from {target.server.name} got {pulled} bytes of blobs")
    return elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its direct children (uvicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for each in [pid, *map(int, children)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measured(target: Target, run: Callable[[], float]) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) of one transfer, after flushing dirty pages.

    The sync keeps the previous transfer's writeback from landing on this one's clock.
    """
    os.sync()
    pid = target.server.pid
    assert pid is not None
    before = cpu_seconds(pid)
    elapsed = run()
    return elapsed, cpu_seconds(pid) - before


def wrk(target: Target, path: str, seconds: float, *, threads: int, connections: int) -> float:
    headers = {"Accept": OCI_MANIFEST, **target.headers}
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    argv.append(target.server.url + path)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    rate = re.search(r"Requests/sec:\s*([\d.]+)", done.stdout)
    if done.returncode != 0 or rate is None:
        raise RuntimeError(f"wrk failed on {target.server.name}:\n{done.stdout}\n{done.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", done.stdout)
    errors = re.search(r"Socket errors:.*", done.stdout)
    if bad or errors:
        detail = bad[0] if bad else errors[0] if errors else ""
        raise RuntimeError(f"wrk on {target.server.name}: {detail}\n{done.stdout}")
    return float(rate[1])


def check_manifest_get(target: Target, path: str) -> None:
    status = http_status(target.server.url + path, {"Accept": OCI_MANIFEST, **target.headers})
    if status != 200:
        raise RuntimeError(f"GET {path} on {target.server.name} answered {status}, not 200")


# --- reporting ---------------------------------------------------------------------------------


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
    except OSError:
        return "missing"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else "?"
    )


def machine_facts(work: Path) -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / MIB:.1f} GiB"
    fs = subprocess.run(
        ["df", "--output=fstype", str(work)], capture_output=True, text=True, check=False
    ).stdout.split()[-1:] or ["?"]
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "load average (1 min) at the end": f"{os.getloadavg()[0]:.2f}",
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "temp filesystem": fs[0],
        "python": platform.python_version(),
        "stiva": importlib.metadata.version("stiva"),
        "uvicorn": importlib.metadata.version("uvicorn"),
        "starlette": importlib.metadata.version("starlette"),
        "skopeo": _version(["skopeo", "--version"]),
        "docker-registry": _version([DISTRIBUTION, "--version"]),
        "wrk": _version(["wrk", "--version"]).split(" Copyright")[0],
    }


def table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("operation", "Stiva", "Distribution", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Results:
    push: dict[str, list[float]] = field(default_factory=lambda: {"stiva": [], "dist": []})
    pull: dict[str, list[float]] = field(default_factory=lambda: {"stiva": [], "dist": []})
    push_cpu: dict[str, list[float]] = field(default_factory=lambda: {"stiva": [], "dist": []})
    pull_cpu: dict[str, list[float]] = field(default_factory=lambda: {"stiva": [], "dist": []})
    get: dict[str, list[float]] = field(
        default_factory=lambda: {"stiva1": [], "stiva2": [], "dist": []}
    )
    image_bytes: int = 0

    def groups(self) -> dict[str, dict[str, list[float]]]:
        return {
            "push": self.push,
            "pull": self.pull,
            "push_cpu": self.push_cpu,
            "pull_cpu": self.pull_cpu,
            "get": self.get,
        }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def client_dir(work: Path, size_mib: int) -> Path:
    """Where skopeo's side lives (the image to push, the pulled copies): tmpfs when it fits.

    Keeps the client's disk writes and deletions out of the registries' timings: on this
    ext4-with-online-discard VM, deleting a 512 MiB tree slowed the next transfer by ~0.7 s.
    """
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        if shm.is_dir() and shutil.disk_usage(shm).free > 4 * size_mib * MIB:
            return Path(tempfile.mkdtemp(prefix="stiva-bench-client-", dir=shm))
    (work / "client").mkdir()
    return work / "client"


def run_transfers(
    args: argparse.Namespace,
    client_files: Path,
    targets: dict[str, Target],
    client: Any,
    env: dict[str, str],
) -> Results:
    results = Results()
    for rep in range(args.reps):
        layout = client_files / f"image-{rep}"
        started = time.perf_counter()
        results.image_bytes = build_image(
            layout, total_bytes=args.size_mib * MIB, layers=args.layers, seed=rep
        )
        log(
            f"built image {rep} ({results.image_bytes / MIB:.0f} MiB of layers) "
            f"in {time.perf_counter() - started:.1f}s"
        )
        repo = f"bench-{rep}"
        client.create_repository(repositoryName=repo)
        order = ["stiva", "dist"] if rep % 2 == 0 else ["dist", "stiva"]
        for key in order:
            target = targets[key]
            run = functools.partial(push, target, layout, repo, env, results.image_bytes)
            seconds, cpu = measured(target, run)
            results.push[key].append(seconds)
            results.push_cpu[key].append(cpu)
            log(f"push {rep} {target.server.name}: {seconds:.2f}s (server CPU {cpu:.2f}s)")
        for key in order:
            target = targets[key]
            dest = client_files / f"pulled-{key}-{rep}"
            run = functools.partial(pull, target, repo, dest, env, results.image_bytes)
            seconds, cpu = measured(target, run)
            results.pull[key].append(seconds)
            results.pull_cpu[key].append(cpu)
            log(f"pull {rep} {target.server.name}: {seconds:.2f}s (server CPU {cpu:.2f}s)")
        shutil.rmtree(layout)
    return results


def run_gets(
    args: argparse.Namespace, targets: dict[str, Target], key: str, results: Results
) -> None:
    """Warm both servers up, then alternate wrk runs of Stiva (`key`) and Distribution."""
    path = f"/v2/bench-0/manifests/{TAG}"
    pair = [key, "dist"]
    for name in pair:
        check_manifest_get(targets[name], path)
        wrk(targets[name], path, args.warmup, threads=args.threads, connections=args.connections)
    for run in range(args.get_runs):
        for name in pair if run % 2 == 0 else reversed(pair):
            rate = wrk(
                targets[name],
                path,
                args.wrk_seconds,
                threads=args.threads,
                connections=args.connections,
            )
            results.get[name if name == "dist" else key].append(rate)
            log(f"GET manifest {targets[name].server.name}: {rate:.0f} req/s")


def _rounded(results: Results) -> dict[str, dict[str, list[float]]]:
    return {
        group: {key: [round(v, 0 if group == "get" else 2) for v in vs] for key, vs in g.items()}
        for group, g in results.groups().items()
    }


def report(args: argparse.Namespace, results: Results, facts: dict[str, str]) -> str:
    med = statistics.median
    size = f"{results.image_bytes / MIB:.0f} MiB"
    rows: list[tuple[str, str, str, str]] = []
    for op, samples in (("push", results.push), ("pull", results.pull)):
        s, d = med(samples["stiva"]), med(samples["dist"])
        rows.append(
            (
                f"skopeo {op} {size}, {args.layers} layers (s)",
                f"{s:.2f}",
                f"{d:.2f}",
                f"{d / s:.2f}",
            )
        )
    dist_rate = med(results.get["dist"])
    for workers in (1, 2):
        rate = med(results.get[f"stiva{workers}"])
        rows.append(
            (
                f"manifest GET by tag (req/s), Stiva {workers} worker{'s' * (workers > 1)}",
                f"{rate:.0f}",
                f"{dist_rate:.0f}",
                f"{rate / dist_rate:.2f}",
            )
        )
    cpu_rows = []
    for op, samples in (("push", results.push_cpu), ("pull", results.pull_cpu)):
        s, d = med(samples["stiva"]), med(samples["dist"])
        cpu_rows.append((f"server CPU per {op} (s)", f"{s:.2f}", f"{d:.2f}", f"{d / s:.2f}"))
    lines = [
        "",
        table(rows),
        "",
        table(cpu_rows),
        "",
        "ratio: Distribution time / Stiva time (push, pull, CPU); Stiva req/s / Distribution "
        "req/s (GET); > 1 means Stiva is faster.",
        f"medians of {args.reps} push/pull repetitions and {args.get_runs} wrk runs of "
        f"{args.wrk_seconds}s (-t{args.threads} -c{args.connections}, "
        f"after {args.warmup}s warm-up)",
        "samples: " + json.dumps(_rounded(results)),
        "",
        "machine: " + ", ".join(f"{k}: {v}" for k, v in facts.items()),
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=512, help="image size (layers), MiB")
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument(
        "--reps",
        type=int,
        default=4,
        help="push/pull repetitions (even: each registry goes first as often)",
    )
    parser.add_argument("--get-runs", type=int, default=3, help="wrk runs per server")
    parser.add_argument("--wrk-seconds", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3, help="wrk warm-up seconds")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (debugging)")
    return parser.parse_args(argv)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # run the `finally` that stops the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    for tool in ("skopeo", "wrk", DISTRIBUTION):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: run ./scripts/install-tools.sh skopeo docker-registry wrk")
            return 2
    load = os.getloadavg()[0]
    log(f"load average (1 min) before starting: {load:.2f}")
    if load > 0.5:
        log("the machine is not idle (other work, or a previous run's load still decaying)")
    work = Path(tempfile.mkdtemp(prefix="stiva-bench-"))
    env = {**os.environ, "REGISTRY_AUTH_FILE": str(work / "auth.json")}
    (work / "auth.json").write_text('{"auths": {}}')
    servers: list[Server] = []
    cleanup = [work]
    try:
        stiva_port = free_port()
        stiva = stiva_server(work, stiva_port, workers=1)
        dist = distribution_server(work, free_port())
        servers += [stiva, dist]
        for server in servers:
            server.start()
        client, access = stiva_access(stiva, work / "stiva-data")
        targets = {
            "stiva": Target(stiva, access.creds, {"Authorization": access.basic}),
            "dist": Target(dist, None),
        }
        log(f"Stiva pid {stiva.pid} on {stiva.host}, Distribution pid {dist.pid} on {dist.host}")
        client_files = client_dir(work, args.size_mib)
        cleanup.append(client_files)
        log(f"image and pulled copies in {client_files}")
        results = run_transfers(args, client_files, targets, client, env)
        run_gets(args, targets | {"stiva1": targets["stiva"]}, "stiva1", results)
        stiva.stop()
        stiva2 = stiva_server(work, stiva_port, workers=2)
        servers.append(stiva2)
        stiva2.start()
        targets["stiva2"] = Target(stiva2, access.creds, {"Authorization": access.basic})
        run_gets(args, targets, "stiva2", results)
        facts = machine_facts(work)
        print(report(args, results, facts))
        if args.json:
            raw = {**results.groups(), "image_bytes": results.image_bytes, "machine": facts}
            args.json.write_text(json.dumps(raw, indent=2))
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            log(f"kept {', '.join(map(str, cleanup))}")
        else:
            for path in cleanup:
                shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
