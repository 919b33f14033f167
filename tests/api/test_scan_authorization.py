"""Who may scan: repository operations are authorized on the repository's ARN, registry-level
ones on `*` (the `resource` of each row of the operations table)."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.api.test_iam_helpers import Keys, allow, iam, new_user_keys, policy
from tests.support.registry import REGION, TARGET, InProcessRegistry


def ecr_as(
    registry: InProcessRegistry, keys: Keys, operation: str, **params: Any
) -> httpx.Response:
    body = json.dumps(params).encode()
    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{TARGET}.{operation}",
        },
    )
    SigV4Auth(Credentials(keys.access_key_id, keys.secret_access_key), "ecr", REGION).add_auth(
        request
    )
    return registry.client.post("/", content=body, headers=dict(request.headers.items()))


def test_scanning_permissions_follow_the_resources(registry: InProcessRegistry) -> None:
    for name in ("team-a", "team-b"):
        registry.create_repository(name)
    registry.push_image("team-a", "v1", registry.auth)
    registry.push_image("team-b", "v1", registry.auth)
    client = iam(registry)
    keys = new_user_keys(client, "scanner")
    arn = f"arn:aws:ecr:us-east-1:{registry.account_id}:repository/team-a"
    document = policy(
        allow(["ecr:StartImageScan", "ecr:DescribeImageScanFindings"], arn),
        allow("ecr:GetRegistryScanningConfiguration"),
    )
    client.call("PutUserPolicy", UserName="scanner", PolicyName="scan", PolicyDocument=document)

    image = {"imageTag": "v1"}
    allowed = ecr_as(registry, keys, "StartImageScan", repositoryName="team-a", imageId=image)
    assert allowed.status_code == 200, allowed.text
    denied = ecr_as(registry, keys, "StartImageScan", repositoryName="team-b", imageId=image)
    assert denied.status_code == 400
    assert denied.json()["__type"] == "AccessDeniedException"
    assert "ecr:StartImageScan" in denied.json()["message"]
    assert ecr_as(registry, keys, "GetRegistryScanningConfiguration").status_code == 200
    put = ecr_as(registry, keys, "PutRegistryScanningConfiguration", scanType="ENHANCED")
    assert put.json()["__type"] == "AccessDeniedException"
    batch = ecr_as(
        registry, keys, "BatchGetRepositoryScanningConfiguration", repositoryNames=["team-a"]
    )
    assert batch.json()["__type"] == "AccessDeniedException"
