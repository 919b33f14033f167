"""boto3 against a live Stiva: every image operation, its declared errors, pages and paginators."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.support.live import LiveServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
SBOM = "application/spdx+json"
SIGNATURE = "application/vnd.cncf.notary.signature"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Images:
    """A repository on a live server: blobs over `/v2/`, everything else through boto3."""

    def __init__(self, server: LiveServer, name: str, **params: Any) -> None:
        self.server, self.name = server, name
        self.ecr: Any = server.ecr()
        self.ecr.create_repository(repositoryName=name, **params)
        token = base64.b64encode(f"AWS:{server.password()}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = sha256(data)
        response = httpx.post(
            f"{self.server.url}/v2/{self.name}/blobs/uploads/?digest={digest}",
            content=data,
            headers=self.auth,
        )
        assert response.status_code == 201, response.text
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, seed: str, *, docker: bool = False) -> dict[str, Any]:
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        return {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
            "config": self.blob(config, DOCKER_CONFIG if docker else OCI_CONFIG),
            "layers": [self.blob(seed.encode() * 7, DOCKER_LAYER if docker else OCI_LAYER)],
        }

    def put(self, doc: dict[str, Any], tag: str | None = None, **params: Any) -> tuple[str, str]:
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        if tag is not None:
            params["imageTag"] = tag
        image = self.ecr.put_image(repositoryName=self.name, imageManifest=text, **params)
        digest: str = image["image"]["imageId"]["imageDigest"]
        assert digest == sha256(text.encode())
        assert image["image"]["imageManifest"] == text
        return digest, text

    def index(self, *children: tuple[str, str], media_type: str = OCI_INDEX) -> dict[str, Any]:
        child_type = DOCKER_MANIFEST if media_type == DOCKER_LIST else OCI_MANIFEST
        manifests = [
            {"mediaType": child_type, "digest": d, "size": len(t.encode())} for d, t in children
        ]
        return {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}

    def artifact(self, subject: tuple[str, str], artifact_type: str, seed: str) -> dict[str, Any]:
        return {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": self.blob(b"{}", "application/vnd.oci.empty.v1+json"),
            "layers": [self.blob(seed.encode(), "application/octet-stream")],
            "subject": {
                "mediaType": OCI_MANIFEST,
                "digest": subject[0],
                "size": len(subject[1].encode()),
            },
            "annotations": {"seed": seed},
        }

    def v2(self, reference: str) -> httpx.Response:
        accept = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_LIST])
        return httpx.get(
            f"{self.server.url}/v2/{self.name}/manifests/{reference}",
            headers={**self.auth, "Accept": accept},
        )

    def storage_class(self, image_id: dict[str, str], target: str) -> dict[str, Any]:
        result: dict[str, Any] = self.ecr.update_image_storage_class(
            repositoryName=self.name, imageId=image_id, targetStorageClass=target
        )
        return result


def test_put_image_each_manifest_type_round_trips(server: LiveServer) -> None:
    repo = Images(server, "e2e/types")
    docker = repo.put(repo.image("docker ✓", docker=True), "docker")
    oci = repo.put(repo.image("oci"), "oci")
    untagged = repo.put(repo.image("untagged"))
    docker_list = repo.put(repo.index(docker, media_type=DOCKER_LIST), "list")
    index = repo.put(repo.index(oci, untagged), "index")
    sbom = repo.put(repo.artifact(oci, SBOM, "sbom"))
    bare = repo.image("bare")
    del bare["mediaType"]
    no_type = repo.put(bare, "bare", imageManifestMediaType=OCI_MANIFEST)
    everything = [docker, oci, untagged, docker_list, index, sbom, no_type]
    got = repo.ecr.batch_get_image(
        repositoryName=repo.name,
        imageIds=[{"imageDigest": digest} for digest, _ in everything],
    )
    assert [image["imageManifest"] for image in got["images"]] == [t for _, t in everything]
    assert got["failures"] == []
    for digest, text in everything:
        pulled = repo.v2(digest)
        assert (pulled.status_code, pulled.content) == (200, text.encode())
    media = {
        d["imageDigest"]: d["imageManifestMediaType"]
        for d in repo.ecr.describe_images(repositoryName=repo.name)["imageDetails"]
    }
    assert media[docker_list[0]] == DOCKER_LIST
    assert media[index[0]] == OCI_INDEX
    assert media[docker[0]] == DOCKER_MANIFEST


def test_put_image_declared_errors(server: LiveServer) -> None:
    repo = Images(server, "e2e/errors", imageTagMutability="IMMUTABLE")
    ecr = repo.ecr
    digest, text = repo.put(repo.image("one"), "v1")
    put = {"repositoryName": repo.name, "imageManifest": text}
    with pytest.raises(ecr.exceptions.ImageAlreadyExistsException) as exists:
        ecr.put_image(**put, imageTag="v1")
    assert f"Image with digest '{digest}' and tag 'v1' already exists" in str(exists.value)
    _other, other_text = repo.put(repo.image("two"))
    with pytest.raises(ecr.exceptions.ImageTagAlreadyExistsException):
        ecr.put_image(repositoryName=repo.name, imageManifest=other_text, imageTag="v1")
    with pytest.raises(ecr.exceptions.ImageDigestDoesNotMatchException):
        ecr.put_image(**put, imageTag="v2", imageDigest=sha256(b"something else"))
    missing = repo.image("three")
    missing["layers"][0]["digest"] = sha256(b"never uploaded")
    with pytest.raises(ecr.exceptions.LayersNotFoundException):
        ecr.put_image(repositoryName=repo.name, imageManifest=json.dumps(missing))
    absent = repo.index((sha256(b"no such image"), "{}"))
    with pytest.raises(ecr.exceptions.ReferencedImagesNotFoundException):
        ecr.put_image(repositoryName=repo.name, imageManifest=json.dumps(absent))
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.put_image(repositoryName=repo.name, imageManifest='{"schemaVersion": 2}')
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.put_image(repositoryName="e2e/none", imageManifest=text)
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.put_image(**put, imageTag="t" * 301)  # past the model's maximum
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ecr.put_image(**put, imageTag="")  # botocore checks the minimum itself


def test_batch_get_image_failures_and_archived(server: LiveServer) -> None:
    repo = Images(server, "e2e/get")
    digest, text = repo.put(repo.image("get"), "v1")
    repo.put(repo.image("cold"), "cold")
    repo.storage_class({"imageTag": "cold"}, "ARCHIVE")
    got = repo.ecr.batch_get_image(
        repositoryName=repo.name,
        imageIds=[
            {"imageTag": "v1"},
            {"imageTag": "cold"},
            {"imageTag": "absent"},
            {"imageDigest": "sha256:zzz"},
        ],
        acceptedMediaTypes=[OCI_MANIFEST, DOCKER_MANIFEST],
    )
    assert got["images"][0]["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert got["images"][0]["imageManifest"] == text
    assert [f["failureCode"] for f in got["failures"]] == [
        "ImageNotFound",
        "ImageNotFound",
        "InvalidImageDigest",
    ]
    assert "archived" in got["failures"][0]["failureReason"]
    with pytest.raises(repo.ecr.exceptions.RepositoryNotFoundException):
        repo.ecr.batch_get_image(repositoryName="e2e/none", imageIds=[{"imageTag": "v1"}])


def test_batch_delete_image(server: LiveServer) -> None:
    repo = Images(server, "e2e/delete")
    digest, text = repo.put(repo.image("a"), "a")
    repo.ecr.put_image(repositoryName=repo.name, imageManifest=text, imageTag="b")
    child = repo.put(repo.image("child"))
    index, _ = repo.put(repo.index(child), "multi")
    result = repo.ecr.batch_delete_image(
        repositoryName=repo.name,
        imageIds=[
            {"imageTag": "a"},
            {"imageDigest": child[0]},
            {"imageTag": "gone"},
            {"imageDigest": "bad"},
        ],
    )
    assert result["imageIds"] == [{"imageDigest": digest, "imageTag": "a"}]
    assert [f["failureCode"] for f in result["failures"]] == [
        "ImageReferencedByManifestList",
        "ImageNotFound",
        "InvalidImageDigest",
    ]
    result = repo.ecr.batch_delete_image(
        repositoryName=repo.name,
        imageIds=[{"imageTag": "b"}, {"imageDigest": index}, {"imageDigest": child[0]}],
    )
    assert result["imageIds"] == [
        {"imageDigest": digest, "imageTag": "b"},
        {"imageDigest": index, "imageTag": "multi"},
        {"imageDigest": child[0]},
    ]
    assert repo.ecr.list_images(repositoryName=repo.name)["imageIds"] == []
    with pytest.raises(botocore.exceptions.ParamValidationError):
        repo.ecr.batch_delete_image(repositoryName=repo.name, imageIds=[])
    with pytest.raises(repo.ecr.exceptions.InvalidParameterException):
        repo.ecr.batch_delete_image(repositoryName=repo.name, imageIds=[{"imageTag": "x"}] * 101)
    with pytest.raises(repo.ecr.exceptions.RepositoryNotFoundException):
        repo.ecr.batch_delete_image(repositoryName="e2e/none", imageIds=[{"imageTag": "x"}])


def test_list_and_describe_pages_and_paginators(server: LiveServer) -> None:
    repo = Images(server, "e2e/pages")
    digests = []
    for i in range(5):
        digest, text = repo.put(repo.image(f"p{i}"), f"p{i}")
        repo.ecr.put_image(repositoryName=repo.name, imageManifest=text, imageTag=f"p{i}-alias")
        digests.append(digest)
    page = repo.ecr.list_images(repositoryName=repo.name, maxResults=3)
    assert len(page["imageIds"]) == 3
    second = repo.ecr.list_images(
        repositoryName=repo.name, maxResults=3, nextToken=page["nextToken"]
    )
    assert second["imageIds"][0] not in page["imageIds"]
    listed = [
        image_id
        for page in repo.ecr.get_paginator("list_images").paginate(
            repositoryName=repo.name, PaginationConfig={"PageSize": 4}
        )
        for image_id in page["imageIds"]
    ]
    assert len(listed) == 10
    assert {i["imageDigest"] for i in listed} == set(digests)
    pages = list(
        repo.ecr.get_paginator("describe_images").paginate(
            repositoryName=repo.name, PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["imageDetails"]) for p in pages] == [2, 2, 1]
    described = [d["imageDigest"] for p in pages for d in p["imageDetails"]]
    assert described == digests
    assert pages[0]["imageDetails"][0]["imageTags"] == ["p0", "p0-alias"]
    with pytest.raises(repo.ecr.exceptions.InvalidParameterException):
        repo.ecr.list_images(repositoryName=repo.name, maxResults=1001)
    with pytest.raises(repo.ecr.exceptions.InvalidParameterException):
        repo.ecr.describe_images(
            repositoryName=repo.name, imageIds=[{"imageTag": "p0"}], maxResults=1
        )
    with pytest.raises(repo.ecr.exceptions.ImageNotFoundException):
        repo.ecr.describe_images(repositoryName=repo.name, imageIds=[{"imageTag": "nope"}])
    with pytest.raises(repo.ecr.exceptions.InvalidParameterException):
        repo.ecr.list_images(repositoryName=repo.name, nextToken="forged")
    for operation in (repo.ecr.list_images, repo.ecr.describe_images):
        with pytest.raises(repo.ecr.exceptions.RepositoryNotFoundException):
            operation(repositoryName="e2e/none")


def test_list_image_referrers_pages_and_filters(server: LiveServer) -> None:
    repo = Images(server, "e2e/referrers")
    subject = repo.put(repo.image("subject"), "app")
    sboms = [repo.put(repo.artifact(subject, SBOM, f"sbom{i}"))[0] for i in range(4)]
    signature, _ = repo.put(repo.artifact(subject, SIGNATURE, "sig"))
    seen, token = [], None
    while True:
        extra = {"nextToken": token} if token else {}
        page = repo.ecr.list_image_referrers(
            repositoryName=repo.name, subjectId={"imageDigest": subject[0]}, maxResults=2, **extra
        )
        seen.append([r["digest"] for r in page["referrers"]])
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [sboms[:2], sboms[2:], [signature]]
    filtered = repo.ecr.list_image_referrers(
        repositoryName=repo.name,
        subjectId={"imageDigest": subject[0]},
        filter={"artifactTypes": [SIGNATURE], "artifactStatus": "ANY"},
    )["referrers"]
    assert filtered == [
        {
            "digest": signature,
            "mediaType": OCI_MANIFEST,
            "artifactType": SIGNATURE,
            "size": len(repo.v2(signature).content),
            "annotations": {"seed": "sig"},
            "artifactStatus": "ACTIVE",
        }
    ]
    with pytest.raises(repo.ecr.exceptions.ValidationException):
        repo.ecr.list_image_referrers(
            repositoryName=repo.name, subjectId={"imageDigest": subject[0]}, maxResults=51
        )
    with pytest.raises(repo.ecr.exceptions.ValidationException):
        repo.ecr.list_image_referrers(
            repositoryName=repo.name,
            subjectId={"imageDigest": subject[0]},
            filter={"artifactTypes": ["a/b"] * 6},
        )
    with pytest.raises(repo.ecr.exceptions.RepositoryNotFoundException):
        repo.ecr.list_image_referrers(
            repositoryName="e2e/none", subjectId={"imageDigest": subject[0]}
        )
    with pytest.raises(repo.ecr.exceptions.InvalidParameterException):
        repo.ecr.list_image_referrers(repositoryName=repo.name, subjectId={"imageDigest": "x"})


def test_archive_restore_and_repush(server: LiveServer) -> None:
    repo = Images(server, "e2e/archive")
    digest, text = repo.put(repo.image("cold"), "cold")
    child = repo.put(repo.image("child"))
    repo.put(repo.index(child), "multi")
    archived = repo.storage_class({"imageTag": "cold"}, "ARCHIVE")
    assert archived["imageStatus"] == "ARCHIVED"
    assert archived["imageId"] == {"imageDigest": digest, "imageTag": "cold"}
    assert repo.v2("cold").status_code == 404
    assert repo.v2(digest).status_code == 404
    archived_list = repo.ecr.list_images(
        repositoryName=repo.name, filter={"imageStatus": "ARCHIVED"}
    )["imageIds"]
    assert archived_list == [{"imageDigest": digest, "imageTag": "cold"}]
    detail = repo.ecr.describe_images(repositoryName=repo.name, imageIds=[{"imageTag": "cold"}])[
        "imageDetails"
    ][0]
    assert detail["imageStatus"] == "ARCHIVED"
    assert detail["lastArchivedAt"] >= detail["imagePushedAt"]

    with pytest.raises(repo.ecr.exceptions.ImageStorageClassUpdateNotSupportedException):
        repo.storage_class({"imageDigest": child[0]}, "ARCHIVE")  # part of a live index
    with pytest.raises(repo.ecr.exceptions.ImageNotFoundException):
        repo.storage_class({"imageTag": "nope"}, "ARCHIVE")
    with pytest.raises(repo.ecr.exceptions.ValidationException):
        repo.storage_class({"imageTag": "cold"}, "GLACIER")
    with pytest.raises(repo.ecr.exceptions.InvalidParameterException):
        repo.storage_class({}, "ARCHIVE")
    with pytest.raises(repo.ecr.exceptions.RepositoryNotFoundException):
        repo.ecr.update_image_storage_class(
            repositoryName="e2e/none", imageId={"imageTag": "x"}, targetStorageClass="ARCHIVE"
        )

    restored = repo.storage_class({"imageDigest": digest}, "STANDARD")
    assert restored["imageStatus"] == "ACTIVE"
    assert repo.v2("cold").content == text.encode()
    repo.storage_class({"imageDigest": digest}, "ARCHIVE")
    repo.ecr.put_image(repositoryName=repo.name, imageManifest=text, imageTag="cold")
    detail = repo.ecr.describe_images(repositoryName=repo.name, imageIds=[{"imageTag": "cold"}])[
        "imageDetails"
    ][0]
    assert detail["imageStatus"] == "ACTIVE"
    assert detail["lastActivatedAt"] >= detail["lastArchivedAt"]
