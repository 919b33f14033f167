"""Repository creation templates and CREATE_ON_PUSH, in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.registry import InProcessRegistry

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "pull", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
        ],
    }
)
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
FILTERS = [{"filterType": "WILDCARD", "filter": "latest"}]
INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [],
}


def error(response: Any) -> tuple[str, str]:
    body = response.json()
    assert response.status_code == 400, body
    return body["__type"], body["message"]


def create(registry: InProcessRegistry, prefix: str, **params: Any) -> dict[str, Any]:
    params.setdefault("appliedFor", ["CREATE_ON_PUSH"])
    result = registry.ecr_ok("CreateRepositoryCreationTemplate", prefix=prefix, **params)
    assert result["registryId"] == registry.account_id
    return result["repositoryCreationTemplate"]  # type: ignore[no-any-return]


def describe(registry: InProcessRegistry, **params: Any) -> list[dict[str, Any]]:
    result = registry.ecr_ok("DescribeRepositoryCreationTemplates", **params)
    return result["repositoryCreationTemplates"]  # type: ignore[no-any-return]


def repository(registry: InProcessRegistry, name: str) -> dict[str, Any]:
    return registry.ecr_ok("DescribeRepositories", repositoryNames=[name])["repositories"][0]  # type: ignore[no-any-return]


# --- Create / Describe / Update / Delete ----------------------------------------------------------


def test_template_round_trip(registry: InProcessRegistry) -> None:
    created = create(
        registry,
        "prod/team",
        description="team repositories",
        appliedFor=["REPLICATION", "CREATE_ON_PUSH", "REPLICATION"],
        encryptionConfiguration={"encryptionType": "AES256"},
        resourceTags=[{"Key": "team", "Value": "core"}],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
        repositoryPolicy=POLICY,
        lifecyclePolicy=LIFECYCLE,
        customRoleArn=f"arn:aws:iam::{registry.account_id}:role/ecr-templates",
    )
    assert created == {
        "prefix": "prod/team",
        "description": "team repositories",
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "resourceTags": [{"Key": "team", "Value": "core"}],
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": FILTERS,
        "repositoryPolicy": POLICY,
        "lifecyclePolicy": LIFECYCLE,
        "appliedFor": ["REPLICATION", "CREATE_ON_PUSH"],
        "customRoleArn": f"arn:aws:iam::{registry.account_id}:role/ecr-templates",
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
    }
    assert describe(registry) == [created]

    updated = registry.ecr_ok(
        "UpdateRepositoryCreationTemplate", prefix="prod/team", description="changed"
    )["repositoryCreationTemplate"]
    assert updated == {**created, "description": "changed", "updatedAt": updated["updatedAt"]}
    assert updated["updatedAt"] >= created["updatedAt"]

    deleted = registry.ecr_ok("DeleteRepositoryCreationTemplate", prefix="prod/team")
    assert deleted["repositoryCreationTemplate"]["description"] == "changed"
    assert describe(registry) == []


def test_defaults(registry: InProcessRegistry) -> None:
    created = create(registry, "ROOT", appliedFor=["PULL_THROUGH_CACHE"])
    assert created["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert created["imageTagMutability"] == "MUTABLE"
    assert created["resourceTags"] == []
    for absent in ("description", "repositoryPolicy", "lifecyclePolicy", "customRoleArn"):
        assert absent not in created
    assert "imageTagMutabilityExclusionFilters" not in created


def test_already_exists_and_not_found(registry: InProcessRegistry) -> None:
    create(registry, "apps")
    for prefix in ("apps", "apps/"):  # the trailing '/' is implied: the same template
        again = registry.ecr(
            "CreateRepositoryCreationTemplate", prefix=prefix, appliedFor=["REPLICATION"]
        )
        assert error(again) == (
            "TemplateAlreadyExistsException",
            f"Repository creation template with prefix '{prefix}' already exists in the "
            f"registry with id '{registry.account_id}'",
        )
    assert describe(registry, prefixes=["apps/"])[0]["prefix"] == "apps"
    for operation in ("UpdateRepositoryCreationTemplate", "DeleteRepositoryCreationTemplate"):
        missing = registry.ecr(operation, prefix="elsewhere")
        assert error(missing) == (
            "TemplateNotFoundException",
            "Repository creation template with prefix 'elsewhere' does not exist in the "
            f"registry with id '{registry.account_id}'",
        )
    registry.ecr_ok("DeleteRepositoryCreationTemplate", prefix="apps/")
    assert describe(registry) == []


def test_describe_filters_and_paginates(registry: InProcessRegistry) -> None:
    prefixes = ["ROOT", *[f"p{i:02d}" for i in range(7)]]
    for prefix in prefixes:
        create(registry, prefix)
    seen: list[str] = []
    token = None
    while True:
        page = registry.ecr_ok(
            "DescribeRepositoryCreationTemplates",
            maxResults=3,
            **({"nextToken": token} if token else {}),
        )
        assert len(page["repositoryCreationTemplates"]) <= 3
        seen += [t["prefix"] for t in page["repositoryCreationTemplates"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == sorted(prefixes)
    named = describe(registry, prefixes=["p03", "ROOT", "missing"])
    assert [t["prefix"] for t in named] == ["ROOT", "p03"]
    bad = registry.ecr("DescribeRepositoryCreationTemplates", nextToken="forged.token")
    assert error(bad)[0] == "InvalidParameterException"


def test_limit_exceeded(registry: InProcessRegistry) -> None:
    for i in range(100):
        create(registry, f"t{i:03d}")
    response = registry.ecr(
        "CreateRepositoryCreationTemplate", prefix="onemore", appliedFor=["CREATE_ON_PUSH"]
    )
    code, message = error(response)
    assert code == "LimitExceededException"
    assert "at most 100 repository creation templates" in message


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"prefix": "Bad_Prefix"}, "prefix"),
        ({"prefix": "a" * 257}, "prefix"),
        ({"prefix": "x", "appliedFor": ["SOMETIMES"]}, "appliedFor"),
        ({"prefix": "x", "description": "d" * 257}, "description"),
        (
            {
                "prefix": "x",
                "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "alias/k"},
            },
            "encryptionConfiguration.kmsKey",
        ),
        ({"prefix": "x", "lifecyclePolicy": "l" * 30721}, "lifecyclePolicy"),
        ({"prefix": "x", "repositoryPolicy": "r" * 10241}, "repositoryPolicy"),
    ],
    ids=["pattern", "long-prefix", "applied-for", "description", "kms-key", "lifecycle", "policy"],
)
def test_model_constraints_answer_validation_exception(
    registry: InProcessRegistry, params: dict[str, Any], path: str
) -> None:
    params.setdefault("appliedFor", ["CREATE_ON_PUSH"])
    code, message = error(registry.ecr("CreateRepositoryCreationTemplate", **params))
    assert code == "ValidationException"
    assert f"at '{path}'" in message


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"appliedFor": []}, "'appliedFor'"),
        ({"encryptionConfiguration": {"encryptionType": "KMS"}}, "no KMS key provider"),
        (
            {
                "encryptionConfiguration": {
                    "encryptionType": "KMS_DSSE",
                    "kmsKey": "arn:aws:kms:us-east-1:123456789012:key/abc-123",
                }
            },
            "no KMS key provider",
        ),
        ({"imageTagMutability": "MUTABLE_WITH_EXCLUSION"}, "can't be null"),
        ({"imageTagMutabilityExclusionFilters": FILTERS}, "not allowed"),
        ({"repositoryPolicy": "{not json"}, "Invalid repository policy provided"),
        ({"repositoryPolicy": "[]"}, "Invalid repository policy provided"),
        ({"lifecyclePolicy": "nope"}, "Lifecycle policy validation failure"),
        ({"lifecyclePolicy": '{"rules": []}'}, "Lifecycle policy validation failure"),
        ({"customRoleArn": "arn:aws:iam::999999999999:role/x"}, "'customRoleArn'"),
        ({"customRoleArn": "role-name"}, "'customRoleArn'"),
    ],
    ids=[
        "no-purpose",
        "kms",
        "kms-dsse",
        "filters-missing",
        "filters-unwanted",
        "policy-json",
        "policy-object",
        "lifecycle",
        "lifecycle-rules",
        "role-account",
        "role-arn",
    ],
)
def test_semantic_checks_answer_invalid_parameter(
    registry: InProcessRegistry, params: dict[str, Any], fragment: str
) -> None:
    params.setdefault("appliedFor", ["CREATE_ON_PUSH"])
    response = registry.ecr("CreateRepositoryCreationTemplate", prefix="checks", **params)
    code, message = error(response)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at '")
    assert fragment in message
    assert describe(registry) == []


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ([{"Key": "aws:x", "Value": "y"}], "InvalidTagParameterException"),
        ([{"Key": f"k{i}", "Value": ""} for i in range(51)], "TooManyTagsException"),
    ],
)
def test_template_tags_follow_the_repository_rules(
    registry: InProcessRegistry, tags: list[dict[str, str]], code: str
) -> None:
    response = registry.ecr(
        "CreateRepositoryCreationTemplate",
        prefix="tags",
        appliedFor=["CREATE_ON_PUSH"],
        resourceTags=tags,
    )
    assert error(response)[0] == code


def test_update_mutability_and_filters(registry: InProcessRegistry) -> None:
    create(
        registry,
        "mut",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
    )
    new_filters = [{"filterType": "WILDCARD", "filter": "dev-*"}]
    only_filters = registry.ecr_ok(
        "UpdateRepositoryCreationTemplate",
        prefix="mut",
        imageTagMutabilityExclusionFilters=new_filters,
    )["repositoryCreationTemplate"]
    assert only_filters["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert only_filters["imageTagMutabilityExclusionFilters"] == new_filters
    plain = registry.ecr_ok(
        "UpdateRepositoryCreationTemplate", prefix="mut", imageTagMutability="IMMUTABLE"
    )["repositoryCreationTemplate"]
    assert plain["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in plain
    refused = registry.ecr(
        "UpdateRepositoryCreationTemplate",
        prefix="mut",
        imageTagMutabilityExclusionFilters=new_filters,
    )
    assert "not allowed" in error(refused)[1]


def test_update_replaces_and_clears(registry: InProcessRegistry) -> None:
    create(
        registry,
        "upd",
        resourceTags=[{"Key": "a", "Value": "1"}],
        repositoryPolicy=POLICY,
        lifecyclePolicy=LIFECYCLE,
    )
    updated = registry.ecr_ok(
        "UpdateRepositoryCreationTemplate",
        prefix="upd",
        appliedFor=["REPLICATION"],
        resourceTags=[{"Key": "b", "Value": "2"}],
        repositoryPolicy="",
        lifecyclePolicy="",
    )["repositoryCreationTemplate"]
    assert updated["appliedFor"] == ["REPLICATION"]
    assert updated["resourceTags"] == [{"Key": "b", "Value": "2"}]
    assert "repositoryPolicy" not in updated
    assert "lifecyclePolicy" not in updated
    kms = registry.ecr(
        "UpdateRepositoryCreationTemplate",
        prefix="upd",
        encryptionConfiguration={"encryptionType": "KMS"},
    )
    assert error(kms)[0] == "InvalidParameterException"


# --- CREATE_ON_PUSH ------------------------------------------------------------------------------


def test_push_to_a_covered_name_creates_the_repository(registry: InProcessRegistry) -> None:
    create(
        registry,
        "team",
        resourceTags=[{"Key": "owner", "Value": "team"}],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
        repositoryPolicy=POLICY,
        lifecyclePolicy=LIFECYCLE,
    )
    digest, _ = registry.push_image("team/app", "v1", registry.auth)
    repo = repository(registry, "team/app")
    assert repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repo["imageTagMutabilityExclusionFilters"] == FILTERS
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    tags = registry.ecr_ok("ListTagsForResource", resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "owner", "Value": "team"}]
    images = registry.ecr_ok("DescribeImages", repositoryName="team/app")["imageDetails"]
    assert [i["imageDigest"] for i in images] == [digest]
    policy = registry.ecr_ok("GetRepositoryPolicy", repositoryName="team/app")
    assert json.loads(policy["policyText"]) == json.loads(POLICY)
    lifecycle = registry.ecr_ok("GetLifecyclePolicy", repositoryName="team/app")
    assert json.loads(lifecycle["lifecyclePolicyText"]) == json.loads(LIFECYCLE)


def test_longest_prefix_wins_and_root_is_the_fallback(registry: InProcessRegistry) -> None:
    create(registry, "ROOT", imageTagMutability="IMMUTABLE")
    create(registry, "aa", resourceTags=[{"Key": "from", "Value": "aa"}])
    create(
        registry,
        "aa/bb/",
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
    )
    create(registry, "aa/bb/cc", appliedFor=["REPLICATION"])  # not for pushes: ignored
    for name in ("aa/bb/cc/dd", "aa/xx", "aab/xx", "aa"):
        registry.push_blob(name, b"layer of " + name.encode(), registry.auth)
    assert repository(registry, "aa/bb/cc/dd")["imageTagMutability"] == "MUTABLE_WITH_EXCLUSION"
    assert repository(registry, "aa/xx")["imageTagMutability"] == "MUTABLE"
    assert repository(registry, "aab/xx")["imageTagMutability"] == "IMMUTABLE"  # ROOT
    assert repository(registry, "aa")["imageTagMutability"] == "IMMUTABLE"  # 'aa' covers aa/...
    tags = registry.ecr_ok(
        "ListTagsForResource", resourceArn=repository(registry, "aa/xx")["repositoryArn"]
    )
    assert tags["tags"] == [{"Key": "from", "Value": "aa"}]


def test_no_template_means_name_unknown(registry: InProcessRegistry) -> None:
    create(registry, "covered")
    create(registry, "ROOT", appliedFor=["PULL_THROUGH_CACHE", "REPLICATION"])
    response = registry.client.post("/v2/other/app/blobs/uploads/", headers=registry.auth)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert "The repository with name 'other/app' does not exist" in response.text
    missing = registry.ecr("DescribeRepositories", repositoryNames=["other/app"])
    assert error(missing)[0] == "RepositoryNotFoundException"


def test_every_push_entry_point_creates(registry: InProcessRegistry) -> None:
    create(registry, "ROOT")
    auth = registry.auth
    # chunked upload start
    assert registry.client.post("/v2/via/start/blobs/uploads/", headers=auth).status_code == 202
    # monolithic upload
    registry.push_blob("via/monolithic", b"one shot", auth)
    # mount target (BLOB_MOUNTING enabled)
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")
    digest = registry.push_blob("via/monolithic", b"mount me", auth)
    mounted = registry.client.post(
        "/v2/via/mount/blobs/uploads/",
        params={"mount": digest, "from": "via/monolithic"},
        headers=auth,
    )
    assert mounted.status_code == 201
    # manifest PUT (an empty index references nothing)
    put = registry.client.put(
        "/v2/via/manifest/manifests/empty",
        content=json.dumps(INDEX).encode(),
        headers={**auth, "Content-Type": INDEX["mediaType"]},
    )
    assert put.status_code == 201, put.text
    names = {r["repositoryName"] for r in registry.ecr_ok("DescribeRepositories")["repositories"]}
    assert names == {"via/start", "via/monolithic", "via/mount", "via/manifest"}


def test_a_failed_push_creates_nothing(registry: InProcessRegistry) -> None:
    create(registry, "ROOT")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "0" * 64,
            "size": 2,
        },
        "layers": [],
    }
    put = registry.client.put(
        "/v2/never/made/manifests/v1",
        content=json.dumps(manifest).encode(),
        headers={**registry.auth, "Content-Type": manifest["mediaType"]},
    )
    assert put.status_code == 400
    assert registry.ecr_ok("DescribeRepositories")["repositories"] == []


def test_creating_on_push_needs_create_repository(registry: InProcessRegistry) -> None:
    create(registry, "ROOT")
    registry.create_repository("exists")
    no_create = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "ecr:CreateRepository",
                "Resource": f"arn:aws:ecr:us-east-1:{registry.account_id}:repository/*",
            }
        ],
    }
    registry.ecr_ok("PutRegistryPolicy", policyText=json.dumps(no_create))
    denied = registry.client.post("/v2/fresh/blobs/uploads/", headers=registry.auth)
    assert denied.status_code == 403
    assert "ecr:CreateRepository" in denied.text
    assert "repository/fresh" in denied.text
    # pushing to an existing repository needs no ecr:CreateRepository
    assert (
        registry.client.post("/v2/exists/blobs/uploads/", headers=registry.auth).status_code == 202
    )
    missing = registry.ecr("DescribeRepositories", repositoryNames=["fresh"])
    assert error(missing)[0] == "RepositoryNotFoundException"


def test_template_kms_check_also_guards_creation(registry: InProcessRegistry) -> None:
    """A KMS template cannot be stored, so no push can trip over one."""
    response = registry.ecr(
        "CreateRepositoryCreationTemplate",
        prefix="ROOT",
        appliedFor=["CREATE_ON_PUSH"],
        encryptionConfiguration={"encryptionType": "KMS"},
    )
    assert error(response)[0] == "InvalidParameterException"
    assert registry.client.post("/v2/kk/blobs/uploads/", headers=registry.auth).status_code == 404
