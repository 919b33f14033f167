"""Repositories, tag mutability and resource tags through the ECR API, in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stiva.api.ecr.operations import OPERATIONS
from stiva.metadata import models as m
from tests.support.registry import InProcessRegistry

FILTERS = [
    {"filterType": "WILDCARD", "filter": "latest"},
    {"filterType": "WILDCARD", "filter": "dev-*"},
]


def error(response: Any) -> tuple[str, str]:
    body = response.json()
    assert response.status_code == 400, body
    return body["__type"], body["message"]


def arn(registry: InProcessRegistry, name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:ecr:{region}:{registry.account_id}:repository/{name}"


# --- CreateRepository ------------------------------------------------------------------------


@pytest.mark.parametrize("mutability", ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"])
def test_create_with_exclusion_filters_returns_them(
    registry: InProcessRegistry, mutability: str
) -> None:
    repo = registry.create_repository(
        "excl", imageTagMutability=mutability, imageTagMutabilityExclusionFilters=FILTERS
    )
    assert repo["imageTagMutability"] == mutability
    assert repo["imageTagMutabilityExclusionFilters"] == FILTERS
    described = registry.ecr_ok("DescribeRepositories", repositoryNames=["excl"])
    assert described["repositories"][0]["imageTagMutabilityExclusionFilters"] == FILTERS


@pytest.mark.parametrize("mutability", ["MUTABLE", "IMMUTABLE"])
def test_plain_forms_have_no_filters(registry: InProcessRegistry, mutability: str) -> None:
    repo = registry.create_repository("plain", imageTagMutability=mutability)
    assert repo["imageTagMutability"] == mutability
    assert "imageTagMutabilityExclusionFilters" not in repo


@pytest.mark.parametrize("mutability", ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"])
def test_exclusion_forms_need_filters(registry: InProcessRegistry, mutability: str) -> None:
    response = registry.ecr(
        "CreateRepository", repositoryName="nofilters", imageTagMutability=mutability
    )
    assert error(response) == (
        "InvalidParameterException",
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
        f"'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as "
        f"{mutability}'",
    )


@pytest.mark.parametrize("mutability", ["MUTABLE", "IMMUTABLE", None])
def test_plain_forms_refuse_filters(registry: InProcessRegistry, mutability: str | None) -> None:
    params: dict[str, Any] = {"imageTagMutabilityExclusionFilters": FILTERS}
    if mutability:
        params["imageTagMutability"] = mutability
    response = registry.ecr("CreateRepository", repositoryName="withfilters", **params)
    code, message = error(response)
    assert code == "InvalidParameterException"
    assert "ImageTagMutabilityExclusionFilters are not allowed" in message
    assert message.endswith(f"set as {mutability or 'MUTABLE'}'")


@pytest.mark.parametrize(
    ("filters", "path"),
    [
        ([], "imageTagMutabilityExclusionFilters"),
        (
            [{"filterType": "WILDCARD", "filter": f"f{i}"} for i in range(6)],
            "imageTagMutabilityExclusionFilters",
        ),
        (
            [{"filterType": "WILDCARD", "filter": "bad/char"}],
            "imageTagMutabilityExclusionFilters.1.member.filter",
        ),
        (
            [{"filterType": "REGEX", "filter": "x"}],
            "imageTagMutabilityExclusionFilters.1.member.filterType",
        ),
    ],
    ids=["empty", "six", "bad-pattern", "bad-type"],
)
def test_filter_constraints_come_from_the_model(
    registry: InProcessRegistry, filters: list[dict[str, str]], path: str
) -> None:
    response = registry.ecr(
        "CreateRepository",
        repositoryName="badfilters",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=filters,
    )
    code, message = error(response)
    assert code == "InvalidParameterException"
    assert f"Invalid parameter at '{path}'" in message


def test_scan_on_push_and_aes256_default(registry: InProcessRegistry) -> None:
    repo = registry.create_repository("scan", imageScanningConfiguration={"scanOnPush": True})
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    explicit = registry.create_repository(
        "aes", encryptionConfiguration={"encryptionType": "AES256"}
    )
    assert explicit["encryptionConfiguration"] == {"encryptionType": "AES256"}


@pytest.mark.parametrize("kind", ["KMS", "KMS_DSSE"])
def test_kms_needs_a_key_provider(registry: InProcessRegistry, kind: str) -> None:
    response = registry.ecr(
        "CreateRepository",
        repositoryName="kms",
        encryptionConfiguration={"encryptionType": kind, "kmsKey": "alias/mine"},
    )
    body = response.json()
    assert response.status_code == 400
    assert body["__type"] == "KmsException"
    assert body["kmsError"] == "NoKeyProvider"
    assert f"encryptionType {kind} needs a KMS key" in body["message"]
    assert "no KMS key provider configured" in body["message"]
    assert registry.ecr("DescribeRepositories", repositoryNames=["kms"]).status_code == 400


def test_kms_key_only_goes_with_kms(registry: InProcessRegistry) -> None:
    response = registry.ecr(
        "CreateRepository",
        repositoryName="aeskey",
        encryptionConfiguration={"encryptionType": "AES256", "kmsKey": "alias/x"},
    )
    code, message = error(response)
    assert code == "InvalidParameterException"
    assert "encryptionConfiguration.kmsKey" in message


def test_create_with_tags(registry: InProcessRegistry) -> None:
    tags = [{"Key": f"k{i:02d}", "Value": "v" * 256} for i in range(50)]
    registry.create_repository("tagged", tags=tags)
    listed = registry.ecr_ok("ListTagsForResource", resourceArn=arn(registry, "tagged"))
    assert listed["tags"] == tags


@pytest.mark.parametrize(
    ("tags", "code", "fragment"),
    [
        ([{"Key": "aws:team", "Value": "x"}], "InvalidTagParameterException", "reserved"),
        ([{"Key": "AWS:team", "Value": "x"}], "InvalidTagParameterException", "reserved"),
        (
            [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
            "InvalidTagParameterException",
            "more than once",
        ),
        ([{"Key": "", "Value": "x"}], "InvalidTagParameterException", "128 characters"),
        ([{"Key": "k" * 129, "Value": "x"}], "InvalidTagParameterException", "128 characters"),
        ([{"Key": "k", "Value": "v" * 257}], "InvalidTagParameterException", "256 characters"),
        (
            [{"Key": f"k{i}", "Value": ""} for i in range(51)],
            "TooManyTagsException",
            "The maximum number of tags that can be applied to a repository is 50.",
        ),
    ],
    ids=["aws-prefix", "AWS-prefix", "duplicate", "empty-key", "long-key", "long-value", "51"],
)
def test_create_refuses_bad_tags(
    registry: InProcessRegistry, tags: list[dict[str, str]], code: str, fragment: str
) -> None:
    response = registry.ecr("CreateRepository", repositoryName="badtags", tags=tags)
    got_code, message = error(response)
    assert got_code == code
    assert fragment in message
    assert registry.ecr("DescribeRepositories", repositoryNames=["badtags"]).status_code == 400


def test_tag_values_are_required_by_the_model(registry: InProcessRegistry) -> None:
    response = registry.ecr("CreateRepository", repositoryName="novalue", tags=[{"Key": "k"}])
    code, message = error(response)
    assert code == "InvalidParameterException"
    assert "tags.1.member.value" in message.lower()


# --- DescribeRepositories / DeleteRepository ---------------------------------------------------


@pytest.mark.parametrize("extra", [{"maxResults": 5}, {"nextToken": "abc"}])
def test_names_and_paging_do_not_mix(registry: InProcessRegistry, extra: dict[str, Any]) -> None:
    registry.create_repository("one")
    response = registry.ecr("DescribeRepositories", repositoryNames=["one"], **extra)
    code, message = error(response)
    assert code == "InvalidParameterException"
    member = next(iter(extra))
    assert message == (
        f"Invalid parameter at '{member}' failed to satisfy constraint: 'This option cannot be "
        "used when you specify repositories with repositoryNames'"
    )


@pytest.mark.parametrize("max_results", [0, 1001])
def test_max_results_range(registry: InProcessRegistry, max_results: int) -> None:
    code, message = error(registry.ecr("DescribeRepositories", maxResults=max_results))
    assert code == "InvalidParameterException"
    assert "maxResults" in message


def test_delete_removes_tags_and_frees_the_name(registry: InProcessRegistry) -> None:
    registry.create_repository("gone", tags=[{"Key": "a", "Value": "b"}])
    deleted = registry.ecr_ok("DeleteRepository", repositoryName="gone")
    assert deleted["repository"]["repositoryName"] == "gone"
    missing = registry.ecr("DeleteRepository", repositoryName="gone")
    assert error(missing)[0] == "RepositoryNotFoundException"
    registry.create_repository("gone")
    assert registry.ecr_ok("ListTagsForResource", resourceArn=arn(registry, "gone"))["tags"] == []


# --- PutImageTagMutability -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutability", "filters"),
    [
        ("MUTABLE", None),
        ("IMMUTABLE", None),
        ("IMMUTABLE_WITH_EXCLUSION", FILTERS),
        ("MUTABLE_WITH_EXCLUSION", FILTERS),
    ],
)
def test_put_image_tag_mutability(
    registry: InProcessRegistry, mutability: str, filters: list[dict[str, str]] | None
) -> None:
    registry.create_repository(
        "mut",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS[:1],
    )
    params: dict[str, Any] = {"repositoryName": "mut", "imageTagMutability": mutability}
    if filters:
        params["imageTagMutabilityExclusionFilters"] = filters
    result = registry.ecr_ok("PutImageTagMutability", **params)
    expected: dict[str, Any] = {
        "registryId": registry.account_id,
        "repositoryName": "mut",
        "imageTagMutability": mutability,
    }
    if filters:
        expected["imageTagMutabilityExclusionFilters"] = filters
    assert result == expected
    repo = registry.ecr_ok("DescribeRepositories", repositoryNames=["mut"])["repositories"][0]
    assert repo["imageTagMutability"] == mutability
    assert repo.get("imageTagMutabilityExclusionFilters") == filters


def test_put_image_tag_mutability_refusals(registry: InProcessRegistry) -> None:
    missing = registry.ecr(
        "PutImageTagMutability", repositoryName="nowhere", imageTagMutability="IMMUTABLE"
    )
    assert error(missing) == (
        "RepositoryNotFoundException",
        f"The repository with name 'nowhere' does not exist in the registry with id "
        f"'{registry.account_id}'",
    )
    registry.create_repository("here")
    no_filters = registry.ecr(
        "PutImageTagMutability", repositoryName="here", imageTagMutability="MUTABLE_WITH_EXCLUSION"
    )
    assert "can't be null" in error(no_filters)[1]
    bad_value = registry.ecr(
        "PutImageTagMutability", repositoryName="here", imageTagMutability="SOMETIMES"
    )
    assert error(bad_value)[0] == "InvalidParameterException"


def _push_tag(registry: InProcessRegistry, name: str, tag: str, layer: bytes) -> int:
    """Push an image whose layer is `layer` under `tag` over /v2/; the manifest PUT's status."""
    auth = registry.auth
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": registry.push_blob(name, config, auth),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": registry.push_blob(name, layer, auth),
                "size": len(layer),
            }
        ],
    }
    response = registry.client.put(
        f"/v2/{name}/manifests/{tag}",
        content=json.dumps(manifest).encode(),
        headers={**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    return response.status_code


@pytest.mark.parametrize(
    ("mutability", "movable", "fixed"),
    [
        ("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-7"], ["v1", "release-1"]),
        ("MUTABLE_WITH_EXCLUSION", ["v1", "release-1"], ["latest", "dev-7"]),
    ],
)
def test_oci_pushes_honour_exclusions(
    registry: InProcessRegistry, mutability: str, movable: list[str], fixed: list[str]
) -> None:
    registry.create_repository(
        "ex", imageTagMutability=mutability, imageTagMutabilityExclusionFilters=FILTERS
    )
    for tag in movable + fixed:
        assert _push_tag(registry, "ex", tag, b"first " + tag.encode()) == 201
    for tag in movable:
        assert _push_tag(registry, "ex", tag, b"second " + tag.encode()) == 201, tag
    for tag in fixed:
        assert _push_tag(registry, "ex", tag, b"second " + tag.encode()) == 400, tag


def test_mutability_change_applies_to_the_next_push(registry: InProcessRegistry) -> None:
    registry.create_repository("later")
    assert _push_tag(registry, "later", "v1", b"a") == 201
    registry.ecr_ok(
        "PutImageTagMutability",
        repositoryName="later",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )
    assert _push_tag(registry, "later", "v1", b"b") == 400
    assert _push_tag(registry, "later", "latest", b"c") == 201
    assert _push_tag(registry, "later", "latest", b"d") == 201


@pytest.mark.skipif("PutImage" not in OPERATIONS, reason="PutImage has not landed yet")
@pytest.mark.parametrize(
    ("mutability", "movable", "fixed"),
    [
        ("IMMUTABLE_WITH_EXCLUSION", "latest", "v1"),
        ("MUTABLE_WITH_EXCLUSION", "v1", "latest"),
    ],
)
def test_put_image_honours_exclusions(
    registry: InProcessRegistry, mutability: str, movable: str, fixed: str
) -> None:
    registry.create_repository(
        "api", imageTagMutability=mutability, imageTagMutabilityExclusionFilters=FILTERS
    )
    manifests = [registry.push_image("api", f"src{i}", registry.auth)[1] for i in range(2)]
    for tag in (movable, fixed):
        first = registry.ecr(
            "PutImage", repositoryName="api", imageManifest=manifests[0].decode(), imageTag=tag
        )
        assert first.status_code == 200, first.text
    moved = registry.ecr(
        "PutImage", repositoryName="api", imageManifest=manifests[1].decode(), imageTag=movable
    )
    assert moved.status_code == 200, moved.text
    refused = registry.ecr(
        "PutImage", repositoryName="api", imageManifest=manifests[1].decode(), imageTag=fixed
    )
    code, message = error(refused)
    assert code == "ImageTagAlreadyExistsException"
    assert f"The image tag '{fixed}' already exists in the 'api' repository" in message


# --- TagResource / UntagResource / ListTagsForResource -----------------------------------------


def test_tag_untag_list(registry: InProcessRegistry) -> None:
    registry.create_repository("team/svc", tags=[{"Key": "team", "Value": "core"}])
    resource = arn(registry, "team/svc")
    assert (
        registry.ecr_ok(
            "TagResource",
            resourceArn=resource,
            tags=[{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": ""}],
        )
        == {}
    )
    listed = registry.ecr_ok("ListTagsForResource", resourceArn=resource)["tags"]
    assert listed == [{"Key": "cost", "Value": ""}, {"Key": "team", "Value": "platform"}]
    assert (
        registry.ecr_ok("UntagResource", resourceArn=resource, tagKeys=["team", "never-set"]) == {}
    )
    assert registry.ecr_ok("ListTagsForResource", resourceArn=resource)["tags"] == [
        {"Key": "cost", "Value": ""}
    ]


def test_tag_limit_counts_existing_tags(registry: InProcessRegistry) -> None:
    registry.create_repository("full", tags=[{"Key": f"k{i}", "Value": ""} for i in range(49)])
    resource = arn(registry, "full")
    overwrite = [{"Key": "k0", "Value": "new"}, {"Key": "k49", "Value": ""}]
    registry.ecr_ok("TagResource", resourceArn=resource, tags=overwrite)  # 50 in all
    response = registry.ecr("TagResource", resourceArn=resource, tags=[{"Key": "k50", "Value": ""}])
    assert error(response)[0] == "TooManyTagsException"
    assert len(registry.ecr_ok("ListTagsForResource", resourceArn=resource)["tags"]) == 50


@pytest.mark.parametrize("operation", ["TagResource", "UntagResource"])
def test_reserved_keys_are_refused(registry: InProcessRegistry, operation: str) -> None:
    registry.create_repository("reserved")
    params: dict[str, Any] = {"resourceArn": arn(registry, "reserved")}
    if operation == "TagResource":
        params["tags"] = [{"Key": "aws:cloudformation:stack-name", "Value": "x"}]
    else:
        params["tagKeys"] = ["aws:cloudformation:stack-name"]
    assert error(registry.ecr(operation, **params))[0] == "InvalidTagParameterException"


@pytest.mark.parametrize(
    "resource",
    [
        "not-an-arn",
        "arn:aws:ecr:eu-west-3:{account}:repository/there",
        "arn:aws:s3:::bucket",
        "arn:aws:ecr:us-east-1:{account}:registry/there",
    ],
    ids=["garbage", "other-region", "other-service", "not-a-repository"],
)
@pytest.mark.parametrize("operation", ["TagResource", "UntagResource", "ListTagsForResource"])
def test_resource_arn_must_name_a_repository_here(
    registry: InProcessRegistry, operation: str, resource: str
) -> None:
    registry.create_repository("there")
    params: dict[str, Any] = {"resourceArn": resource.format(account=registry.account_id)}
    if operation == "TagResource":
        params["tags"] = [{"Key": "a", "Value": "b"}]
    elif operation == "UntagResource":
        params["tagKeys"] = ["a"]
    assert error(registry.ecr(operation, **params)) == (
        "InvalidParameterException",
        "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'",
    )


def test_tagging_a_missing_repository(registry: InProcessRegistry) -> None:
    response = registry.ecr(
        "TagResource", resourceArn=arn(registry, "nope"), tags=[{"Key": "a", "Value": "b"}]
    )
    assert error(response) == (
        "RepositoryNotFoundException",
        f"The repository with name 'nope' does not exist in the registry with id "
        f"'{registry.account_id}'",
    )
    listing = registry.ecr("ListTagsForResource", resourceArn=arn(registry, "nope"))
    assert error(listing)[0] == "RepositoryNotFoundException"


def test_tagging_another_accounts_repository_is_denied(registry: InProcessRegistry) -> None:
    other = "arn:aws:ecr:us-east-1:999999999999:repository/theirs"
    for operation, extra in [
        ("TagResource", {"tags": [{"Key": "a", "Value": "b"}]}),
        ("UntagResource", {"tagKeys": ["a"]}),
        ("ListTagsForResource", {}),
    ]:
        response = registry.ecr(operation, resourceArn=other, **extra)
        assert response.status_code == 400
        assert response.json()["__type"] == "AccessDeniedException"
        assert f"ecr:{operation} on resource: {other}" in response.json()["message"]


# --- BLOB_MOUNTING on the OCI push path ----------------------------------------------------------


def _mount(registry: InProcessRegistry, target: str, digest: str, source: str) -> int:
    response = registry.client.post(
        f"/v2/{target}/blobs/uploads/",
        params={"mount": digest, "from": source},
        headers=registry.auth,
    )
    return response.status_code


def test_blob_mounting_follows_the_account_setting(registry: InProcessRegistry) -> None:
    for name in ("src", "dst", "dst2"):
        registry.create_repository(name)
    digest = registry.push_blob("src", b"shared layer", registry.auth)
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")
    assert _mount(registry, "dst", digest, "src") == 201
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="DISABLED")
    assert _mount(registry, "dst2", digest, "src") == 202  # a normal upload starts instead
    assert (
        registry.client.head(f"/v2/dst2/blobs/{digest}", headers=registry.auth).status_code == 404
    )
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")
    assert _mount(registry, "dst2", digest, "src") == 201


def test_blob_mounting_refused_when_the_setting_row_says_so(registry: InProcessRegistry) -> None:
    """The setting as stored in the database (no PutAccountSetting involved)."""
    for name in ("src", "dst"):
        registry.create_repository(name)
    digest = registry.push_blob("src", b"another layer", registry.auth)
    db = registry.client.app.state.ctx.db  # type: ignore[attr-defined]
    with db.write() as session:
        session.merge(
            m.AccountSetting(account_id=registry.account_id, name="BLOB_MOUNTING", value="DISABLED")
        )
    assert _mount(registry, "dst", digest, "src") == 202


def test_mount_needs_read_access_to_the_source(registry: InProcessRegistry) -> None:
    registry.create_repository("private")
    registry.create_repository("mine")
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")
    digest = registry.push_blob("private", b"secret layer", registry.auth)
    assert _mount(registry, "mine", digest, "private") == 201
    registry.create_repository("mine2")
    deny_reads = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "ecr:GetDownloadUrlForLayer",
            }
        ],
    }
    registry.ecr_ok(
        "SetRepositoryPolicy", repositoryName="private", policyText=json.dumps(deny_reads)
    )
    assert _mount(registry, "mine2", digest, "private") == 202  # refused: a normal upload instead
