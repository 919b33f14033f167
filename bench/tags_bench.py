#!/usr/bin/env python3
"""Listing many tags: Stiva vs CNCF Distribution (Debian's `docker-registry`), side by side.

Both registries run fresh on loopback (as in `registry_bench.py`). One small image is pushed to
each, then tagged --tags times (manifest PUTs by tag from --threads keep-alive clients: the
tagging rate is reported too). Then, on each:

- the whole tag list read page by page (`GET /v2/<name>/tags/list?n=<page>`, following the
  `Link` header), and in one response (`tags/list` without `n`);
- the last page of the list (`?n=<page>&last=<the tag before it>`), the median of --samples
  requests: what a client resuming a listing near its end pays;
- Stiva only (Distribution has no such API): the whole ListImages listing through boto3's
  paginator (1000 per page).

Distribution keeps each tag as a directory (`_manifests/tags/<tag>/current/link`) and walks
the tag directory for every listing request, however small the page; Stiva reads an index
range. A measurement, not a test: it prints a table (and --json) and exits 0 whatever the
numbers. Usage: .venv/bin/python bench/tags_bench.py [--tags 20000] [--page 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from registry_bench import (  # the same servers and helpers as the main benchmark
    DISTRIBUTION,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    Server,
    distribution_server,
    free_port,
    log,
    machine_facts,
    stiva_access,
    stiva_server,
    table,
)

REPO = "many-tags"


def tag_name(i: int) -> str:
    return f"t{i:07d}"


def push_image(client: httpx.Client) -> bytes:
    """A config and one layer, then the manifest by digest; the manifest's bytes."""
    descriptors = []
    for data, media_type in ((b'{"architecture":"amd64","os":"linux"}', OCI_CONFIG),
                             (b"one small layer", OCI_LAYER)):  # fmt: skip
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        started = client.post(f"/v2/{REPO}/blobs/uploads/")  # POST then PUT: Distribution 2.8
        started.raise_for_status()  # takes no monolithic POST
        location = started.headers["location"]  # may carry a query (Distribution's _state)
        separator = "&" if "?" in location else "?"
        answer = client.put(f"{location}{separator}digest={digest}", content=data)
        if answer.status_code != 201:
            raise RuntimeError(f"blob upload: {answer.status_code} {answer.text}")
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptors[0],
        "layers": descriptors[1:],
    }
    return json.dumps(manifest).encode()


def tag_all(base_url: str, headers: dict[str, str], raw: bytes, count: int, threads: int) -> float:
    """PUT the manifest under `count` tags; tags per second."""
    chunks = [range(i, count, threads) for i in range(threads)]

    def put_some(numbers: range) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            for i in numbers:
                answer = client.put(
                    f"/v2/{REPO}/manifests/{tag_name(i)}",
                    content=raw,
                    headers={"Content-Type": OCI_MANIFEST},
                )
                if answer.status_code != 201:
                    raise RuntimeError(f"tagging {tag_name(i)}: {answer.status_code} {answer.text}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put_some, chunks))
    return count / (time.perf_counter() - started)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def list_paged(client: httpx.Client, page: int) -> tuple[list[str], int]:
    """Every tag, `page` at a time, following the Link header as clients do; and how many
    requests that took (1 from a registry that ignores `n` and answers everything at once)."""
    tags: list[str] = []
    url: str | None = f"/v2/{REPO}/tags/list?n={page}"
    requests = 0
    while url:
        answer = client.get(url)
        answer.raise_for_status()
        requests += 1
        tags += answer.json()["tags"] or []
        link = answer.headers.get("link")
        url = link.split(";")[0].strip().strip("<>") if link else None
    return tags, requests


def list_whole(client: httpx.Client) -> list[str]:
    answer = client.get(f"/v2/{REPO}/tags/list")
    answer.raise_for_status()
    return list(answer.json()["tags"])


def deep_page(client: httpx.Client, page: int, last: str, samples: int) -> tuple[float, bool]:
    """The median time of one page after `last`, and whether it held the `page` tags that
    follow `last` (Distribution 2.8 pages its tags unsorted, so `last` does not resume)."""
    times, right = [], True
    expected = [tag_name(int(last[1:]) + 1 + i) for i in range(page)]
    for _ in range(samples):
        started = time.perf_counter()
        answer = client.get(f"/v2/{REPO}/tags/list", params={"n": page, "last": last})
        answer.raise_for_status()
        times.append(time.perf_counter() - started)
        right = right and answer.json()["tags"] == expected
    return statistics.median(times), right


def list_images(ecr: Any) -> int:
    paginator = ecr.get_paginator("list_images")
    pages = paginator.paginate(repositoryName=REPO, PaginationConfig={"PageSize": 1000})
    return sum(len(page["imageIds"]) for page in pages)


def measure(server: Server, headers: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
        raw = push_image(client)
        log(f"{server.name}: tagging {args.tags} times")
        rate = tag_all(server.url, headers, raw, args.tags, args.threads)
        expected = [tag_name(i) for i in range(args.tags)]
        paged_s, (paged, requests) = timed(lambda: list_paged(client, args.page))
        whole_s, whole = timed(lambda: list_whole(client))
        for listed in (paged, whole):  # every tag once (the order is each registry's own)
            assert sorted(listed) == expected, f"{server.name}: {len(set(listed))} distinct tags"
        last = tag_name(args.tags - args.page - 1)  # the last full page
        deep_s, deep_right = deep_page(client, args.page, last, args.samples)
    return {
        "tag_rate": rate,
        "paged_s": paged_s,
        "whole_s": whole_s,
        "deep_page_s": deep_s,
        "deep_page_right": float(deep_right),
        "pages_sorted": float(paged == expected),
        "page_requests": float(requests),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tags", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=1000, help="tags per page (n=)")
    parser.add_argument("--threads", type=int, default=8, help="clients tagging at once")
    parser.add_argument("--samples", type=int, default=20, help="deep-page requests")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (debugging)")
    args = parser.parse_args(argv)
    if args.tags < 10 * args.page:
        parser.error("--tags must be at least ten pages")
    return args


def report(args: argparse.Namespace, stiva: dict[str, float], dist: dict[str, float]) -> str:
    def seconds(value: float) -> str:
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"

    rows = []
    rows.append((
        "tagging (manifest PUTs by tag)",
        f"{stiva['tag_rate']:.0f} /s",
        f"{dist['tag_rate']:.0f} /s",
        f"{stiva['tag_rate'] / dist['tag_rate']:.2f}",
    ))  # fmt: skip
    for key, label in (
        ("paged_s", f"whole list, following Link (n={args.page})"),
        ("whole_s", "whole list, one response"),
        ("deep_page_s", f"the last page of {args.page} (last=)"),
    ):
        rows.append(
            (label, seconds(stiva[key]), seconds(dist[key]), f"{dist[key] / stiva[key]:.2f}")
        )
    rows.append(("ListImages, whole (boto3)", seconds(stiva["list_images_s"]), "-", "-"))
    notes = [
        f"{name}: the paged listing took {r['page_requests']:.0f} requests "
        f"({'n honoured' if r['page_requests'] > 1 else 'n ignored: everything at once'}), "
        f"{'in' if r['pages_sorted'] else 'NOT in'} tag order; the last page "
        f"{'was' if r['deep_page_right'] else 'was NOT'} the tags after `last`"
        for name, r in (("Stiva", stiva), ("Distribution", dist))
    ]
    return "\n".join(
        [
            f"{args.tags} tags on one image; ratio > 1 means Stiva is faster "
            "(Distribution time / Stiva time; tagging: Stiva rate / Distribution rate)",
            "",
            table(rows),
            "",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which(DISTRIBUTION) is None:
        print("docker-registry is missing: run ./scripts/install-tools.sh docker-registry")
        return 2
    work = Path(tempfile.mkdtemp(prefix="stiva-tags-bench-"))
    servers: list[Server] = []
    try:
        stiva = stiva_server(work, free_port(), workers=1)
        dist = distribution_server(work, free_port())
        servers += [stiva, dist]
        for server in servers:
            server.start()
        ecr, access = stiva_access(stiva, work / "stiva-data")
        ecr.create_repository(repositoryName=REPO)
        results = {
            "stiva": measure(stiva, {"Authorization": access.basic}, args),
            "dist": measure(dist, {}, args),
        }
        seconds, count = timed(lambda: list_images(ecr))
        assert count == args.tags, count
        results["stiva"]["list_images_s"] = seconds
        facts = machine_facts(work)
        print(report(args, results["stiva"], results["dist"]))
        print("\nmachine: " + ", ".join(f"{k}: {v}" for k, v in facts.items()))
        if args.json:
            args.json.write_text(json.dumps({**results, "machine": facts}, indent=2))
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
