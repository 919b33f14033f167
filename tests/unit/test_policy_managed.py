"""AWS managed policies (`stiva.iam.managed`): present by ARN, valid, and granting what AWS's
documents grant."""

from __future__ import annotations

import json

import pytest

from stiva.iam.evaluate import Decision, RequestContext, decide
from stiva.iam.managed import AWS_MANAGED, ManagedPolicy

ACCOUNT = "111122223333"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"
NAMES = [
    "AdministratorAccess",
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
    "ReadOnlyAccess",
]
PULL = ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"]
READ = [
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:ListImages",
    "ecr:GetRepositoryPolicy",
    "ecr:GetLifecyclePolicy",
    "ecr:ListTagsForResource",
    "ecr:DescribeImageScanFindings",
    "ecr:BatchCheckLayerAvailability",
]
ADMIN_ONLY = ["ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:BatchDeleteImage"]


def managed(name: str) -> ManagedPolicy:
    return AWS_MANAGED[f"arn:aws:iam::aws:policy/{name}"]


def allows(name: str, action: str, *, keys: dict[str, str] | None = None) -> bool:
    resource = "*" if action == "ecr:GetAuthorizationToken" else REPO
    context = RequestContext(
        principal_arn=f"arn:aws:iam::{ACCOUNT}:user/dev",
        principal_account=ACCOUNT,
        principal_kind="user",
        role_arn=None,
        action=action,
        resource=resource,
        resource_account=ACCOUNT,
        keys=keys or {},
    )
    verdict = decide(context, identity_policies=[managed(name).policy], resource_policies=[])
    return verdict.decision is Decision.ALLOW


def test_the_table() -> None:
    assert sorted(AWS_MANAGED) == sorted(f"arn:aws:iam::aws:policy/{n}" for n in NAMES)
    for arn, entry in AWS_MANAGED.items():
        assert entry.arn == arn
        assert arn.endswith("/" + entry.name)
        assert entry.description
        document = json.loads(entry.document)
        assert document["Version"] == entry.policy.version == "2012-10-17"
        assert len(document["Statement"]) == len(entry.policy.statements)
    with pytest.raises(TypeError):
        AWS_MANAGED["arn:aws:iam::aws:policy/Mine"] = managed("ReadOnlyAccess")  # type: ignore[index]


@pytest.mark.parametrize("action", ["ecr:DeleteRepository", "s3:GetObject", "iam:CreateUser"])
def test_administrator_access_allows_everything(action: str) -> None:
    assert allows("AdministratorAccess", action)


def test_full_access() -> None:
    for action in PULL + PUSH + READ + ADMIN_ONLY + ["ecr:PutRegistryPolicy"]:
        assert allows("AmazonEC2ContainerRegistryFullAccess", action), action
    assert allows("AmazonEC2ContainerRegistryFullAccess", "cloudtrail:LookupEvents")
    assert not allows("AmazonEC2ContainerRegistryFullAccess", "s3:GetObject")
    slr = "iam:CreateServiceLinkedRole"
    replication = {"iam:AWSServiceName": "replication.ecr.amazonaws.com"}
    assert allows("AmazonEC2ContainerRegistryFullAccess", slr, keys=replication)
    other = {"iam:AWSServiceName": "ec2.amazonaws.com"}
    assert not allows("AmazonEC2ContainerRegistryFullAccess", slr, keys=other)
    assert not allows("AmazonEC2ContainerRegistryFullAccess", slr)


def test_power_user_pushes_but_neither_deletes_nor_changes_policies() -> None:
    for action in PULL + PUSH + READ:
        assert allows("AmazonEC2ContainerRegistryPowerUser", action), action
    for action in [*ADMIN_ONLY, "ecr:CreateRepository", "ecr:PutLifecyclePolicy"]:
        assert not allows("AmazonEC2ContainerRegistryPowerUser", action), action


def test_read_only_pulls_and_reads() -> None:
    for action in PULL + READ + ["ecr:GetLifecyclePolicyPreview"]:
        assert allows("AmazonEC2ContainerRegistryReadOnly", action), action
    for action in PUSH + ADMIN_ONLY:
        assert not allows("AmazonEC2ContainerRegistryReadOnly", action), action


def test_pull_only() -> None:
    for action in [*PULL, "ecr:BatchImportUpstreamImage"]:
        assert allows("AmazonEC2ContainerRegistryPullOnly", action), action
    for action in PUSH + ADMIN_ONLY + ["ecr:DescribeRepositories", "ecr:ListImages"]:
        assert not allows("AmazonEC2ContainerRegistryPullOnly", action), action


def test_read_only_access_keeps_its_ecr_part() -> None:
    for action in PULL + READ + ["ecr:DescribeRegistry", "ecr:GetRegistryPolicy"]:
        assert allows("ReadOnlyAccess", action), action
    for action in PUSH + ADMIN_ONLY + ["ecr:BatchImportUpstreamImage", "s3:GetObject"]:
        assert not allows("ReadOnlyAccess", action), action
