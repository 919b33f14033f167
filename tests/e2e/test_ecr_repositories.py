"""boto3 against a live Stiva: repositories, tag mutability and resource tags, with AWS's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.live import REGION, LiveServer

FILTERS = [
    {"filterType": "WILDCARD", "filter": "latest"},
    {"filterType": "WILDCARD", "filter": "dev-*"},
]


def arn(server: LiveServer, name: str) -> str:
    return f"arn:aws:ecr:{REGION}:{server.account_id}:repository/{name}"


def test_create_and_describe_with_every_setting(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    created = ecr.create_repository(
        repositoryName="e2e/full",
        tags=[{"Key": "team", "Value": "core"}],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
        imageScanningConfiguration={"scanOnPush": True},
        encryptionConfiguration={"encryptionType": "AES256"},
    )["repository"]
    described = ecr.describe_repositories(repositoryNames=["e2e/full"])["repositories"][0]
    assert described == created
    assert described["repositoryArn"] == arn(server, "e2e/full")
    assert described["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert described["imageTagMutabilityExclusionFilters"] == FILTERS
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert described["encryptionConfiguration"] == {"encryptionType": "AES256"}
    tags = ecr.list_tags_for_resource(resourceArn=arn(server, "e2e/full"))["tags"]
    assert tags == [{"Key": "team", "Value": "core"}]


def test_create_repository_errors(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="e2e/taken")
    with pytest.raises(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName="e2e/taken")
    with pytest.raises(ecr.exceptions.InvalidTagParameterException):
        ecr.create_repository(repositoryName="e2e/t1", tags=[{"Key": "aws:x", "Value": "y"}])
    with pytest.raises(ecr.exceptions.InvalidTagParameterException):
        ecr.create_repository(repositoryName="e2e/t2", tags=[{"Key": "k" * 129, "Value": "y"}])
    with pytest.raises(ecr.exceptions.TooManyTagsException) as too_many:
        ecr.create_repository(
            repositoryName="e2e/t3", tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)]
        )
    assert "is 50" in too_many.value.response["Error"]["Message"]
    with pytest.raises(ecr.exceptions.InvalidParameterException) as no_filters:
        ecr.create_repository(repositoryName="e2e/t4", imageTagMutability="MUTABLE_WITH_EXCLUSION")
    assert no_filters.value.response["Error"]["Message"] == (
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
        "'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as "
        "MUTABLE_WITH_EXCLUSION'"
    )
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(
            repositoryName="e2e/t5",
            imageTagMutability="IMMUTABLE",
            imageTagMutabilityExclusionFilters=FILTERS,
        )
    with pytest.raises(ecr.exceptions.KmsException) as kms:
        ecr.create_repository(
            repositoryName="e2e/t6", encryptionConfiguration={"encryptionType": "KMS_DSSE"}
        )
    assert "no KMS key provider configured" in kms.value.response["Error"]["Message"]
    names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert not names & {f"e2e/t{i}" for i in range(1, 7)}


def test_out_of_range_inputs_are_refused_by_the_server(server: LiveServer) -> None:
    """Values botocore lets through (it checks only minimums) and the server must refuse."""
    ecr: Any = server.ecr()
    with pytest.raises(ecr.exceptions.InvalidParameterException) as page:
        ecr.describe_repositories(maxResults=1001)
    assert "maxResults" in page.value.response["Error"]["Message"]
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(repositoryName="x" * 257)
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(
            repositoryName="e2e/filters",
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters=[
                {"filterType": "WILDCARD", "filter": f"f{i}"} for i in range(6)
            ],
        )
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(
            repositoryName="e2e/filters",
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "no/slash"}],
        )
    with pytest.raises(ecr.exceptions.InvalidTagParameterException):
        ecr.create_repository(repositoryName="e2e/value", tags=[{"Key": "k", "Value": "v" * 257}])


def test_describe_repositories_pages_and_refusals(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    names = [f"e2e-pages/r{i:02d}" for i in range(7)]
    for name in names:
        ecr.create_repository(repositoryName=name)
    pages = list(
        ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 3})
    )
    assert len(pages) >= 3
    seen = [r["repositoryName"] for page in pages for r in page["repositories"]]
    assert [n for n in seen if n.startswith("e2e-pages/")] == names
    assert len(seen) == len(set(seen))
    with pytest.raises(ecr.exceptions.InvalidParameterException) as mixed:
        ecr.describe_repositories(repositoryNames=names[:2], maxResults=2)
    assert "repositoryNames" in mixed.value.response["Error"]["Message"]
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[names[0], "e2e-pages/missing"])


def test_delete_repository(server: LiveServer, skopeo: Skopeo, tmp_path: Path) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="e2e/delete")
    layout = Layout(tmp_path / "src")
    layout.tag(layout.add_image([1000], seed=11), "v1")
    skopeo.login(server.host, server.password())
    skopeo.copy(f"oci:{layout.root}:v1", f"docker://{server.host}/e2e/delete:v1")
    with pytest.raises(ecr.exceptions.RepositoryNotEmptyException):
        ecr.delete_repository(repositoryName="e2e/delete")
    deleted = ecr.delete_repository(repositoryName="e2e/delete", force=True)["repository"]
    assert deleted["repositoryName"] == "e2e/delete"
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.delete_repository(repositoryName="e2e/delete")


@pytest.mark.parametrize(
    ("mutability", "filters"),
    [
        ("IMMUTABLE", None),
        ("IMMUTABLE_WITH_EXCLUSION", FILTERS),
        ("MUTABLE_WITH_EXCLUSION", FILTERS[:1]),
        ("MUTABLE", None),
    ],
)
def test_put_image_tag_mutability(
    server: LiveServer, mutability: str, filters: list[dict[str, str]] | None
) -> None:
    ecr: Any = server.ecr()
    name = f"e2e/mut-{mutability.lower().replace('_', '-')}"
    ecr.create_repository(repositoryName=name)
    params: dict[str, Any] = {"repositoryName": name, "imageTagMutability": mutability}
    if filters:
        params["imageTagMutabilityExclusionFilters"] = filters
    result = ecr.put_image_tag_mutability(**params)
    assert result["registryId"] == server.account_id
    assert result["repositoryName"] == name
    assert result["imageTagMutability"] == mutability
    assert result.get("imageTagMutabilityExclusionFilters") == filters
    repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert repo.get("imageTagMutabilityExclusionFilters") == filters


def test_put_image_tag_mutability_errors(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.put_image_tag_mutability(repositoryName="e2e/absent", imageTagMutability="IMMUTABLE")
    ecr.create_repository(repositoryName="e2e/mut-errors")
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.put_image_tag_mutability(
            repositoryName="e2e/mut-errors", imageTagMutability="IMMUTABLE_WITH_EXCLUSION"
        )
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.put_image_tag_mutability(repositoryName="e2e/mut-errors", imageTagMutability="NEVER")


def test_immutable_with_exclusion_on_a_skopeo_push(
    server: LiveServer, skopeo: Skopeo, tmp_path: Path
) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(
        repositoryName="e2e/excl",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=FILTERS,
    )
    layout = Layout(tmp_path / "src")
    first, second = layout.add_image([500], seed=21), layout.add_image([600], seed=22)
    layout.tag(first, "one")
    layout.tag(second, "two")
    skopeo.login(server.host, server.password())
    target = f"docker://{server.host}/e2e/excl"
    for tag in ("latest", "v1"):
        skopeo.copy(f"oci:{layout.root}:one", f"{target}:{tag}")
    skopeo.copy(f"oci:{layout.root}:two", f"{target}:latest")  # excluded: may move
    refused = skopeo.copy(f"oci:{layout.root}:two", f"{target}:v1", check=False)
    assert refused.returncode != 0
    assert "cannot be overwritten because the repository is immutable" in refused.stderr
    details = ecr.describe_images(repositoryName="e2e/excl")["imageDetails"]
    tags = {d["imageDigest"]: sorted(d.get("imageTags", [])) for d in details}
    assert tags == {first.digest: ["v1"], second.digest: ["latest"]}


def test_resource_tags(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="e2e/tags", tags=[{"Key": "a", "Value": "1"}])
    resource = arn(server, "e2e/tags")
    ecr.tag_resource(
        resourceArn=resource, tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": ""}]
    )
    assert ecr.list_tags_for_resource(resourceArn=resource)["tags"] == [
        {"Key": "a", "Value": "2"},
        {"Key": "b", "Value": ""},
    ]
    ecr.untag_resource(resourceArn=resource, tagKeys=["a", "missing"])
    assert ecr.list_tags_for_resource(resourceArn=resource)["tags"] == [{"Key": "b", "Value": ""}]
    ecr.tag_resource(resourceArn=resource, tags=[{"Key": f"k{i}", "Value": ""} for i in range(49)])
    with pytest.raises(ecr.exceptions.TooManyTagsException):
        ecr.tag_resource(resourceArn=resource, tags=[{"Key": "one-too-many", "Value": ""}])
    with pytest.raises(ecr.exceptions.InvalidTagParameterException):
        ecr.tag_resource(resourceArn=resource, tags=[{"Key": "aws:reserved", "Value": ""}])
    with pytest.raises(ecr.exceptions.InvalidTagParameterException):
        ecr.untag_resource(resourceArn=resource, tagKeys=["aws:reserved"])


@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource", "list_tags_for_resource"])
def test_resource_tag_errors(server: LiveServer, operation: str) -> None:
    ecr: Any = server.ecr()
    extra: dict[str, Any] = {
        "tag_resource": {"tags": [{"Key": "a", "Value": "b"}]},
        "untag_resource": {"tagKeys": ["a"]},
        "list_tags_for_resource": {},
    }[operation]
    call = getattr(ecr, operation)
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        call(resourceArn=arn(server, "e2e/no-such"), **extra)
    for bad in (
        "arn:aws:ecr:eu-north-1:210987654321:repository/e2e/tags",
        "arn:aws:s3:::bucket",
        "nonsense",
    ):
        with pytest.raises(ecr.exceptions.InvalidParameterException) as invalid:
            call(resourceArn=bad, **extra)
        assert invalid.value.response["Error"]["Message"] == (
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"
        )
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        call(resourceArn="arn:aws:ecr:us-east-1:999999999999:repository/theirs", **extra)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
