"""A first end-to-end pass through both surfaces, in-process."""

from __future__ import annotations

from tests.support.registry import InProcessRegistry


def test_push_pull_and_describe(registry: InProcessRegistry) -> None:
    registry.create_repository("team/app")
    auth = registry.auth
    digest, raw = registry.push_image("team/app", "v1", auth)
    pulled = registry.client.get("/v2/team/app/manifests/v1", headers=auth)
    assert pulled.status_code == 200
    assert pulled.content == raw
    assert pulled.headers["docker-content-digest"] == digest
    details = registry.ecr_ok("DescribeImages", repositoryName="team/app")["imageDetails"]
    assert [d["imageDigest"] for d in details] == [digest]
    assert details[0]["imageTags"] == ["v1"]
