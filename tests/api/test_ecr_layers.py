"""ECR's layer API in-process: check, initiate, parts, complete, download URLs, and their errors."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import update

from stiva.metadata import models as m
from stiva.services import downloads
from stiva.services.context import RegistryContext
from stiva.services.layers import MAX_PARTS, MIN_PART_SIZE
from tests.support.registry import InProcessRegistry

REPO = "layers/app"
MiB = 1024 * 1024


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


def ctx_of(registry: InProcessRegistry) -> RegistryContext:
    ctx: RegistryContext = registry.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def initiate(registry: InProcessRegistry, name: str = REPO) -> str:
    result = registry.ecr_ok("InitiateLayerUpload", repositoryName=name)
    return str(result["uploadId"])


def part(
    registry: InProcessRegistry,
    upload_id: str,
    data: bytes,
    first: int,
    last: int | None = None,
    name: str = REPO,
) -> Any:
    return registry.ecr(
        "UploadLayerPart",
        repositoryName=name,
        uploadId=upload_id,
        partFirstByte=first,
        partLastByte=first + len(data) - 1 if last is None else last,
        layerPartBlob=base64.b64encode(data).decode(),
    )


def push_layer(registry: InProcessRegistry, data: bytes, name: str = REPO) -> str:
    upload_id = initiate(registry, name)
    assert part(registry, upload_id, data, 0, name=name).status_code == 200
    done = registry.ecr_ok(
        "CompleteLayerUpload",
        repositoryName=name,
        uploadId=upload_id,
        layerDigests=[digest_of(data)],
    )
    return str(done["layerDigest"])


def error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def repo(registry: InProcessRegistry) -> InProcessRegistry:
    registry.create_repository(REPO)
    return registry


# --- InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload --------------------------------


def test_initiate_returns_an_upload_id_and_ecrs_part_size(repo: InProcessRegistry) -> None:
    result = repo.ecr_ok("InitiateLayerUpload", repositoryName=REPO)
    assert uuid.UUID(result["uploadId"])
    assert result["partSize"] == 10485760


def test_multi_part_upload_becomes_a_blob_of_the_repository(repo: InProcessRegistry) -> None:
    data = blob(MIN_PART_SIZE + MiB // 2, "multi")
    first, rest = data[:MIN_PART_SIZE], data[MIN_PART_SIZE:]
    upload_id = initiate(repo)

    one = part(repo, upload_id, first, 0)
    assert one.json() == {
        "registryId": repo.account_id,
        "repositoryName": REPO,
        "uploadId": upload_id,
        "lastByteReceived": MIN_PART_SIZE - 1,
    }
    two = part(repo, upload_id, rest, MIN_PART_SIZE)
    assert two.json()["lastByteReceived"] == len(data) - 1
    done = repo.ecr_ok(
        "CompleteLayerUpload",
        repositoryName=REPO,
        uploadId=upload_id,
        layerDigests=[digest_of(data)],
    )
    assert done == {
        "registryId": repo.account_id,
        "repositoryName": REPO,
        "uploadId": upload_id,
        "layerDigest": digest_of(data),
    }

    fetched = repo.client.get(f"/v2/{REPO}/blobs/{digest_of(data)}", headers=repo.auth)
    assert fetched.status_code == 200
    assert fetched.content == data
    again = part(repo, upload_id, b"late", len(data))
    assert error(again)["__type"] == "UploadNotFoundException"


def test_an_ecr_upload_is_an_oci_upload(repo: InProcessRegistry) -> None:
    """Parts land in the same upload the OCI endpoints see (one table, one file)."""
    upload_id = initiate(repo)
    part(repo, upload_id, b"0123456789", 0)
    status = repo.client.get(f"/v2/{REPO}/blobs/uploads/{upload_id}", headers=repo.auth)
    assert status.status_code == 204
    assert status.headers["range"] == "0-9"
    finish = repo.client.put(
        f"/v2/{REPO}/blobs/uploads/{upload_id}",
        params={"digest": digest_of(b"0123456789")},
        headers=repo.auth,
    )
    assert finish.status_code == 201


def test_parts_must_continue_the_upload(repo: InProcessRegistry) -> None:
    upload_id = initiate(repo)
    part(repo, upload_id, b"abcd", 0)

    gap = error(part(repo, upload_id, b"efgh", 10))
    assert gap["__type"] == "InvalidLayerPartException"
    assert gap["message"] == "First byte of the layer part is 10 instead of 4"
    assert gap["registryId"] == repo.account_id
    assert gap["repositoryName"] == REPO
    assert gap["uploadId"] == upload_id
    assert gap["lastValidByteReceived"] == 3

    replay = error(part(repo, upload_id, b"abcd", 0))
    assert replay["message"] == "First byte of the layer part is 0 instead of 4"

    short = error(part(repo, upload_id, b"efgh", 4, last=9))
    assert short["__type"] == "InvalidLayerPartException"
    assert short["message"] == "Last byte of the layer part is 9 instead of 7"
    assert short["lastValidByteReceived"] == 3

    assert part(repo, upload_id, b"efgh", 4).json()["lastByteReceived"] == 7


def test_first_part_of_an_empty_upload(repo: InProcessRegistry) -> None:
    upload_id = initiate(repo)
    wrong = error(part(repo, upload_id, b"xyz", 3))
    assert wrong["message"] == "First byte of the layer part is 3 instead of 0"
    assert wrong["lastValidByteReceived"] == 0


def test_small_parts_only_last(repo: InProcessRegistry) -> None:
    small = blob(1000, "small")
    assert push_layer(repo, small) == digest_of(small)  # one small part is also the last

    upload_id = initiate(repo)
    part(repo, upload_id, b"a" * 100, 0)
    part(repo, upload_id, b"b" * 100, 100)  # accepted: only completion knows which part is last
    refused = error(
        repo.ecr(
            "CompleteLayerUpload",
            repositoryName=REPO,
            uploadId=upload_id,
            layerDigests=[digest_of(b"a" * 100 + b"b" * 100)],
        )
    )
    assert refused["__type"] == "LayerPartTooSmallException"
    assert (
        f"The upload with id '{upload_id}' in the repository with name '{REPO}'"
        in (refused["message"])
    )


def test_part_limit(repo: InProcessRegistry) -> None:
    upload_id = initiate(repo)
    part(repo, upload_id, b"x", 0)
    with ctx_of(repo).db.write() as session:
        session.execute(
            update(m.Upload).where(m.Upload.id == upload_id).values(part_count=MAX_PARTS)
        )
    refused = error(part(repo, upload_id, b"y", 1))
    assert refused["__type"] == "LimitExceededException"
    assert "4200 parts" in refused["message"]


def test_unknown_uploads(repo: InProcessRegistry) -> None:
    stranger = str(uuid.uuid4())
    unknown = error(part(repo, stranger, b"x", 0))
    assert unknown["__type"] == "UploadNotFoundException"
    assert unknown["message"] == (
        f"The upload with id '{stranger}' in the repository with name '{REPO}' "
        f"in registry with id '{repo.account_id}' does not exist"
    )
    complete = repo.ecr(
        "CompleteLayerUpload", repositoryName=REPO, uploadId=stranger, layerDigests=["sha256:00"]
    )
    assert error(complete)["__type"] == "UploadNotFoundException"

    repo.create_repository("layers/other")
    elsewhere = initiate(repo, "layers/other")
    assert error(part(repo, elsewhere, b"x", 0))["__type"] == "UploadNotFoundException"


def test_complete_refusals(repo: InProcessRegistry) -> None:
    empty = initiate(repo)
    refused = error(
        repo.ecr(
            "CompleteLayerUpload", repositoryName=REPO, uploadId=empty, layerDigests=["sha256:00"]
        )
    )
    assert refused["__type"] == "EmptyUploadException"
    assert refused["message"] == (
        f"The upload with id '{empty}' in the repository with name '{REPO}' in registry "
        f"with id '{repo.account_id}' cannot be completed because it does not have any parts"
    )

    upload_id = initiate(repo)
    part(repo, upload_id, b"content", 0)
    wrong = error(
        repo.ecr(
            "CompleteLayerUpload",
            repositoryName=REPO,
            uploadId=upload_id,
            layerDigests=[digest_of(b"other"), "sha256:abc", "md5:0123"],
        )
    )
    assert wrong["__type"] == "InvalidLayerException"
    assert (
        wrong["message"] == "None of the provided layer digests match the calculated layer digest"
    )

    # the upload survives a wrong digest; any one matching digest among several completes it
    right = repo.ecr_ok(
        "CompleteLayerUpload",
        repositoryName=REPO,
        uploadId=upload_id,
        layerDigests=[digest_of(b"other"), digest_of(b"content")],
    )
    assert right["layerDigest"] == digest_of(b"content")


def test_complete_with_a_sha512_digest(repo: InProcessRegistry) -> None:
    upload_id = initiate(repo)
    part(repo, upload_id, b"sha512 layer", 0)
    sha512 = "sha512:" + hashlib.sha512(b"sha512 layer").hexdigest()
    done = repo.ecr_ok(
        "CompleteLayerUpload", repositoryName=REPO, uploadId=upload_id, layerDigests=[sha512]
    )
    assert done["layerDigest"] == sha512


def test_layer_already_in_the_repository(repo: InProcessRegistry) -> None:
    data = b"twice"
    push_layer(repo, data)
    upload_id = initiate(repo)
    part(repo, upload_id, data, 0)
    refused = error(
        repo.ecr(
            "CompleteLayerUpload",
            repositoryName=REPO,
            uploadId=upload_id,
            layerDigests=[digest_of(data)],
        )
    )
    assert refused["__type"] == "LayerAlreadyExistsException"
    assert refused["message"] == (
        f"The layer with digest '{digest_of(data)}' already exists in the repository with name "
        f"'{REPO}' in registry with id '{repo.account_id}'"
    )
    # another repository may still take the same content
    repo.create_repository("layers/copy")
    assert push_layer(repo, data, "layers/copy") == digest_of(data)


# --- BatchCheckLayerAvailability --------------------------------------------------------------


def test_batch_check_layer_availability(repo: InProcessRegistry) -> None:
    held = b"held layer"
    push_layer(repo, held)
    missing = digest_of(b"never pushed")
    result = repo.ecr_ok(
        "BatchCheckLayerAvailability",
        repositoryName=REPO,
        layerDigests=[digest_of(held), missing, "not-a-digest", "", "sha256:abc"],
    )
    assert result["layers"] == [
        {"layerDigest": digest_of(held), "layerAvailability": "AVAILABLE", "layerSize": len(held)},
        {"layerDigest": missing, "layerAvailability": "UNAVAILABLE"},
        {"layerDigest": "sha256:abc", "layerAvailability": "UNAVAILABLE"},
    ]
    assert result["failures"] == [
        {
            "layerDigest": "not-a-digest",
            "failureCode": "InvalidLayerDigest",
            "failureReason": "Invalid request parameters: layer digest should satisfy the regex "
            "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
        },
        {
            "layerDigest": "",
            "failureCode": "MissingLayerDigest",
            "failureReason": "Invalid request parameters: layer digest cannot be empty",
        },
    ]


def test_batch_check_reports_media_type_and_archived_layers(repo: InProcessRegistry) -> None:
    auth = repo.auth
    layer = b"image layer"
    manifest_digest, raw = repo.push_image(REPO, "v1", auth, layers=[layer])
    config_digest = json.loads(raw)["config"]["digest"]

    def check() -> list[dict[str, Any]]:
        found = repo.ecr_ok(
            "BatchCheckLayerAvailability",
            repositoryName=REPO,
            layerDigests=[digest_of(layer), config_digest],
        )
        return list(found["layers"])

    active = check()
    assert [(x["layerAvailability"], x["mediaType"]) for x in active] == [
        ("AVAILABLE", "application/vnd.oci.image.layer.v1.tar+gzip"),
        ("AVAILABLE", "application/vnd.oci.image.config.v1+json"),
    ]
    with ctx_of(repo).db.write() as session:
        session.execute(
            update(m.Manifest)
            .where(m.Manifest.digest == manifest_digest)
            .values(image_status="ARCHIVED")
        )
    assert [x["layerAvailability"] for x in check()] == ["ARCHIVED", "ARCHIVED"]

    repo.push_image(REPO, "v2", auth, layers=[layer])  # an active image shares the layer
    assert [x["layerAvailability"] for x in check()] == ["AVAILABLE", "ARCHIVED"]


# --- GetDownloadUrlForLayer and the signed blob URL -------------------------------------------


def download_url(registry: InProcessRegistry, digest: str, name: str = REPO) -> str:
    result = registry.ecr_ok("GetDownloadUrlForLayer", repositoryName=name, layerDigest=digest)
    assert result["layerDigest"] == digest
    return str(result["downloadUrl"])


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_download_url_reads_the_layer_without_credentials(repo: InProcessRegistry) -> None:
    layer = blob(100_000, "download")
    repo.push_image(REPO, "v1", repo.auth, layers=[layer])
    url = download_url(repo, digest_of(layer))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == ctx_of(repo).deployment.proxy_endpoint(
        repo.account_id
    )
    assert parts.path == f"/v2/{REPO}/blobs/{digest_of(layer)}"
    query = parse_qs(parts.query)
    expires = int(query[downloads.EXPIRES_PARAM][0])
    assert 3590 <= expires - ctx_of(repo).now().timestamp() <= 3600

    got = repo.client.get(local(url))
    assert got.status_code == 200
    assert got.content == layer
    head = repo.client.head(local(url))
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(layer))
    ranged = repo.client.get(local(url), headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.content == layer[10:20]


def test_download_url_refusals(repo: InProcessRegistry) -> None:
    unknown = digest_of(b"nowhere")
    missing = repo.ecr("GetDownloadUrlForLayer", repositoryName=REPO, layerDigest=unknown)
    assert error(missing)["__type"] == "LayersNotFoundException"
    assert error(missing)["message"] == (
        f"The layer with digest '{unknown}' does not exist within the repository with name "
        f"'{REPO}' in the registry with id '{repo.account_id}'"
    )
    loose = push_layer(repo, b"uploaded but in no image")
    inaccessible = repo.ecr("GetDownloadUrlForLayer", repositoryName=REPO, layerDigest=loose)
    assert error(inaccessible)["__type"] == "LayerInaccessibleException"
    gone = repo.ecr("GetDownloadUrlForLayer", repositoryName="layers/none", layerDigest=loose)
    assert error(gone)["__type"] == "RepositoryNotFoundException"


def test_tampered_and_expired_download_urls(repo: InProcessRegistry) -> None:
    layer = b"guarded layer"
    repo.push_image(REPO, "v1", repo.auth, layers=[layer])
    repo.create_repository("layers/other")
    repo.push_image("layers/other", "v1", repo.auth, layers=[layer])
    url = urlsplit(download_url(repo, digest_of(layer)))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}

    def refused(path: str, params: dict[str, str]) -> None:
        response = repo.client.get(f"{path}?{urlencode(params)}")
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["code"] == "DENIED"

    later = str(int(query[downloads.EXPIRES_PARAM]) + 3600)
    refused(url.path, {**query, downloads.EXPIRES_PARAM: later})
    refused(url.path, {**query, downloads.ACCOUNT_PARAM: "999999999999"})
    signature = query[downloads.SIGNATURE_PARAM]
    tampered = ("B" if signature[0] == "A" else "A") + signature[1:]  # always another signature
    refused(url.path, {**query, downloads.SIGNATURE_PARAM: tampered})
    refused(url.path.replace(REPO, "layers/other"), query)
    refused(url.path, {k: v for k, v in query.items() if k != downloads.SIGNATURE_PARAM})

    ctx = ctx_of(repo)
    past = int(ctx.now().timestamp()) - 1
    expired = downloads.presigned_query(
        ctx.keys.download,
        account_id=repo.account_id,
        name=REPO,
        digest=digest_of(layer),
        expires=past,
    )
    refused(url.path, expired)
    assert "expired" in repo.client.get(f"{url.path}?{urlencode(expired)}").text


def test_download_signature_only_opens_blob_reads(repo: InProcessRegistry) -> None:
    layer = b"only reads"
    repo.push_image(REPO, "v1", repo.auth, layers=[layer])
    query = urlsplit(download_url(repo, digest_of(layer))).query
    manifest = repo.client.get(f"/v2/{REPO}/manifests/v1?{query}")
    assert manifest.status_code == 401
    delete = repo.client.delete(f"/v2/{REPO}/blobs/{digest_of(layer)}?{query}")
    assert delete.status_code == 401


# --- the model's validation and unknown repositories -------------------------------------------


def test_out_of_range_inputs_are_invalid_parameters(repo: InProcessRegistry) -> None:
    too_many = [digest_of(str(i).encode()) for i in range(101)]
    for operation, params in [
        ("BatchCheckLayerAvailability", {"layerDigests": too_many}),
        ("BatchCheckLayerAvailability", {"layerDigests": []}),
        ("CompleteLayerUpload", {"uploadId": str(uuid.uuid4()), "layerDigests": too_many}),
        ("CompleteLayerUpload", {"uploadId": "not-a-uuid", "layerDigests": ["sha256:00"]}),
        ("GetDownloadUrlForLayer", {"layerDigest": "no digest"}),
    ]:
        response = repo.ecr(operation, repositoryName=REPO, **params)
        assert error(response)["__type"] == "InvalidParameterException", (operation, params)
    negative = repo.ecr(
        "UploadLayerPart",
        repositoryName=REPO,
        uploadId=str(uuid.uuid4()),
        partFirstByte=-1,
        partLastByte=0,
        layerPartBlob="",
    )
    assert error(negative)["__type"] == "InvalidParameterException"


def test_every_layer_operation_needs_the_repository(registry: InProcessRegistry) -> None:
    upload_id = str(uuid.uuid4())
    for operation, params in [
        ("BatchCheckLayerAvailability", {"layerDigests": ["sha256:00"]}),
        ("InitiateLayerUpload", {}),
        (
            "UploadLayerPart",
            {"uploadId": upload_id, "partFirstByte": 0, "partLastByte": 0, "layerPartBlob": "eA=="},
        ),
        ("CompleteLayerUpload", {"uploadId": upload_id, "layerDigests": ["sha256:00"]}),
        ("GetDownloadUrlForLayer", {"layerDigest": "sha256:00"}),
    ]:
        response = registry.ecr(operation, repositoryName="no/such", **params)
        assert error(response)["__type"] == "RepositoryNotFoundException", operation


def test_initiate_creates_the_repository_from_a_create_on_push_template(
    registry: InProcessRegistry,
) -> None:
    registry.ecr_ok(
        "CreateRepositoryCreationTemplate", prefix="pushed", appliedFor=["CREATE_ON_PUSH"]
    )
    upload_id = initiate(registry, "pushed/app")
    assert uuid.UUID(upload_id)
    described = registry.ecr_ok("DescribeRepositories", repositoryNames=["pushed/app"])
    assert [r["repositoryName"] for r in described["repositories"]] == ["pushed/app"]
