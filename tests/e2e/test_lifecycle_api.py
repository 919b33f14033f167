"""Lifecycle policies against a live server: boto3 and the aws CLI, the model's waiter with its
own timing, reading `stivaBytesFreed`, and `stiva lifecycle run` beside the running server."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.e2e.test_ecr_images import Images
from tests.e2e.test_lifecycle_examples import age, preview
from tests.support.lifecycle import policy, rule
from tests.support.live import LiveServer

KEEP_ONE = policy(rule(1, "any", "imageCountMoreThan", 1, description="keep the newest"))


def test_policy_round_trip_and_errors(server: LiveServer) -> None:
    repo = Images(server, "lifecycle/api")
    ecr = repo.ecr
    with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException) as missing:
        ecr.get_lifecycle_policy(repositoryName=repo.name)
    assert str(missing.value).endswith(
        "Lifecycle policy does not exist for the repository with name 'lifecycle/api' in the "
        f"registry with id '{server.account_id}'"
    )
    with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
        ecr.start_lifecycle_policy_preview(repositoryName=repo.name)
    with pytest.raises(ecr.exceptions.LifecyclePolicyPreviewNotFoundException):
        ecr.get_lifecycle_policy_preview(repositoryName=repo.name)
    with pytest.raises(ecr.exceptions.InvalidParameterException) as invalid:
        ecr.put_lifecycle_policy(repositoryName=repo.name, lifecyclePolicyText="x" * 120)
    assert "Lifecycle policy validation failure: Could not map policyString" in str(invalid.value)
    put = ecr.put_lifecycle_policy(repositoryName=repo.name, lifecyclePolicyText=KEEP_ONE)
    assert put["lifecyclePolicyText"] == json.dumps(json.loads(KEEP_ONE), separators=(",", ":"))
    got = ecr.get_lifecycle_policy(repositoryName=repo.name)
    assert got["lifecyclePolicyText"] == put["lifecyclePolicyText"]
    assert got["lastEvaluatedAt"].timestamp() == 0
    deleted = ecr.delete_lifecycle_policy(repositoryName=repo.name)
    assert deleted["lifecyclePolicyText"] == put["lifecyclePolicyText"]
    with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
        ecr.delete_lifecycle_policy(repositoryName=repo.name)


def test_the_waiter_works_with_its_model_timing(server: LiveServer) -> None:
    repo = Images(server, "lifecycle/waiter")
    repo.put(repo.image("waiter"), "v1")
    repo.ecr.put_lifecycle_policy(repositoryName=repo.name, lifecyclePolicyText=KEEP_ONE)
    repo.ecr.start_lifecycle_policy_preview(repositoryName=repo.name)
    repo.ecr.get_waiter("lifecycle_policy_preview_complete").wait(repositoryName=repo.name)
    got = repo.ecr.get_lifecycle_policy_preview(repositoryName=repo.name)
    assert (got["status"], got["previewResults"]) == ("COMPLETE", [])
    assert got["summary"] == {"expiringImageTotalCount": 0}  # botocore drops stivaBytesFreed


def _two_images_sharing_a_layer(server: LiveServer, name: str) -> tuple[Images, str, int]:
    """An old image and a new one sharing a layer: (repo, old digest, bytes only old uses)."""
    repo = Images(server, name)
    shared = repo.blob(b"shared layer " * 100, "application/vnd.oci.image.layer.v1.tar+gzip")
    old_doc, new_doc = repo.image("old only"), repo.image("new only")
    old_doc["layers"].append(shared)
    new_doc["layers"].append(shared)
    old, _ = repo.put(old_doc, "old")
    repo.put(new_doc, "new")
    age(server, repo.name, old, pushed_at=2)
    own = old_doc["config"]["size"] + old_doc["layers"][0]["size"]
    return repo, old, own


def test_bytes_freed_is_in_the_raw_response(server: LiveServer) -> None:
    repo, old, own = _two_images_sharing_a_layer(server, "lifecycle/bytes")
    raw: dict[str, Any] = {}

    def keep_raw(http_response: Any, **_: Any) -> None:
        raw.update(json.loads(http_response.content))

    repo.ecr.meta.events.register("after-call.ecr.GetLifecyclePolicyPreview", keep_raw)
    got = preview(repo, KEEP_ONE)
    assert [r["imageDigest"] for r in got["previewResults"]] == [old]
    assert "stivaBytesFreed" not in got["summary"]
    assert raw["summary"]["stivaBytesFreed"] == own
    debug = subprocess.run(
        ["aws", "ecr", "get-lifecycle-policy-preview", "--repository-name", repo.name, "--debug"],
        env=server.aws_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert f'"stivaBytesFreed": {own}' in debug.stderr or f'"stivaBytesFreed":{own}' in debug.stderr
    repo.ecr.put_lifecycle_policy(repositoryName=repo.name, lifecyclePolicyText=KEEP_ONE)
    shown = json.loads(stiva(server, "lifecycle", "preview", "--repository", repo.name).stdout)
    assert shown["summary"]["stivaBytesFreed"] == own


def stiva(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stiva", *args, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=server.cli_env(),
    )


def test_lifecycle_run_beside_the_running_server(server: LiveServer) -> None:
    repo, old, _own = _two_images_sharing_a_layer(server, "lifecycle/run")
    repo.ecr.put_lifecycle_policy(repositoryName=repo.name, lifecyclePolicyText=KEEP_ONE)
    ran = stiva(server, "lifecycle", "run", "--repository", repo.name)
    assert ran.returncode == 0, ran.stderr
    assert f"{server.account_id}/{repo.name}: 1 expired, 0 transitioned" in ran.stdout
    assert f"EXPIRE {old} [old] (rule 1)" in ran.stdout
    left = repo.ecr.list_images(repositoryName=repo.name)["imageIds"]
    assert [i.get("imageTag") for i in left] == ["new"]
    got = repo.ecr.get_lifecycle_policy(repositoryName=repo.name)
    assert got["lastEvaluatedAt"].timestamp() > 0
