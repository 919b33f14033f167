"""Manifests on `/v2/`: push by tag and digest, pull, HEAD, delete, and every refusal.

Covers the manifest data sets of the newer conformance runner (image, no layers, artifact, index,
nested index, empty index, non-distributable layers, custom fields, large manifest, sha512 by
digest, bad digest) and the spec's negative paths (MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN with
one error per digest, 413 past 4 MiB, DIGEST_INVALID), plus Stiva's ECR rules (immutable tags,
children of a live index, no Docker schema 1, OCI <-> Docker schema 2 conversion on pull by tag).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from stiva.oci.manifest import MAX_MANIFEST_BYTES
from tests.support.registry import InProcessRegistry

REPO = "manifests/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT_OCI = {"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}"}


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def codes(response: httpx.Response) -> list[str]:
    return [entry["code"] for entry in response.json()["errors"]]


class Repo:
    def __init__(self, registry: InProcessRegistry, name: str = REPO, **params: Any) -> None:
        registry.create_repository(name, **params)
        self.http = registry.client
        self.auth = registry.auth
        self.name = name

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.http.request(
            method, path.replace("<name>", self.name), headers=headers, **kwargs
        )

    def blob(
        self, data: bytes, media_type: str = LAYER, algorithm: str = "sha256"
    ) -> dict[str, Any]:
        digest = digest_of(data, algorithm)
        pushed = self.request(
            "POST", "/v2/<name>/blobs/uploads/", params={"digest": digest}, content=data
        )
        assert pushed.status_code == 201, pushed.text
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, seed: str, *, algorithm: str = "sha256", **extra: Any) -> dict[str, Any]:
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        return {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(config, OCI_CONFIG, algorithm),
            "layers": [self.blob(f"layer {seed}".encode(), LAYER, algorithm)],
            **extra,
        }

    def put(
        self, reference: str, doc: dict[str, Any] | bytes, media_type: str = OCI_MANIFEST
    ) -> httpx.Response:
        raw = doc if isinstance(doc, bytes) else json.dumps(doc, indent=2).encode()
        return self.request(
            "PUT",
            f"/v2/<name>/manifests/{reference}",
            headers={"Content-Type": media_type},
            content=raw,
        )

    def push(self, reference: str, doc: dict[str, Any], media_type: str = OCI_MANIFEST) -> str:
        raw = json.dumps(doc, indent=2).encode()
        algorithm = reference.split(":", 1)[0] if ":" in reference else "sha256"
        response = self.put(reference, raw, media_type)
        assert response.status_code == 201, response.text
        assert response.headers["docker-content-digest"] == digest_of(raw, algorithm)
        return digest_of(raw, algorithm)

    def descriptor(self, reference: str, media_type: str = OCI_MANIFEST) -> dict[str, Any]:
        got = self.request("GET", f"/v2/<name>/manifests/{reference}", headers=ACCEPT_OCI)
        assert got.status_code == 200, got.text
        return {
            "mediaType": media_type,
            "digest": got.headers["docker-content-digest"],
            "size": len(got.content),
        }


@pytest.fixture
def repo(registry: InProcessRegistry) -> Repo:
    return Repo(registry)


# --- push and pull -------------------------------------------------------------------------


def test_push_by_digest_then_pull_head_and_by_location(repo: Repo) -> None:
    raw = json.dumps(repo.image("by digest"), indent="\t").encode() + b"\n"
    digest = digest_of(raw)
    put = repo.put(digest, raw)
    assert put.status_code == 201, put.text
    assert put.headers["location"] == f"/v2/{REPO}/manifests/{digest}"
    assert put.headers["docker-content-digest"] == digest
    assert "oci-subject" not in put.headers

    got = repo.request("GET", put.headers["location"], headers=ACCEPT_OCI)
    assert got.status_code == 200
    assert got.content == raw  # exact bytes, never re-serialised
    assert got.headers["content-type"] == OCI_MANIFEST
    assert got.headers["content-length"] == str(len(raw))
    head = repo.request("HEAD", f"/v2/<name>/manifests/{digest}", headers=ACCEPT_OCI)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(raw))
    assert head.headers["docker-content-digest"] == digest
    assert head.headers["content-type"] == OCI_MANIFEST


def test_manifest_shapes_the_conformance_runner_pushes(repo: Repo) -> None:
    amd, arm = repo.image("amd64"), repo.image("arm64")
    no_layers = {**repo.image("no layers"), "layers": []}
    custom = {**repo.image("custom"), "x-custom-field": {"kept": True}}
    foreign = repo.image(
        "foreign",
        layers=[
            {
                "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "digest": digest_of(b"never pushed"),
                "size": 123456,
                "urls": ["https://store.example.com/blob"],
            }
        ],
    )
    empty_config = repo.blob(b"{}", "application/vnd.oci.empty.v1+json")
    artifact = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.conf1",
        "config": empty_config,
        "layers": [repo.blob(b"payload", "application/vnd.example.conf1")],
    }
    for tag, doc in [
        ("amd", amd),
        ("arm", arm),
        ("no-layers", no_layers),
        ("custom", custom),
        ("foreign", foreign),
        ("artifact", artifact),
    ]:
        repo.push(tag, doc)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {**repo.descriptor("amd"), "platform": {"os": "linux", "architecture": "amd64"}},
            {**repo.descriptor("arm"), "platform": {"os": "linux", "architecture": "arm64"}},
        ],
    }
    index_digest = repo.push("index", index, OCI_INDEX)
    nested = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [repo.descriptor(index_digest, OCI_INDEX)],
    }
    repo.push("index-of-index", nested, OCI_INDEX)
    repo.push(
        "empty-index", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}, OCI_INDEX
    )
    for tag, media_type in [
        ("index", OCI_INDEX),
        ("index-of-index", OCI_INDEX),
        ("foreign", OCI_MANIFEST),
    ]:
        got = repo.request("GET", f"/v2/<name>/manifests/{tag}", headers=ACCEPT_OCI)
        assert (got.status_code, got.headers["content-type"]) == (200, media_type)


def test_large_manifest_under_the_limit_is_accepted(repo: Repo) -> None:
    doc = repo.image("large")
    doc["annotations"] = {f"large-annotation-{i}": "A" * 10000 for i in range(390)}
    digest = repo.push("large-manifest", doc)
    got = repo.request("GET", f"/v2/<name>/manifests/{digest}", headers=ACCEPT_OCI)
    assert json.loads(got.content)["annotations"] == doc["annotations"]


def test_manifest_of_exactly_the_limit_is_accepted_one_byte_more_is_413(repo: Repo) -> None:
    doc = repo.image("at the limit")
    doc["annotations"] = {"pad": ""}
    base = len(json.dumps(doc).encode())
    doc["annotations"]["pad"] = "x" * (MAX_MANIFEST_BYTES - base)
    raw = json.dumps(doc).encode()
    assert len(raw) == MAX_MANIFEST_BYTES
    assert repo.put("at-limit", raw).status_code == 201

    over = raw[:-1] + b" }"  # one more byte: whitespace before the closing brace
    assert len(over) == MAX_MANIFEST_BYTES + 1
    refused = repo.put("over-limit", over)
    assert refused.status_code == 413
    assert codes(refused) == ["SIZE_INVALID"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds while streaming
        for start in range(0, len(over), 1 << 20):
            yield over[start : start + (1 << 20)]

    streamed = repo.request(
        "PUT",
        "/v2/<name>/manifests/streamed",
        headers={"Content-Type": OCI_MANIFEST},
        content=chunks(),
    )
    assert streamed.status_code == 413
    assert repo.request("HEAD", "/v2/<name>/manifests/streamed").status_code == 404


def test_sha512_manifests_and_index_by_digest(repo: Repo) -> None:
    image = repo.image("sha512", algorithm="sha512")
    raw = json.dumps(image).encode()
    image_digest = digest_of(raw, "sha512")
    put = repo.put(image_digest, raw)
    assert put.status_code == 201, put.text
    assert put.headers["docker-content-digest"] == image_digest
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": image_digest, "size": len(raw)}],
    }
    index_raw = json.dumps(index).encode()
    index_digest = digest_of(index_raw, "sha512")
    assert repo.put(index_digest, index_raw, OCI_INDEX).status_code == 201
    got = repo.request("GET", f"/v2/<name>/manifests/{index_digest}", headers=ACCEPT_OCI)
    assert (got.status_code, got.content) == (200, index_raw)
    assert got.headers["docker-content-digest"] == index_digest


# --- Accept: conversion by tag (ECR: OCI image manifest <-> Docker schema 2) ----------------

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def docker_image(repo: Repo, seed: str) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": repo.blob(json.dumps({"os": "linux", "seed": seed}).encode(), DOCKER_CONFIG),
        "layers": [repo.blob(f"docker layer {seed}".encode(), DOCKER_LAYER)],
    }


def pull(repo: Repo, reference: str, accept: str | None, method: str = "GET") -> httpx.Response:
    headers = {} if accept is None else {"Accept": accept}
    got = repo.request(method, f"/v2/<name>/manifests/{reference}", headers=headers)
    assert got.status_code == 200, (accept, got.text)
    return got


def assert_served(got: httpx.Response, media_type: str) -> bytes:
    """The headers describe the bytes served: type, length, and their sha256 as digest."""
    body = got.content
    assert got.headers["content-type"] == media_type
    assert got.headers["content-length"] == str(len(body))
    assert got.headers["docker-content-digest"] == digest_of(body)
    assert got.headers["etag"] == f'"{digest_of(body)}"'
    return body


def test_docker_manifest_by_tag_converts_to_oci_when_only_oci_is_accepted(repo: Repo) -> None:
    doc = docker_image(repo, "to oci")
    digest = repo.push("docker", doc, DOCKER_MANIFEST)
    body = assert_served(pull(repo, "docker", ", ".join([OCI_INDEX, OCI_MANIFEST])), OCI_MANIFEST)
    converted = json.loads(body)
    assert converted["mediaType"] == OCI_MANIFEST
    assert converted["config"] == {**doc["config"], "mediaType": OCI_CONFIG}
    assert converted["layers"] == [{**doc["layers"][0], "mediaType": LAYER}]
    head = pull(repo, "docker", OCI_MANIFEST, "HEAD")
    assert head.content == b""
    assert (head.headers["docker-content-digest"], head.headers["content-length"]) == (
        digest_of(body),
        str(len(body)),
    )
    for accept in (DOCKER_MANIFEST, "*/*", None, f"{OCI_MANIFEST};q=0.5, {DOCKER_MANIFEST}"):
        got = pull(repo, "docker", accept)
        assert (got.headers["content-type"], got.headers["docker-content-digest"]) == (
            DOCKER_MANIFEST,
            digest,
        ), accept
    by_digest = pull(repo, digest, OCI_MANIFEST)  # a digest names exact bytes: never converted
    assert (by_digest.headers["content-type"], by_digest.headers["docker-content-digest"]) == (
        DOCKER_MANIFEST,
        digest,
    )


def test_oci_image_by_tag_converts_to_docker_and_its_blobs_pull(repo: Repo) -> None:
    doc = repo.image("to docker", annotations={"org.example.note": "dropped"})
    digest = repo.push("oci", doc)
    docker_only = ", ".join([DOCKER_MANIFEST, DOCKER_LIST])
    body = assert_served(pull(repo, "oci", docker_only), DOCKER_MANIFEST)
    converted = json.loads(body)
    assert converted == {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {**doc["config"], "mediaType": DOCKER_CONFIG},
        "layers": [{**doc["layers"][0], "mediaType": DOCKER_LAYER}],
    }
    assert body == pull(repo, "oci", docker_only).content  # the same bytes on every pull
    for descriptor in [converted["config"], *converted["layers"]]:
        blob = repo.request("GET", f"/v2/<name>/blobs/{descriptor['digest']}")
        assert (blob.status_code, len(blob.content)) == (200, descriptor["size"])
    assert pull(repo, digest, DOCKER_MANIFEST).headers["content-type"] == OCI_MANIFEST


def test_what_does_not_convert_is_served_as_stored_never_404(repo: Repo) -> None:
    zstd = repo.image(
        "zstd", layers=[repo.blob(b"zstd", "application/vnd.oci.image.layer.v1.tar+zstd")]
    )
    artifact = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom",
        "config": repo.blob(b"{}", "application/vnd.oci.empty.v1+json"),
        "layers": [repo.blob(b"sbom", "application/vnd.example.sbom")],
    }
    stored = {"zstd": repo.push("zstd", zstd), "artifact": repo.push("artifact", artifact)}
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [repo.descriptor("zstd")]}
    stored["index"] = repo.push("index", index, OCI_INDEX)
    docker = repo.push("docker", docker_image(repo, "schema1 only"), DOCKER_MANIFEST)
    cases = [
        ("zstd", DOCKER_MANIFEST, OCI_MANIFEST, stored["zstd"]),
        ("artifact", DOCKER_MANIFEST, OCI_MANIFEST, stored["artifact"]),
        ("index", OCI_MANIFEST, OCI_INDEX, stored["index"]),  # an index is never converted
        ("index", DOCKER_LIST, OCI_INDEX, stored["index"]),
        ("zstd", SCHEMA1, OCI_MANIFEST, stored["zstd"]),  # no schema 1 from Stiva
        ("docker", SCHEMA1, DOCKER_MANIFEST, docker),
    ]
    for tag, accept, media_type, digest in cases:
        for method in ("GET", "HEAD"):
            got = pull(repo, tag, accept, method)
            assert (got.headers["content-type"], got.headers["docker-content-digest"]) == (
                media_type,
                digest,
            ), (tag, accept, method)


# --- refusals ------------------------------------------------------------------------------


def test_bad_digest_references(repo: Repo) -> None:
    raw = json.dumps(repo.image("bad digest")).encode()
    bad = repo.put("sha256:baddigeststring", raw)
    assert bad.status_code == 400
    assert codes(bad) == ["DIGEST_INVALID"]
    mismatched = repo.put(digest_of(raw), raw + b"  ")  # the runner's "bad-digest-image"
    assert mismatched.status_code == 400
    assert codes(mismatched) == ["DIGEST_INVALID"]
    assert repo.request("HEAD", f"/v2/<name>/manifests/{digest_of(raw)}").status_code == 404
    for method in ("GET", "HEAD", "DELETE"):
        response = repo.request(method, "/v2/<name>/manifests/sha256:baddigeststring")
        assert response.status_code == 400, method


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"blablabla", OCI_MANIFEST),
        (b"[]", OCI_MANIFEST),
        (
            b'{"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}',
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
        ),
        (
            json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode(),
            OCI_MANIFEST,
        ),
        (
            json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": "no"}).encode(),
            OCI_MANIFEST,
        ),
        (b"[" * 100_000 + b"]" * 100_000, OCI_MANIFEST),  # nesting beyond the parser's stack
    ],
    ids=["not json", "not an object", "schema 1", "type mismatch", "layers not an array", "deep"],
)
def test_invalid_manifest_is_manifest_invalid(repo: Repo, raw: bytes, content_type: str) -> None:
    response = repo.put("bad", raw, content_type)
    assert response.status_code == 400, response.text
    assert codes(response) == ["MANIFEST_INVALID"]
    assert response.json()["errors"][0]["message"]


def test_missing_blobs_answer_one_error_per_digest(repo: Repo) -> None:
    doc = repo.image("missing")
    ghosts = [digest_of(b"ghost 1"), digest_of(b"ghost 2")]
    doc["layers"] += [{"mediaType": LAYER, "digest": d, "size": 7} for d in ghosts]
    response = repo.put("missing", doc)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["code"] for e in errors] == ["MANIFEST_BLOB_UNKNOWN"] * 2
    assert sorted(e["detail"]["digest"] for e in errors) == sorted(ghosts)
    assert repo.request("HEAD", "/v2/<name>/manifests/missing").status_code == 404


def test_index_with_missing_child_is_manifest_blob_unknown(repo: Repo) -> None:
    ghost = digest_of(b"never pushed manifest")
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": ghost, "size": 99}],
    }
    response = repo.put("sparse", index, OCI_INDEX)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "MANIFEST_BLOB_UNKNOWN",
        "message": response.json()["errors"][0]["message"],
        "detail": {"digest": ghost},
    }


def test_descriptor_size_must_match_the_blob(repo: Repo) -> None:
    doc = repo.image("wrong size")
    doc["layers"][0]["size"] += 1
    response = repo.put("wrong-size", doc)
    assert response.status_code == 400
    assert codes(response) == ["MANIFEST_INVALID"]
    assert "size" in response.json()["errors"][0]["message"]


def test_invalid_tag_on_push_is_tag_invalid_and_unknown_on_pull(repo: Repo) -> None:
    pushed = repo.put(".INVALID_MANIFEST_NAME", repo.image("tag"))
    assert pushed.status_code == 400
    assert codes(pushed) == ["TAG_INVALID"]
    for method in ("GET", "DELETE"):
        response = repo.request(method, "/v2/<name>/manifests/.INVALID_MANIFEST_NAME")
        assert response.status_code == 404, method
        assert codes(response) == ["MANIFEST_UNKNOWN"]


def test_immutable_repository_refuses_moving_a_tag(registry: InProcessRegistry) -> None:
    repo = Repo(registry, "manifests/frozen", imageTagMutability="IMMUTABLE")
    first = repo.image("v1")
    repo.push("v1", first)
    repo.push("v1", first)  # the same manifest again is not a move
    moved = repo.put("v1", repo.image("v1 again"))
    assert moved.status_code == 400
    assert codes(moved) == ["TAG_INVALID"]
    assert "immutable" in moved.json()["errors"][0]["message"]


# --- deletes -------------------------------------------------------------------------------


def test_delete_tag_then_manifest(repo: Repo) -> None:
    digest = repo.push("v1", repo.image("delete"))
    assert repo.request("DELETE", "/v2/<name>/manifests/v1").status_code == 202
    assert repo.request("HEAD", "/v2/<name>/manifests/v1").status_code == 404
    assert repo.request("HEAD", f"/v2/<name>/manifests/{digest}").status_code == 200
    assert repo.request("DELETE", f"/v2/<name>/manifests/{digest}").status_code == 202
    assert repo.request("HEAD", f"/v2/<name>/manifests/{digest}").status_code == 404
    for reference in ("v1", digest):
        again = repo.request("DELETE", f"/v2/<name>/manifests/{reference}")
        assert again.status_code == 404
        assert codes(again) == ["MANIFEST_UNKNOWN"]


def test_child_of_a_live_index_cannot_be_deleted(repo: Repo) -> None:
    child = repo.push("child", repo.image("child"))
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [repo.descriptor("child")]}
    index_digest = repo.push("index", index, OCI_INDEX)
    refused = repo.request("DELETE", f"/v2/<name>/manifests/{child}")
    assert refused.status_code == 400  # the spec's DELETE failures are 400, 404 and 405
    assert codes(refused) == ["DENIED"]
    assert refused.json()["errors"][0]["message"] == (
        f"The image with digest {child} is referenced by the manifest list {index_digest} "
        "and cannot be deleted while that manifest list exists"
    )
    assert repo.request("HEAD", f"/v2/<name>/manifests/{child}").status_code == 200
    assert repo.request("DELETE", f"/v2/<name>/manifests/{index_digest}").status_code == 202
    assert repo.request("DELETE", f"/v2/<name>/manifests/{child}").status_code == 202
