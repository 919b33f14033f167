"""Replication end to end: three live deployments on loopback.

    source      us-east-1, account A                 pushes land here (skopeo and httpx)
    peer P      eu-west-1, accounts A and B          A: same account, B: cross-account
    peer Q      us-west-2, account A, behind a byte-counting proxy

Each peer trusts the source's credential (its own account A root) for region us-east-1
(`[[replication.sources]]`). Backoff is short so retries are fast; every wait polls with a
deadline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.peers import (
    ACCOUNT_A,
    ACCOUNT_B,
    ByteCounter,
    Credential,
    Deployment,
    source_entry,
    wait_until,
)

DEADLINE = 60.0


@dataclass
class World:
    source: Deployment
    p: Deployment
    q: Deployment
    b: Credential
    proxy: ByteCounter


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("replication")
    trust = {"sources": [source_entry("us-east-1")]}
    p = Deployment("eu-west-1", base / "p", replication=trust).start()
    q = Deployment("us-west-2", base / "q", replication=trust).start()
    source: Deployment | None = None
    proxy = ByteCounter(q.port)
    try:
        b = p.create_account(ACCOUNT_B)
        source = Deployment(
            "us-east-1",
            base / "source",
            replication={
                "backoff_seconds": 0.2,
                "max_backoff_seconds": 1.0,
                "horizon_seconds": 600,
                "timeout_seconds": 10,
                "peers": [p.peer_entry(), q.peer_entry(proxy.url)],
            },
        ).start()
        source.ecr().put_replication_configuration(
            replicationConfiguration={
                "rules": [
                    {
                        "destinations": [
                            {"region": "eu-west-1", "registryId": ACCOUNT_A},
                            {"region": "eu-west-1", "registryId": ACCOUNT_B},
                            {"region": "us-west-2", "registryId": ACCOUNT_A},
                        ],
                        "repositoryFilters": [{"filter": "app", "filterType": "PREFIX_MATCH"}],
                    }
                ]
            }
        )
        yield World(source, p, q, b, proxy)
    finally:
        proxy.close()
        for deployment in (source, p, q):
            if deployment is not None:
                deployment.stop()


def _statuses(world: World, name: str, digest: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = world.source.ecr().describe_image_replication_status(
        repositoryName=name, imageId={"imageDigest": digest}
    )["replicationStatuses"]
    return {(s["region"], s["registryId"]): s for s in found}


def _wait_status(
    world: World, name: str, digest: str, want: dict[tuple[str, str], str]
) -> dict[tuple[str, str], dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}

    def done() -> bool:
        seen.clear()
        seen.update(_statuses(world, name, digest))
        return all(seen.get(k, {}).get("status") == v for k, v in want.items())

    wait_until(
        done, DEADLINE, lambda: f"statuses of {digest}: {seen}\n{world.source.log()[-3000:]}"
    )
    return seen


EU_A, EU_B, US_W = ("eu-west-1", ACCOUNT_A), ("eu-west-1", ACCOUNT_B), ("us-west-2", ACCOUNT_A)


def _check_copy(deployment: Deployment, credential: Credential | None, layout: Layout, name: str,
                index: str, children: list[str], signature: str) -> None:  # fmt: skip
    registry = deployment.registry(credential)
    for tag in ("v1", "latest"):
        response = registry.manifest(name, tag)
        assert response.status_code == 200, response.text
        assert response.headers["Docker-Content-Digest"] == index
    for digest in [index, *children]:
        response = registry.manifest(name, digest)
        assert response.status_code == 200
        assert response.content == (layout.root / "blobs" / "sha256" / digest[7:]).read_bytes()
        if digest != index:
            manifest = json.loads(response.content)
            for descriptor in [manifest["config"], *manifest["layers"]]:
                data = registry.blob(name, descriptor["digest"])
                assert "sha256:" + hashlib.sha256(data).hexdigest() == descriptor["digest"]
    assert [r["digest"] for r in registry.referrers(name, index)] == [signature]
    assert sorted(registry.tags(name)) == ["latest", "v1"]


def test_index_tags_and_referrer_reach_every_destination(
    world: World, skopeo: Skopeo, tmp_path: Path
) -> None:
    name = "app/web"
    world.source.ecr().create_repository(repositoryName=name)
    layout = Layout(tmp_path / "layout")
    amd = layout.add_image([4096, 20_000], arch="amd64", seed=11)
    arm = layout.add_image([4096, 20_000], arch="arm64", seed=12)
    index = layout.add_index([(amd, "amd64"), (arm, "arm64")])
    layout.tag(index, "v1")
    layout.tag(index, "latest")
    skopeo.login(f"127.0.0.1:{world.source.port}", world.source.password())
    for tag in ("v1", "latest"):
        skopeo.copy(f"oci:{layout.root}:{tag}", f"docker://127.0.0.1:{world.source.port}/{name}:{tag}",
                    all_images=True)  # fmt: skip
    signature = world.source.registry().push_signature(name, index.digest, index.size)

    statuses = _wait_status(
        world, name, index.digest, {EU_A: "COMPLETE", US_W: "COMPLETE", EU_B: "FAILED"}
    )
    assert statuses[EU_B]["failureCode"] == "REPLICATION_ACCESS_DENIED"
    children = [amd.digest, arm.digest]
    _check_copy(world.p, None, layout, name, index.digest, children, signature)
    _check_copy(world.q, None, layout, name, index.digest, children, signature)
    assert world.b.account_id not in {r["registryId"] for r in _repos(world.p, world.b)}

    # account B lets account A replicate (and create repositories), then the image is re-pushed
    world.p.ecr(world.b).put_registry_policy(
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReplicationAccessCrossAccount",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"},
                        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                        "Resource": f"arn:aws:ecr:eu-west-1:{ACCOUNT_B}:repository/*",
                    }
                ],
            }
        )
    )
    skopeo.copy(f"oci:{layout.root}:v1", f"docker://127.0.0.1:{world.source.port}/{name}:v1",
                all_images=True)  # fmt: skip
    _wait_status(world, name, index.digest, {EU_A: "COMPLETE", US_W: "COMPLETE", EU_B: "COMPLETE"})
    _check_copy(world.p, world.b, layout, name, index.digest, children, signature)
    assert [r["repositoryName"] for r in _repos(world.p, world.b)] == [name]


def _repos(deployment: Deployment, credential: Credential) -> list[dict[str, Any]]:
    found = deployment.ecr(credential).describe_repositories()["repositories"]
    return list(found)


def test_destination_down_while_twenty_images_are_pushed(world: World) -> None:
    name = "app/fault"
    world.source.ecr().create_repository(repositoryName=name)
    registry = world.source.registry()
    world.q.stop()
    try:
        digests = [
            registry.push_image(name, f"n{i}", layers=[f"layer-{i}".encode()], label=str(i))
            for i in range(20)
        ]
        for digest in digests:  # P got them; Q is down, so they wait
            statuses = _wait_status(world, name, digest, {EU_A: "COMPLETE"})
            assert statuses[US_W]["status"] == "IN_PROGRESS"
    finally:
        world.q.start()
    for digest in digests:
        _wait_status(world, name, digest, {US_W: "COMPLETE", EU_A: "COMPLETE"})
    images = world.q.ecr().describe_images(repositoryName=name, maxResults=100)["imageDetails"]
    assert sorted(d["imageDigest"] for d in images) == sorted(digests)  # all 20, none twice
    assert sorted(t for d in images for t in d["imageTags"]) == sorted(f"n{i}" for i in range(20))


def test_layers_the_destination_holds_are_not_sent_again(world: World) -> None:
    name = "app/bytes"
    world.source.ecr().create_repository(repositoryName=name)
    registry = world.source.registry()
    layer = hashlib.shake_256(b"big layer").digest(2 * 1024 * 1024)
    first = registry.push_image(name, "one", layers=[layer], label="one")
    _wait_status(world, name, first, {US_W: "COMPLETE"})
    before = world.proxy.sent
    second = registry.push_image(name, "two", layers=[layer], label="two")
    _wait_status(world, name, second, {US_W: "COMPLETE"})
    sent = world.proxy.sent - before
    assert before >= len(layer)  # the first delivery did carry the layer
    assert sent < 64 * 1024, f"{sent} bytes reached the destination for a 2 MiB shared layer"
    pulled = world.q.registry().manifest(name, "two")
    assert pulled.headers["Docker-Content-Digest"] == second


def test_layers_the_destination_holds_elsewhere_are_mounted_not_sent(world: World) -> None:
    """A layer the destination holds in another repository is linked there (OCI mount without
    `from`) once its account enables blob mounting, as ECR mounts at the destination."""
    layer = hashlib.shake_256(b"layer held in another repository").digest(2 * 1024 * 1024)
    world.q.ecr().create_repository(repositoryName="local/holder")
    world.q.registry().push_image("local/holder", "v1", layers=[layer], label="held")
    world.q.ecr().put_account_setting(name="BLOB_MOUNTING", value="ENABLED")
    try:
        name = "app/mounted"
        world.source.ecr().create_repository(repositoryName=name)
        before = world.proxy.sent
        digest = world.source.registry().push_image(name, "m1", layers=[layer], label="m1")
        _wait_status(world, name, digest, {US_W: "COMPLETE"})
        sent = world.proxy.sent - before
        assert sent < 64 * 1024, f"{sent} bytes reached the destination for a held 2 MiB layer"
        copy = world.q.registry()
        manifest = json.loads(copy.manifest(name, "m1").content)
        pulled = copy.blob(name, manifest["layers"][0]["digest"])
        assert pulled == layer
    finally:
        world.q.ecr().put_account_setting(name="BLOB_MOUNTING", value="DISABLED")


def test_deliveries_survive_a_restart_of_the_source(world: World) -> None:
    """Deliveries are rows, not memory: a source restarted while its peer is down delivers
    everything once the peer is back, once each."""
    name = "app/restart"
    world.source.ecr().create_repository(repositoryName=name)
    registry = world.source.registry()
    world.q.stop()
    try:
        digests = [
            registry.push_image(name, f"r{i}", layers=[f"restart-{i}".encode()], label=f"r{i}")
            for i in range(5)
        ]
        for digest in digests:
            assert _statuses(world, name, digest)[US_W]["status"] == "IN_PROGRESS"
        world.source.stop()
        world.source.start()
    finally:
        world.q.start()
    for digest in digests:
        _wait_status(world, name, digest, {US_W: "COMPLETE", EU_A: "COMPLETE"})
    images = world.q.ecr().describe_images(repositoryName=name)["imageDetails"]
    assert sorted(d["imageDigest"] for d in images) == sorted(digests)
    assert sorted(t for d in images for t in d["imageTags"]) == [f"r{i}" for i in range(5)]
