"""boto3 and skopeo against a live Stiva: repository creation templates and CREATE_ON_PUSH."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_ecr_templates import LIFECYCLE
from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.live import REGION, LiveServer

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}],
    }
)
FILTERS = [{"filterType": "WILDCARD", "filter": "latest"}]


def test_template_operations(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    created = ecr.create_repository_creation_template(
        prefix="ops/team",
        description="first",
        appliedFor=["CREATE_ON_PUSH", "PULL_THROUGH_CACHE"],
        encryptionConfiguration={"encryptionType": "AES256"},
        resourceTags=[{"Key": "owner", "Value": "ops"}],
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
        repositoryPolicy=POLICY,
        lifecyclePolicy=LIFECYCLE,
        customRoleArn=f"arn:aws:iam::{server.account_id}:role/templates",
    )
    assert created["registryId"] == server.account_id
    template = created["repositoryCreationTemplate"]
    assert template["prefix"] == "ops/team"
    assert template["appliedFor"] == ["PULL_THROUGH_CACHE", "CREATE_ON_PUSH"]
    assert template["imageTagMutabilityExclusionFilters"] == FILTERS
    assert template["createdAt"] == template["updatedAt"]

    described = ecr.describe_repository_creation_templates(prefixes=["ops/team"])
    assert described["repositoryCreationTemplates"] == [template]

    updated = ecr.update_repository_creation_template(
        prefix="ops/team", description="second", imageTagMutability="IMMUTABLE"
    )["repositoryCreationTemplate"]
    assert updated["description"] == "second"
    assert updated["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in updated
    assert updated["updatedAt"] >= template["updatedAt"]
    assert updated["repositoryPolicy"] == POLICY

    deleted = ecr.delete_repository_creation_template(prefix="ops/team")
    assert deleted["repositoryCreationTemplate"]["description"] == "second"
    assert (
        ecr.describe_repository_creation_templates(prefixes=["ops/team"])[
            "repositoryCreationTemplates"
        ]
        == []
    )


def test_template_errors(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository_creation_template(prefix="errs", appliedFor=["REPLICATION"])
    with pytest.raises(ecr.exceptions.TemplateAlreadyExistsException):
        ecr.create_repository_creation_template(prefix="errs/", appliedFor=["REPLICATION"])
    with pytest.raises(ecr.exceptions.TemplateNotFoundException):
        ecr.update_repository_creation_template(prefix="errs-none", description="x")
    with pytest.raises(ecr.exceptions.TemplateNotFoundException):
        ecr.delete_repository_creation_template(prefix="errs-none")
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.create_repository_creation_template(prefix="Bad_Prefix", appliedFor=["REPLICATION"])
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.create_repository_creation_template(
            prefix="errs2", appliedFor=["REPLICATION"], description="d" * 257
        )
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.create_repository_creation_template(
            prefix="errs2",
            appliedFor=["REPLICATION"],
            encryptionConfiguration={"encryptionType": "KMS", "kmsKey": "alias/not-an-arn"},
        )
    with pytest.raises(ecr.exceptions.InvalidParameterException) as kms:
        ecr.create_repository_creation_template(
            prefix="errs2",
            appliedFor=["REPLICATION"],
            encryptionConfiguration={
                "encryptionType": "KMS",
                "kmsKey": f"arn:aws:kms:{REGION}:{server.account_id}:key/1234abcd-12ab",
            },
        )
    assert "no KMS key provider" in kms.value.response["Error"]["Message"]
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository_creation_template(
            prefix="errs2", appliedFor=["REPLICATION"], repositoryPolicy="{"
        )


def test_template_limit(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    existing = len(
        ecr.describe_repository_creation_templates(maxResults=1000)["repositoryCreationTemplates"]
    )
    for i in range(100 - existing):
        ecr.create_repository_creation_template(
            prefix=f"limit/t{i:03d}", appliedFor=["REPLICATION"]
        )
    with pytest.raises(ecr.exceptions.LimitExceededException):
        ecr.create_repository_creation_template(prefix="limit/over", appliedFor=["REPLICATION"])
    pages = list(
        ecr.get_paginator("describe_repository_creation_templates").paginate(
            PaginationConfig={"PageSize": 30}
        )
    )
    assert len(pages) == 4
    prefixes = [t["prefix"] for page in pages for t in page["repositoryCreationTemplates"]]
    assert len(prefixes) == 100
    assert prefixes == sorted(prefixes)
    for prefix in prefixes:
        if prefix.startswith("limit/"):
            ecr.delete_repository_creation_template(prefix=prefix)


def test_skopeo_push_creates_the_repository_from_a_template(
    server: LiveServer, skopeo: Skopeo, tmp_path: Path
) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository_creation_template(
        prefix="onpush",
        appliedFor=["CREATE_ON_PUSH"],
        resourceTags=[{"Key": "created-by", "Value": "push"}],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
        repositoryPolicy=POLICY,
    )
    layout = Layout(tmp_path / "src")
    image = layout.add_image([20_000, 300_000], seed=41)
    layout.tag(image, "v1")
    skopeo.login(server.host, server.password())
    skopeo.copy(f"oci:{layout.root}:v1", f"docker://{server.host}/onpush/service/api:v1")

    repo = ecr.describe_repositories(repositoryNames=["onpush/service/api"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repo["imageTagMutabilityExclusionFilters"] == FILTERS
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "created-by", "Value": "push"}]
    details = ecr.describe_images(repositoryName="onpush/service/api")["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [(image.digest, ["v1"])]

    # a name no CREATE_ON_PUSH template covers is still unknown
    refused = skopeo.copy(
        f"oci:{layout.root}:v1", f"docker://{server.host}/elsewhere/api:v1", check=False
    )
    assert refused.returncode != 0
    assert "The repository with name 'elsewhere/api' does not exist" in refused.stderr
