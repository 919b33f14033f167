"""The ECR operations of the foundation, in-process: shapes, pagination, errors, accounts."""

from __future__ import annotations

import base64

from stiva.services import identity
from tests.support.registry import InProcessRegistry, basic


def test_create_repository_shape_and_options(registry: InProcessRegistry) -> None:
    repo = registry.create_repository(
        "team/svc",
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        tags=[{"Key": "team", "Value": "core"}],
    )
    assert (
        repo["repositoryArn"] == f"arn:aws:ecr:us-east-1:{registry.account_id}:repository/team/svc"
    )
    assert repo["registryId"] == registry.account_id
    assert repo["repositoryUri"] == "127.0.0.1:5000/team/svc"
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert isinstance(repo["createdAt"], float)


def test_create_refusals(registry: InProcessRegistry) -> None:
    registry.create_repository("dup")
    again = registry.ecr("CreateRepository", repositoryName="dup")
    assert again.json()["__type"] == "RepositoryAlreadyExistsException"
    kms = registry.ecr(
        "CreateRepository", repositoryName="kms", encryptionConfiguration={"encryptionType": "KMS"}
    )
    assert kms.json()["__type"] == "KmsException"
    assert "KMS" in kms.json()["message"]


def test_describe_repositories_paginates(registry: InProcessRegistry) -> None:
    names = [f"repo-{i:02d}" for i in range(7)]
    for name in names:
        registry.create_repository(name)
    seen: list[str] = []
    token = None
    while True:
        params = {"maxResults": 3, **({"nextToken": token} if token else {})}
        page = registry.ecr_ok("DescribeRepositories", **params)
        seen += [r["repositoryName"] for r in page["repositories"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == names
    bad = registry.ecr("DescribeRepositories", nextToken="forged.token")
    assert bad.json()["__type"] == "InvalidParameterException"


def test_describe_named_repositories_must_all_exist(registry: InProcessRegistry) -> None:
    registry.create_repository("here")
    response = registry.ecr("DescribeRepositories", repositoryNames=["here", "gone"])
    assert response.json()["__type"] == "RepositoryNotFoundException"
    assert "'gone'" in response.json()["message"]


def test_delete_repository_needs_force_when_not_empty(registry: InProcessRegistry) -> None:
    registry.create_repository("full")
    registry.push_image("full", "v1", registry.auth)
    refused = registry.ecr("DeleteRepository", repositoryName="full")
    assert refused.json()["__type"] == "RepositoryNotEmptyException"
    assert refused.json()["message"] == (
        f"The repository with name 'full' in registry with id '{registry.account_id}' "
        "cannot be deleted because it still contains images"
    )
    deleted = registry.ecr_ok("DeleteRepository", repositoryName="full", force=True)
    assert deleted["repository"]["repositoryName"] == "full"
    assert registry.client.get("/v2/full/manifests/v1", headers=registry.auth).status_code == 404


def test_list_and_describe_images_with_filters_and_pages(registry: InProcessRegistry) -> None:
    registry.create_repository("imgs")
    auth = registry.auth
    tagged = [
        registry.push_image("imgs", f"t{i}", auth, layers=[f"L{i}".encode()])[0] for i in range(4)
    ]
    untagged = registry.push_image("imgs", "tmp", auth, layers=[b"U"])[0]
    registry.client.delete("/v2/imgs/manifests/tmp", headers=auth)  # leaves the image untagged

    ids = registry.ecr_ok("ListImages", repositoryName="imgs")["imageIds"]
    assert {i["imageDigest"] for i in ids} == {*tagged, untagged}
    only_untagged = registry.ecr_ok(
        "ListImages", repositoryName="imgs", filter={"tagStatus": "UNTAGGED"}
    )
    assert only_untagged["imageIds"] == [{"imageDigest": untagged}]

    pages, token = [], None
    while True:
        params = {"repositoryName": "imgs", "maxResults": 2, "filter": {"tagStatus": "TAGGED"}}
        page = registry.ecr_ok(
            "DescribeImages", **params, **({"nextToken": token} if token else {})
        )
        pages.append([d["imageTags"] for d in page["imageDetails"]])
        token = page.get("nextToken")
        if not token:
            break
    assert pages == [[["t0"], ["t1"]], [["t2"], ["t3"]]]


def test_describe_images_by_id_and_missing(registry: InProcessRegistry) -> None:
    registry.create_repository("one")
    digest, _raw = registry.push_image("one", "v1", registry.auth)
    detail = registry.ecr_ok("DescribeImages", repositoryName="one", imageIds=[{"imageTag": "v1"}])[
        "imageDetails"
    ][0]
    assert detail["imageDigest"] == digest
    assert detail["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert detail["artifactMediaType"] == "application/vnd.oci.image.config.v1+json"
    missing = registry.ecr("DescribeImages", repositoryName="one", imageIds=[{"imageTag": "v9"}])
    assert missing.json()["__type"] == "ImageNotFoundException"
    assert "imageTag:'v9'" in missing.json()["message"]


def test_batch_get_image_failures(registry: InProcessRegistry) -> None:
    registry.create_repository("bgi")
    digest, raw = registry.push_image("bgi", "v1", registry.auth)
    other, _ = registry.push_image("bgi", "v2", registry.auth, layers=[b"other"])
    result = registry.ecr_ok(
        "BatchGetImage",
        repositoryName="bgi",
        imageIds=[
            {"imageTag": "v1"},
            {"imageDigest": "sha256:nothex"},
            {"imageTag": "v1", "imageDigest": other},
            {"imageTag": "absent"},
        ],
    )
    assert [i["imageManifest"].encode() for i in result["images"]] == [raw]
    assert result["images"][0]["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert [f["failureCode"] for f in result["failures"]] == [
        "InvalidImageDigest",
        "ImageTagDoesNotMatchDigest",
        "ImageNotFound",
    ]
    wrong_type = registry.ecr_ok(
        "BatchGetImage",
        repositoryName="bgi",
        imageIds=[{"imageTag": "v1"}],
        acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v1+json"],
    )
    assert wrong_type["images"] == []
    assert wrong_type["failures"][0]["failureCode"] == "ImageNotFound"


def test_pull_time_is_recorded_without_a_write_per_request(registry: InProcessRegistry) -> None:
    registry.create_repository("pulls")
    registry.push_image("pulls", "v1", registry.auth)
    assert registry.client.get("/v2/pulls/manifests/v1", headers=registry.auth).status_code == 200
    before = registry.ecr_ok("DescribeImages", repositoryName="pulls")["imageDetails"][0]
    assert "lastRecordedPullTime" not in before  # noted in memory, not yet written
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    assert ctx.pulls.flush(ctx.db) == 1
    after = registry.ecr_ok("DescribeImages", repositoryName="pulls")["imageDetails"][0]
    assert after["lastRecordedPullTime"] >= after["imagePushedAt"]


def test_other_accounts_are_refused_on_both_surfaces(registry: InProcessRegistry) -> None:
    registry.create_repository("private")
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.write() as session:
        other = identity.create_account(session, ctx.secrets, account_id="999988887777")
    registry.access_key_id, registry.secret_access_key = (
        other.access_key_id,
        other.secret_access_key,
    )
    denied = registry.ecr("DescribeImages", repositoryName="private", registryId="123456789012")
    assert denied.json()["__type"] == "AccessDeniedException"
    assert (
        "arn:aws:iam::999988887777:user/admin is not authorized to perform: ecr:DescribeImages"
        in denied.json()["message"]
    )
    token = registry.ecr_ok("GetAuthorizationToken")["authorizationData"][0]
    assert token["proxyEndpoint"] == "http://127.0.0.1:5000"  # no registry domain configured
    password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)[1]
    pull = registry.client.get("/v2/private/tags/list", headers=basic(password))
    assert pull.status_code == 403
    assert pull.json()["errors"][0]["code"] == "DENIED"
    own = registry.client.get(
        "/v2/private/tags/list",
        headers={**basic(password), "Host": "999988887777.dkr.ecr.us-east-1.localhost:5000"},
    )
    assert own.status_code == 404  # its own registry has no such repository
    assert own.json()["errors"][0]["code"] == "NAME_UNKNOWN"
