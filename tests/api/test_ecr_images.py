"""The ECR image operations in-process: PutImage, BatchGetImage, BatchDeleteImage, ListImages,
DescribeImages, ListImageReferrers, UpdateImageStorageClass, and archived images on `/v2/`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.support.registry import InProcessRegistry

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


class Repo:
    """One repository, driven through ECR (PutImage & co) with blobs pushed over `/v2/`."""

    def __init__(self, registry: InProcessRegistry, name: str = "imgs", **params: Any) -> None:
        registry.create_repository(name, **params)
        self.registry, self.name, self.auth = registry, name, registry.auth

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.registry.ecr_ok(operation, repositoryName=self.name, **params)

    def error(self, operation: str, **params: Any) -> tuple[str, str]:
        response = self.registry.ecr(operation, repositoryName=self.name, **params)
        assert response.status_code == 400, response.text
        return response.json()["__type"], response.json()["message"]

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = self.registry.push_blob(self.name, data, self.auth)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image_doc(
        self, seed: str, *, docker: bool = False, repeat: int = 10, **extra: Any
    ) -> dict[str, Any]:
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        layer = f"layer {seed}".encode() * repeat
        return {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
            "config": self.blob(config, DOCKER_CONFIG if docker else OCI_CONFIG),
            "layers": [self.blob(layer, DOCKER_LAYER if docker else OCI_LAYER)],
            **extra,
        }

    def put(self, text: str, tag: str | None = None, **params: Any) -> dict[str, Any]:
        if tag is not None:
            params["imageTag"] = tag
        image: dict[str, Any] = self.call("PutImage", imageManifest=text, **params)["image"]
        return image

    def push(self, doc: dict[str, Any], tag: str | None = None) -> tuple[str, str]:
        """PutImage `doc` (indented, so re-serialising would change it): (digest, text)."""
        text = json.dumps(doc, indent=3)
        image = self.put(text, tag)
        assert image["imageId"]["imageDigest"] == sha256(text.encode())
        return image["imageId"]["imageDigest"], text

    def index(self, *children: tuple[str, str], media_type: str = OCI_INDEX) -> dict[str, Any]:
        child_type = DOCKER_MANIFEST if media_type == DOCKER_LIST else OCI_MANIFEST
        return {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                {"mediaType": child_type, "digest": digest, "size": len(text.encode())}
                for digest, text in children
            ],
        }

    def v2(self, reference: str) -> Any:
        accept = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_LIST])
        return self.registry.client.get(
            f"/v2/{self.name}/manifests/{reference}", headers={**self.auth, "Accept": accept}
        )

    def details(self, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call("DescribeImages", **params)["imageDetails"]
        return found

    def artifact(self, subject: tuple[str, str], artifact_type: str, seed: str) -> dict[str, Any]:
        empty = self.blob(b"{}", "application/vnd.oci.empty.v1+json")
        return {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [self.blob(seed.encode(), "application/octet-stream")],
            "subject": {
                "mediaType": OCI_MANIFEST,
                "digest": subject[0],
                "size": len(subject[1].encode()),
            },
            "annotations": {"org.example.seed": seed},
        }


@pytest.fixture
def repo(registry: InProcessRegistry) -> Repo:
    return Repo(registry)


# --- PutImage ------------------------------------------------------------------------------


def test_put_image_every_manifest_type_round_trips_byte_for_byte(repo: Repo) -> None:
    docker = repo.push(repo.image_doc("docker", docker=True), "docker")
    oci = repo.push(repo.image_doc("oci"), "oci")
    arm = repo.push(repo.image_doc("arm"))
    docker_list = repo.push(repo.index(docker, media_type=DOCKER_LIST), "list")
    oci_index = repo.push(repo.index(oci, arm), "index")
    signature = repo.push(repo.artifact(oci, SIGNATURE, "sig"))
    for digest, text in [docker, oci, arm, docker_list, oci_index, signature]:
        got = repo.call("BatchGetImage", imageIds=[{"imageDigest": digest}])["images"][0]
        assert got["imageManifest"] == text
        pulled = repo.v2(digest)
        assert pulled.status_code == 200
        assert pulled.content == text.encode()
        assert pulled.headers["docker-content-digest"] == digest
    media = {d["imageDigest"]: d["imageManifestMediaType"] for d in repo.details()}
    assert media[docker_list[0]] == DOCKER_LIST
    assert media[oci_index[0]] == OCI_INDEX
    assert media[docker[0]] == DOCKER_MANIFEST


def test_put_image_digest_is_of_the_exact_utf8_bytes(repo: Repo) -> None:
    doc = repo.image_doc("utf8", annotations={"note": "café ✓ \u00e9"})
    text = "{  " + json.dumps(doc, ensure_ascii=False)[1:]  # as no JSON library writes it
    image = repo.put(text, "utf8")
    assert image["imageId"] == {"imageDigest": sha256(text.encode("utf-8")), "imageTag": "utf8"}
    assert image["imageManifest"] == text
    assert image["imageManifestMediaType"] == OCI_MANIFEST
    assert image["registryId"] == repo.registry.account_id
    assert repo.v2("utf8").content == text.encode("utf-8")


def test_put_image_media_type_parameter(repo: Repo) -> None:
    doc = repo.image_doc("bare")
    del doc["mediaType"]
    text = json.dumps(doc)
    assert repo.error("PutImage", imageManifest=text)[0] == "InvalidParameterException"
    image = repo.put(text, "bare", imageManifestMediaType=OCI_MANIFEST)
    assert image["imageManifestMediaType"] == OCI_MANIFEST
    assert repo.v2("bare").headers["content-type"] == OCI_MANIFEST
    other = json.dumps(repo.image_doc("typed"))
    code, message = repo.error(
        "PutImage", imageManifest=other, imageManifestMediaType=DOCKER_MANIFEST
    )
    assert code == "InvalidParameterException"
    assert "does not match" in message
    code, _ = repo.error("PutImage", imageManifest=other, imageManifestMediaType="text/plain")
    assert code == "InvalidParameterException"
    assert repo.error("PutImage", imageManifest="{not json")[0] == "InvalidParameterException"


def test_put_image_refusals(registry: InProcessRegistry) -> None:
    repo = Repo(registry, "refusals")
    digest, text = repo.push(repo.image_doc("one"), "v1")
    code, message = repo.error("PutImage", imageManifest=text, imageTag="v1")
    assert code == "ImageAlreadyExistsException"
    assert message == (
        f"Image with digest '{digest}' and tag 'v1' already exists in the repository with name "
        f"'refusals' in registry with id '{registry.account_id}'"
    )
    code, message = repo.error("PutImage", imageManifest=text)
    assert code == "ImageAlreadyExistsException"
    assert "and tag 'null'" in message
    assert repo.put(text, "v1-again")["imageId"]["imageDigest"] == digest  # a new tag: a change

    code, message = repo.error(
        "PutImage", imageManifest=text, imageDigest="sha256:" + "0" * 64, imageTag="x"
    )
    assert code == "ImageDigestDoesNotMatchException"
    assert digest in message
    assert repo.put(text, "x", imageDigest=digest)["imageId"]["imageTag"] == "x"

    missing_layer = {**repo.image_doc("two"), "layers": [{**repo.image_doc("3")["layers"][0]}]}
    missing_layer["layers"][0]["digest"] = sha256(b"never pushed")
    code, message = repo.error("PutImage", imageManifest=json.dumps(missing_layer))
    assert code == "LayersNotFoundException"
    assert sha256(b"never pushed") in message
    assert "required for pushing image into repository with name 'refusals'" in message

    absent = (sha256(b"no such manifest"), "x" * 10)
    code, message = repo.error("PutImage", imageManifest=json.dumps(repo.index(absent)))
    assert code == "ReferencedImagesNotFoundException"
    assert message.startswith(f"Images with digests '[{absent[0]}]'")

    gone = registry.ecr("PutImage", repositoryName="nope", imageManifest=text)
    assert gone.json()["__type"] == "RepositoryNotFoundException"

    for not_a_tag in (digest, "sha256:" + "a" * 64, "bad tag!"):  # a digest is no tag
        code, message = repo.error("PutImage", imageManifest=text, imageTag=not_a_tag)
        assert code == "InvalidParameterException", (not_a_tag, message)
        assert f"invalid tag '{not_a_tag}'" in message


def test_put_image_respects_tag_immutability(registry: InProcessRegistry) -> None:
    repo = Repo(registry, "frozen", imageTagMutability="IMMUTABLE")
    _digest, text = repo.push(repo.image_doc("a"), "release")
    _other, other_text = repo.push(repo.image_doc("b"))
    code, message = repo.error("PutImage", imageManifest=other_text, imageTag="release")
    assert code == "ImageTagAlreadyExistsException"
    assert message == (
        "The image tag 'release' already exists in the 'frozen' repository and cannot be "
        "overwritten because the repository is immutable."
    )
    assert repo.error("PutImage", imageManifest=text, imageTag="release")[0] == (
        "ImageAlreadyExistsException"
    )


def test_put_image_moves_a_mutable_tag(repo: Repo) -> None:
    first, _ = repo.push(repo.image_doc("first"), "latest")
    second, _ = repo.push(repo.image_doc("second"), "latest")
    assert repo.v2("latest").headers["docker-content-digest"] == second
    ids = repo.call("ListImages")["imageIds"]
    assert {"imageDigest": first} in ids
    assert {"imageDigest": second, "imageTag": "latest"} in ids


# --- BatchGetImage -------------------------------------------------------------------------


def test_batch_get_image_failures_and_media_types(repo: Repo) -> None:
    digest, text = repo.push(repo.image_doc("get"), "v1")
    result = repo.call(
        "BatchGetImage",
        imageIds=[
            {"imageTag": "v1"},
            {},
            {"imageTag": "bad tag!"},
            {"imageDigest": "sha256:nothex"},
            {"imageDigest": sha256(b"absent")},
        ],
        acceptedMediaTypes=[OCI_MANIFEST],
    )
    assert result["images"] == [
        {
            "registryId": repo.registry.account_id,
            "repositoryName": "imgs",
            "imageId": {"imageDigest": digest, "imageTag": "v1"},
            "imageManifest": text,
            "imageManifestMediaType": OCI_MANIFEST,
        }
    ]
    assert [(f["imageId"], f["failureCode"]) for f in result["failures"]] == [
        ({}, "MissingDigestAndTag"),
        ({"imageTag": "bad tag!"}, "InvalidImageTag"),
        ({"imageDigest": "sha256:nothex"}, "InvalidImageDigest"),
        ({"imageDigest": sha256(b"absent")}, "ImageNotFound"),
    ]
    assert result["failures"][-1]["failureReason"] == "Requested image not found"
    too_many = repo.registry.ecr(
        "BatchGetImage", repositoryName="imgs", imageIds=[{"imageTag": "v1"}] * 101
    )
    assert too_many.json()["__type"] == "InvalidParameterException"


def test_batch_get_image_converts_by_tag_between_oci_and_docker(repo: Repo) -> None:
    """As ECR converts pulls by tag: the converted manifest and its type, imageId the image's."""
    oci_digest, oci_text = repo.push(repo.image_doc("oci", annotations={"a": "dropped"}), "oci")
    docker_digest, docker_text = repo.push(repo.image_doc("docker", docker=True), "docker")
    result = repo.call(
        "BatchGetImage",
        imageIds=[{"imageTag": "oci"}],
        acceptedMediaTypes=[DOCKER_MANIFEST, DOCKER_LIST],
    )
    [image] = result["images"]
    assert image["imageId"] == {"imageDigest": oci_digest, "imageTag": "oci"}
    assert image["imageManifestMediaType"] == DOCKER_MANIFEST
    source, converted = json.loads(oci_text), json.loads(image["imageManifest"])
    assert converted == {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {**source["config"], "mediaType": DOCKER_CONFIG},
        "layers": [{**source["layers"][0], "mediaType": DOCKER_LAYER}],
    }
    # the same bytes a `/v2/` pull by tag with that Accept serves
    pulled = repo.registry.client.get(
        f"/v2/{repo.name}/manifests/oci", headers={**repo.auth, "Accept": DOCKER_MANIFEST}
    )
    assert pulled.content == image["imageManifest"].encode()
    back = repo.call(
        "BatchGetImage", imageIds=[{"imageTag": "docker"}], acceptedMediaTypes=[OCI_MANIFEST]
    )["images"][0]
    assert back["imageId"] == {"imageDigest": docker_digest, "imageTag": "docker"}
    assert back["imageManifestMediaType"] == OCI_MANIFEST
    assert json.loads(back["imageManifest"])["layers"][0]["mediaType"] == OCI_LAYER
    assert json.loads(docker_text)["layers"][0]["mediaType"] == DOCKER_LAYER


def test_batch_get_image_never_converts_by_digest_nor_what_does_not_convert(
    repo: Repo,
) -> None:
    digest, _ = repo.push(repo.image_doc("by digest"), "v1")
    child = repo.push(repo.image_doc("child"))
    repo.push(repo.index(child), "multi")
    subject = repo.push(repo.image_doc("subject"))
    repo.push(repo.artifact(subject, SBOM, "sbom"), "sbom")
    result = repo.call(
        "BatchGetImage",
        imageIds=[
            {"imageDigest": digest},
            {"imageDigest": digest, "imageTag": "v1"},
            {"imageTag": "multi"},
            {"imageTag": "sbom"},
        ],
        acceptedMediaTypes=[DOCKER_MANIFEST, DOCKER_LIST],
    )
    assert result["images"] == []
    assert [f["failureCode"] for f in result["failures"]] == ["ImageNotFound"] * 4
    assert "acceptedMediaTypes excludes" in result["failures"][0]["failureReason"]
    schema1 = repo.call(
        "BatchGetImage",
        imageIds=[{"imageTag": "v1"}],
        acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v1+json"],
    )
    assert [f["failureCode"] for f in schema1["failures"]] == ["ImageNotFound"]


# --- BatchDeleteImage ----------------------------------------------------------------------


def test_batch_delete_by_tag_removes_the_tag_and_the_image_with_its_last_tag(repo: Repo) -> None:
    digest, text = repo.push(repo.image_doc("tags"), "a")
    repo.put(text, "b")
    deleted = repo.call("BatchDeleteImage", imageIds=[{"imageTag": "a"}])
    assert deleted == {"imageIds": [{"imageDigest": digest, "imageTag": "a"}], "failures": []}
    assert repo.details()[0]["imageTags"] == ["b"]
    deleted = repo.call("BatchDeleteImage", imageIds=[{"imageTag": "b"}])
    assert deleted["imageIds"] == [{"imageDigest": digest, "imageTag": "b"}]
    assert repo.call("ListImages")["imageIds"] == []
    assert repo.v2(digest).status_code == 404


def test_batch_delete_by_digest_takes_every_tag(repo: Repo) -> None:
    digest, text = repo.push(repo.image_doc("all"), "x")
    repo.put(text, "y")
    untagged, _ = repo.push(repo.image_doc("untagged"))
    deleted = repo.call(
        "BatchDeleteImage", imageIds=[{"imageDigest": digest}, {"imageDigest": untagged}]
    )
    assert deleted["imageIds"] == [
        {"imageDigest": digest, "imageTag": "x"},
        {"imageDigest": digest, "imageTag": "y"},
        {"imageDigest": untagged},
    ]
    assert deleted["failures"] == []
    assert repo.call("ListImages")["imageIds"] == []


def test_batch_delete_failures(repo: Repo) -> None:
    child = repo.push(repo.image_doc("child"), "child")
    index, _ = repo.push(repo.index(child), "multi")
    result = repo.call(
        "BatchDeleteImage",
        imageIds=[
            {"imageDigest": child[0]},
            {"imageTag": "child"},
            {"imageTag": "nope"},
            {"imageDigest": "md5:xyz"},
            {"imageTag": "bad tag"},
            {},
            {"imageTag": "multi", "imageDigest": child[0]},
        ],
    )
    assert result["imageIds"] == []
    assert [f["failureCode"] for f in result["failures"]] == [
        "ImageReferencedByManifestList",
        "ImageReferencedByManifestList",
        "ImageNotFound",
        "InvalidImageDigest",
        "InvalidImageTag",
        "MissingDigestAndTag",
        "ImageTagDoesNotMatchDigest",
    ]
    assert index in result["failures"][0]["failureReason"]
    assert result["failures"][2]["failureReason"] == "Requested image not found"
    # the index goes first, then its child may go
    gone = repo.call(
        "BatchDeleteImage", imageIds=[{"imageDigest": index}, {"imageDigest": child[0]}]
    )
    assert [i["imageDigest"] for i in gone["imageIds"]] == [index, child[0]]


# --- ListImages / DescribeImages -----------------------------------------------------------


def test_list_images_pages_count_entries_not_images(repo: Repo) -> None:
    _digest, text = repo.push(repo.image_doc("many"), "t1")
    for tag in ("t2", "t3"):
        repo.put(text, tag)
    untagged, _ = repo.push(repo.image_doc("solo"))
    seen: list[dict[str, str]] = []
    token = None
    while True:
        page = repo.call("ListImages", maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["imageIds"]) <= 2
        seen += page["imageIds"]
        token = page.get("nextToken")
        if not token:
            break
    assert [i.get("imageTag") for i in seen] == ["t1", "t2", "t3", None]
    assert seen[-1] == {"imageDigest": untagged}
    tagged = repo.call("ListImages", filter={"tagStatus": "TAGGED"})["imageIds"]
    assert len(tagged) == 3
    token = repo.call("ListImages", maxResults=1)["nextToken"]
    other = Repo(repo.registry, "other")
    assert other.error("ListImages", nextToken=token)[0] == "InvalidParameterException"
    assert repo.error("DescribeImages", nextToken=token)[0] == "InvalidParameterException"


def test_describe_images_fields_and_index_children(repo: Repo) -> None:
    amd = repo.push(repo.image_doc("amd"))
    arm = repo.push(repo.image_doc("arm", repeat=50))
    index, _ = repo.push(repo.index(amd, arm), "multi")
    sbom, _ = repo.push(repo.artifact(amd, SBOM, "sbom"))
    details = {d["imageDigest"]: d for d in repo.details()}
    assert set(details) == {amd[0], arm[0], index, sbom}  # children are images of their own
    sizes = {d: details[d]["imageSizeInBytes"] for d in (amd[0], arm[0])}
    assert details[index]["imageSizeInBytes"] == max(sizes.values())
    assert details[index]["imageTags"] == ["multi"]
    assert "imageTags" not in details[amd[0]]
    assert details[sbom]["subjectManifestDigest"] == amd[0]
    assert details[sbom]["artifactMediaType"] == "application/vnd.oci.empty.v1+json"
    assert details[amd[0]]["artifactMediaType"] == OCI_CONFIG
    for detail in details.values():
        assert detail["imageStatus"] == "ACTIVE"
        assert detail["registryId"] == repo.registry.account_id
        assert "lastArchivedAt" not in detail
        assert "lastRecordedPullTime" not in detail

    repo.v2("multi")
    ctx = repo.registry.client.app.state.ctx  # type: ignore[attr-defined]
    ctx.pulls.flush(ctx.db)
    pulled = repo.details(imageIds=[{"imageTag": "multi"}])[0]
    assert pulled["lastRecordedPullTime"] >= pulled["imagePushedAt"]

    code, message = repo.error("DescribeImages", imageIds=[{"imageTag": "v9"}])
    assert code == "ImageNotFoundException"
    assert message == (
        "The image with imageId {imageDigest:'null', imageTag:'v9'} does not exist within the "
        f"repository with name 'imgs' in the registry with id '{repo.registry.account_id}'"
    )
    code, message = repo.error("DescribeImages", imageIds=[{"imageTag": "multi"}], maxResults=5)
    assert code == "InvalidParameterException"
    assert "maxResults" in message


def test_describe_images_paginates_with_filters(repo: Repo) -> None:
    digests = [repo.push(repo.image_doc(f"p{i}"), f"p{i}")[0] for i in range(5)]
    pages: list[list[str]] = []
    token = None
    while True:
        params: dict[str, Any] = {"maxResults": 2, "filter": {"tagStatus": "TAGGED"}}
        page = repo.call("DescribeImages", **params, **({"nextToken": token} if token else {}))
        pages.append([d["imageDigest"] for d in page["imageDetails"]])
        token = page.get("nextToken")
        if not token:
            break
    assert pages == [digests[:2], digests[2:4], digests[4:]]
    code, _ = repo.error("DescribeImages", maxResults=1001)
    assert code == "InvalidParameterException"
    code, _ = repo.error("ListImages", filter={"imageStatus": "FROZEN"})
    assert code == "InvalidParameterException"


@pytest.mark.parametrize(
    ("image_id", "text"),
    [
        ({}, "both tag and digest cannot be null"),  # used to name the first image
        ({"imageDigest": "sha256:zz"}, "image digest should satisfy the regex"),
        ({"imageTag": "bad tag!"}, "invalid tag"),
    ],
)
def test_describe_images_refuses_ids_naming_no_image(
    repo: Repo, image_id: dict[str, str], text: str
) -> None:
    repo.push(repo.image_doc("only"), "only")
    code, message = repo.error("DescribeImages", imageIds=[image_id])
    assert code == "InvalidParameterException"
    assert text in message


# --- ListImageReferrers --------------------------------------------------------------------


def test_list_image_referrers_filters_and_pages(repo: Repo) -> None:
    subject = repo.push(repo.image_doc("subject"), "app")
    sboms = [repo.push(repo.artifact(subject, SBOM, f"sbom{i}"))[0] for i in range(3)]
    signature, _ = repo.push(repo.artifact(subject, SIGNATURE, "sig"))
    listed = repo.call("ListImageReferrers", subjectId={"imageDigest": subject[0]})
    assert [r["digest"] for r in listed["referrers"]] == [*sboms, signature]
    assert "nextToken" not in listed
    first = listed["referrers"][0]
    assert first["mediaType"] == OCI_MANIFEST
    assert first["artifactType"] == SBOM
    assert first["artifactStatus"] == "ACTIVE"
    assert first["annotations"] == {"org.example.seed": "sbom0"}
    assert first["size"] == len(repo.v2(sboms[0]).content)

    only_sig = repo.call(
        "ListImageReferrers",
        subjectId={"imageDigest": subject[0]},
        filter={"artifactTypes": [SIGNATURE, "application/x-none"]},
    )
    assert [r["digest"] for r in only_sig["referrers"]] == [signature]

    seen, token = [], None
    while True:
        page = repo.call(
            "ListImageReferrers",
            subjectId={"imageDigest": subject[0]},
            maxResults=3,
            **({"nextToken": token} if token else {}),
        )
        seen.append([r["digest"] for r in page["referrers"]])
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [sboms, [signature]]

    none = repo.call("ListImageReferrers", subjectId={"imageDigest": sha256(b"no subject")})
    assert none == {"referrers": []}


def test_list_image_referrers_validation(repo: Repo) -> None:
    subject = {"imageDigest": sha256(b"x")}
    code, message = repo.error("ListImageReferrers", subjectId=subject, maxResults=51)
    assert code == "ValidationException"
    assert "Member must have value less than or equal to 50" in message
    code, _ = repo.error(
        "ListImageReferrers", subjectId=subject, filter={"artifactTypes": ["a/b"] * 6}
    )
    assert code == "ValidationException"
    code, _ = repo.error("ListImageReferrers", subjectId=subject, filter={"artifactStatus": "GONE"})
    assert code == "ValidationException"
    code, _ = repo.error("ListImageReferrers", subjectId={"imageDigest": "nope"})
    assert code == "InvalidParameterException"


# --- UpdateImageStorageClass and archived images -------------------------------------------


def test_archive_and_restore_an_image(repo: Repo) -> None:
    digest, text = repo.push(repo.image_doc("cold"), "cold")
    archived = repo.call(
        "UpdateImageStorageClass", imageId={"imageTag": "cold"}, targetStorageClass="ARCHIVE"
    )
    assert archived == {
        "registryId": repo.registry.account_id,
        "repositoryName": "imgs",
        "imageId": {"imageDigest": digest, "imageTag": "cold"},
        "imageStatus": "ARCHIVED",
    }
    for reference in ("cold", digest):  # not pullable, by tag or by digest
        pulled = repo.v2(reference)
        assert pulled.status_code == 404
        assert pulled.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        assert "archived" in pulled.json()["errors"][0]["message"]
    failure = repo.call("BatchGetImage", imageIds=[{"imageTag": "cold"}])["failures"][0]
    assert failure["failureCode"] == "ImageNotFound"
    assert "archived" in failure["failureReason"]

    assert repo.call("ListImages")["imageIds"] == []  # ACTIVE only by default
    assert repo.details() == []
    listed = repo.call("ListImages", filter={"imageStatus": "ARCHIVED"})["imageIds"]
    assert listed == [{"imageDigest": digest, "imageTag": "cold"}]
    detail = repo.details(filter={"imageStatus": "ANY"})[0]
    assert detail["imageStatus"] == "ARCHIVED"
    assert detail["lastArchivedAt"] >= detail["imagePushedAt"]
    assert repo.details(imageIds=[{"imageDigest": digest}])[0]["imageStatus"] == "ARCHIVED"

    code, message = repo.error(
        "UpdateImageStorageClass", imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )
    assert (code, "already archived" in message) == (
        "ImageStorageClassUpdateNotSupportedException",
        True,
    )
    restored = repo.call(
        "UpdateImageStorageClass", imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
    )
    assert restored["imageStatus"] == "ACTIVE"
    assert restored["imageId"] == {"imageDigest": digest}
    assert repo.v2("cold").content == text.encode()
    detail = repo.details()[0]
    assert detail["lastActivatedAt"] >= detail["lastArchivedAt"]
    code, _ = repo.error(
        "UpdateImageStorageClass", imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
    )
    assert code == "ImageStorageClassUpdateNotSupportedException"


def test_pushing_an_archived_image_restores_it(repo: Repo) -> None:
    digest, text = repo.push(repo.image_doc("again"), "again")
    repo.call(
        "UpdateImageStorageClass", imageId={"imageTag": "again"}, targetStorageClass="ARCHIVE"
    )
    assert repo.put(text, "again")["imageId"]["imageDigest"] == digest  # no ImageAlreadyExists
    assert repo.v2("again").status_code == 200
    repo.call(
        "UpdateImageStorageClass", imageId={"imageTag": "again"}, targetStorageClass="ARCHIVE"
    )
    pushed = repo.registry.client.put(
        f"/v2/imgs/manifests/{digest}",
        content=text.encode(),
        headers={**repo.auth, "Content-Type": OCI_MANIFEST},
    )
    assert pushed.status_code == 201
    assert repo.details()[0]["imageStatus"] == "ACTIVE"


def test_archiving_an_index_takes_its_children_and_referrers(repo: Repo) -> None:
    amd, arm = repo.push(repo.image_doc("amd")), repo.push(repo.image_doc("arm"))
    shared = repo.push(repo.image_doc("shared"))
    index, index_text = repo.push(repo.index(amd, shared), "multi")
    other_index, _ = repo.push(repo.index(arm, shared), "other")
    signature, _ = repo.push(repo.artifact((index, index_text), SIGNATURE, "sig"))

    code, message = repo.error(
        "UpdateImageStorageClass", imageId={"imageDigest": amd[0]}, targetStorageClass="ARCHIVE"
    )
    assert code == "ImageStorageClassUpdateNotSupportedException"
    assert index in message
    code, message = repo.error(
        "UpdateImageStorageClass", imageId={"imageDigest": signature}, targetStorageClass="ARCHIVE"
    )
    assert code == "ImageStorageClassUpdateNotSupportedException"
    assert "artifact" in message

    repo.call(
        "UpdateImageStorageClass", imageId={"imageTag": "multi"}, targetStorageClass="ARCHIVE"
    )
    status = {
        d["imageDigest"]: d["imageStatus"] for d in repo.details(filter={"imageStatus": "ANY"})
    }
    assert status == {
        amd[0]: "ARCHIVED",
        arm[0]: "ACTIVE",
        shared[0]: "ACTIVE",  # the other index still lists it
        index: "ARCHIVED",
        other_index: "ACTIVE",
        signature: "ARCHIVED",
    }
    referrers = repo.call(
        "ListImageReferrers", subjectId={"imageDigest": index}, filter={"artifactStatus": "ANY"}
    )["referrers"]
    assert [(r["digest"], r["artifactStatus"]) for r in referrers] == [(signature, "ARCHIVED")]
    assert repo.call("ListImageReferrers", subjectId={"imageDigest": index})["referrers"] == []
    oci = repo.registry.client.get(f"/v2/imgs/referrers/{index}", headers=repo.auth)
    assert oci.json()["manifests"] == []

    repo.call(
        "UpdateImageStorageClass", imageId={"imageDigest": index}, targetStorageClass="STANDARD"
    )
    status = {
        d["imageDigest"]: d["imageStatus"] for d in repo.details(filter={"imageStatus": "ANY"})
    }
    assert set(status.values()) == {"ACTIVE"}


def test_update_image_storage_class_refusals(repo: Repo) -> None:
    code, message = repo.error(
        "UpdateImageStorageClass", imageId={"imageTag": "ghost"}, targetStorageClass="ARCHIVE"
    )
    assert code == "ImageNotFoundException"
    assert "imageTag:'ghost'" in message
    code, _ = repo.error("UpdateImageStorageClass", imageId={}, targetStorageClass="ARCHIVE")
    assert code == "InvalidParameterException"
    code, message = repo.error(
        "UpdateImageStorageClass", imageId={"imageTag": "x"}, targetStorageClass="GLACIER"
    )
    assert code == "ValidationException"
    assert "[STANDARD, ARCHIVE]" in message
    missing = repo.registry.ecr(
        "UpdateImageStorageClass",
        repositoryName="absent",
        imageId={"imageTag": "x"},
        targetStorageClass="ARCHIVE",
    )
    assert missing.json()["__type"] == "RepositoryNotFoundException"


def test_put_image_creates_the_repository_from_a_create_on_push_template(
    registry: InProcessRegistry,
) -> None:
    registry.ecr_ok(
        "CreateRepositoryCreationTemplate",
        prefix="auto",
        appliedFor=["CREATE_ON_PUSH"],
        imageTagMutability="IMMUTABLE",
    )
    empty_index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    image = registry.ecr_ok(
        "PutImage", repositoryName="auto/new", imageManifest=empty_index, imageTag="v1"
    )["image"]
    assert image["repositoryName"] == "auto/new"
    created = registry.ecr_ok("DescribeRepositories", repositoryNames=["auto/new"])
    assert created["repositories"][0]["imageTagMutability"] == "IMMUTABLE"
    elsewhere = registry.ecr("PutImage", repositoryName="manual/new", imageManifest=empty_index)
    assert elsewhere.json()["__type"] == "RepositoryNotFoundException"
