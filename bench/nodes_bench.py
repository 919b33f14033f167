"""One Stiva node versus two, over one PostgreSQL database and one blob store.

Starts `stiva serve` nodes sharing a fresh PostgreSQL database (created on the server given by
--postgres, dropped afterwards) and one blob store, then measures, with the load spread
round-robin over the nodes by concurrent client threads:

- push: images of fresh random layers (monolithic blob POSTs + manifest PUT), MiB/s;
- pull: the same images (manifest GET + blob GETs streamed), MiB/s;
- manifest GETs by tag per second, keep-alive connections.

The blob store is a temporary directory; with --moto, a bucket on a moto S3 server the bench
starts on loopback; or the bucket named by STIVA_STORAGE_URL (with the STIVA_S3_* settings and
AWS credentials in the environment). A measurement, not a test: it
prints a table (and --json) and exits 0 whatever the numbers.
Usage: .venv/bin/python bench/nodes_bench.py [--postgres URL] [--moto] [--images 8] [--layer-mib 16]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(server: str) -> Iterator[str]:
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"stiva_bench_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name} LOCALE 'C' TEMPLATE template0"))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def node(root: Path, name: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    data = root / name
    data.mkdir()
    log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "stiva", "serve", "--data-dir", str(data)),
            *("--listen", f"127.0.0.1:{port}", "--account-id", "123456789012"),
        ],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"node {name} did not become ready; see {root / name}.log")
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def credentials(root: Path) -> tuple[str, str]:
    text_ = (root / "n0" / "credentials").read_text().splitlines()
    values = dict(line.split(" = ", 1) for line in text_ if " = " in line)
    return values["aws_access_key_id"], values["aws_secret_access_key"]


def basic_auth(url: str, key: tuple[str, str]) -> dict[str, str]:
    ecr = boto3.client(
        "ecr",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    for i in range(64):
        ecr.create_repository(repositoryName=f"bench/r{i}")
    return {"Authorization": f"Basic {token}"}


def push(client: httpx.Client, repo: str, layers: list[bytes]) -> None:
    descriptors = []
    for blob in [b'{"architecture":"amd64","os":"linux"}', *layers]:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=blob)
        r.raise_for_status()
        descriptors.append({"digest": digest, "size": len(blob)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **descriptors[0]},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", **d} for d in descriptors[1:]
        ],
    }
    headers = {"Content-Type": OCI_MANIFEST}
    put = client.put(f"/v2/{repo}/manifests/v1", content=json.dumps(manifest), headers=headers)
    put.raise_for_status()


def pull(client: httpx.Client, repo: str) -> int:
    manifest = client.get(f"/v2/{repo}/manifests/v1", headers={"Accept": OCI_MANIFEST}).json()
    size = 0
    for layer in manifest["layers"]:
        with client.stream("GET", f"/v2/{repo}/blobs/{layer['digest']}") as r:
            for chunk in r.iter_bytes(1 << 20):
                size += len(chunk)
    return size


def timed(jobs: int, threads: int, work: Callable[[int], Any]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(jobs)))
    return time.perf_counter() - start


def manifest_rate(clients: list[httpx.Client], threads: int, seconds: float, repo: str) -> float:
    stop = time.monotonic() + seconds
    headers = {"Accept": OCI_MANIFEST}

    def hammer(i: int) -> int:
        client, count = clients[i % len(clients)], 0
        while time.monotonic() < stop:
            client.get(f"/v2/{repo}/manifests/v1", headers=headers).raise_for_status()
            count += 1
        return count

    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(hammer, range(threads)))
    return total / seconds


@contextmanager
def moto_bucket() -> Iterator[dict[str, str]]:
    """A fresh bucket on a moto S3 server on loopback; the environment that points nodes at it."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per S3 request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        ).create_bucket(Bucket="stiva-bench")
        yield {
            **keys,
            "STIVA_STORAGE_URL": "s3://stiva-bench/blobs",
            "STIVA_S3_ENDPOINT_URL": endpoint,
            "STIVA_S3_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    finally:
        server.stop()


def measure(nodes: int, args: argparse.Namespace) -> dict[str, float]:
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stiva-nodes-")))
        url = stack.enter_context(database(args.postgres))
        env = {
            "STIVA_DATABASE_URL": url,
            # an S3 bucket when STIVA_STORAGE_URL (and STIVA_S3_*) are set, else a directory
            "STIVA_STORAGE_URL": os.environ.get("STIVA_STORAGE_URL", (root / "storage").as_uri()),
            "STIVA_AUTH_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
            "STIVA_WORKERS_ENABLED": "false",
        }
        if args.moto:
            env.update(stack.enter_context(moto_bucket()))
        urls = [stack.enter_context(node(root, f"n{i}", env)) for i in range(nodes)]
        auth = basic_auth(urls[0], credentials(root))
        clients = [
            stack.enter_context(httpx.Client(base_url=u, headers=auth, timeout=300)) for u in urls
        ]
        size = args.layer_mib << 20
        images = [[os.urandom(size) for _ in range(args.layers)] for _ in range(args.images)]
        mib = args.images * args.layers * args.layer_mib

        def push_one(i: int) -> None:
            push(clients[i % nodes], f"bench/r{i}", images[i])

        def pull_one(i: int) -> int:
            return pull(clients[(i + 1) % nodes], f"bench/r{i}")

        push_s = timed(args.images, args.threads, push_one)
        pull_s = timed(args.images, args.threads, pull_one)
        rate = manifest_rate(clients, args.threads * 4, args.seconds, "bench/r0")
    return {"push_mib_s": mib / push_s, "pull_mib_s": mib / pull_s, "manifest_gets_s": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--moto", action="store_true", help="store blobs on a moto S3 server")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--layer-mib", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {f"{n} node{'s' if n > 1 else ''}": measure(n, args) for n in (1, 2)}
    print(f"{'':10} {'push MiB/s':>11} {'pull MiB/s':>11} {'manifest GETs/s':>16}")
    for name, r in results.items():
        push_, pull_, gets = r["push_mib_s"], r["pull_mib_s"], r["manifest_gets_s"]
        print(f"{name:10} {push_:11.1f} {pull_:11.1f} {gets:16.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
