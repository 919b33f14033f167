"""ECR's layer API through boto3 against a live Stiva: a multi-part push, download URLs, errors."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import botocore.exceptions
import httpx
import pytest
from sqlalchemy import text

from stiva.services import downloads
from tests.support.databases import connect
from tests.support.live import LiveServer
from tests.support.registry import basic

MiB = 1024 * 1024
REPO = "e2e/layers"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


@pytest.fixture(scope="module")
def ecr(server: LiveServer) -> Any:
    client = server.ecr()
    client.create_repository(repositoryName=REPO)
    return client


def upload(ecr: Any, parts: list[bytes], *, name: str = REPO) -> tuple[str, str]:
    """Initiate, send `parts` in order and complete; (upload id, layer digest)."""
    upload_id = ecr.initiate_layer_upload(repositoryName=name)["uploadId"]
    offset = 0
    for data in parts:
        ecr.upload_layer_part(
            repositoryName=name,
            uploadId=upload_id,
            partFirstByte=offset,
            partLastByte=offset + len(data) - 1,
            layerPartBlob=data,
        )
        offset += len(data)
    whole = b"".join(parts)
    done = ecr.complete_layer_upload(
        repositoryName=name, uploadId=upload_id, layerDigests=[digest_of(whole)]
    )
    return upload_id, done["layerDigest"]


def put_manifest(server: LiveServer, config: bytes, layers: list[bytes], tag: str) -> None:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest_of(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest_of(layer),
                "size": len(layer),
            }
            for layer in layers
        ],
    }
    response = httpx.put(
        f"{server.url}/v2/{REPO}/manifests/{tag}",
        content=json.dumps(manifest).encode(),
        headers={
            **basic(server.password()),
            "Content-Type": "application/vnd.oci.image.manifest.v1+json",
        },
    )
    assert response.status_code == 201, response.text


def test_multi_part_push_and_pull(server: LiveServer, ecr: Any) -> None:
    layer = blob(2 * 5 * MiB + 123_457, "e2e multi-part layer")
    parts = [layer[: 5 * MiB], layer[5 * MiB : 10 * MiB], layer[10 * MiB :]]
    initiated = ecr.initiate_layer_upload(repositoryName=REPO)
    assert initiated["partSize"] == 10485760
    upload_id = initiated["uploadId"]
    offset = 0
    for data in parts:
        sent = ecr.upload_layer_part(
            repositoryName=REPO,
            uploadId=upload_id,
            partFirstByte=offset,
            partLastByte=offset + len(data) - 1,
            layerPartBlob=data,
        )
        offset += len(data)
        assert sent["lastByteReceived"] == offset - 1
        assert sent["uploadId"] == upload_id
        assert sent["registryId"] == server.account_id
    done = ecr.complete_layer_upload(
        repositoryName=REPO, uploadId=upload_id, layerDigests=[digest_of(layer)]
    )
    assert done["layerDigest"] == digest_of(layer)
    assert done["repositoryName"] == REPO

    checked = ecr.batch_check_layer_availability(
        repositoryName=REPO, layerDigests=[digest_of(layer), digest_of(b"absent")]
    )
    assert [(x["layerAvailability"], x.get("layerSize")) for x in checked["layers"]] == [
        ("AVAILABLE", len(layer)),
        ("UNAVAILABLE", None),
    ]
    assert checked["failures"] == []

    pulled = httpx.get(
        f"{server.url}/v2/{REPO}/blobs/{digest_of(layer)}", headers=basic(server.password())
    )
    assert pulled.status_code == 200
    assert pulled.content == layer

    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    upload(ecr, [config])
    put_manifest(server, config, [layer], "multi")
    found = ecr.get_download_url_for_layer(repositoryName=REPO, layerDigest=digest_of(layer))
    assert found["layerDigest"] == digest_of(layer)
    assert found["downloadUrl"].startswith(f"{server.url}/v2/{REPO}/blobs/{digest_of(layer)}?")
    plain = httpx.get(found["downloadUrl"])  # no credentials at all
    assert plain.status_code == 200
    assert plain.content == layer
    media = ecr.batch_check_layer_availability(repositoryName=REPO, layerDigests=[digest_of(layer)])
    assert media["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"


def _download_key(server: LiveServer) -> bytes:
    with connect(server.data_dir) as db:
        row = db.execute(
            text("SELECT value FROM deployment_secrets WHERE name = :name"),
            {"name": downloads.DOWNLOAD_KEY},
        ).fetchone()
    assert row is not None
    return bytes(row[0])


def test_tampered_and_expired_download_urls(server: LiveServer, ecr: Any) -> None:
    layer = b"a layer behind a signed URL"
    config = b'{"os":"linux","architecture":"arm64"}'
    upload(ecr, [layer])
    upload(ecr, [config])
    put_manifest(server, config, [layer], "signed")
    url = urlsplit(
        ecr.get_download_url_for_layer(repositoryName=REPO, layerDigest=digest_of(layer))[
            "downloadUrl"
        ]
    )
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    base = f"{server.url}{url.path}"
    assert httpx.get(f"{base}?{urlencode(query)}").status_code == 200

    def refused(target: str, params: dict[str, str]) -> httpx.Response:
        response = httpx.get(f"{target}?{urlencode(params)}")
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["code"] == "DENIED"
        return response

    refused(base, {**query, downloads.EXPIRES_PARAM: str(int(time.time()) + 7200)})
    refused(base.replace(digest_of(layer), digest_of(config)), query)
    refused(base, {**query, downloads.SIGNATURE_PARAM: query[downloads.SIGNATURE_PARAM][::-1]})

    expired = downloads.presigned_query(
        _download_key(server),
        account_id=server.account_id,
        name=REPO,
        digest=digest_of(layer),
        expires=int(time.time()) - 5,
    )
    assert "expired" in refused(base, expired).json()["errors"][0]["message"]


def test_part_errors(server: LiveServer, ecr: Any) -> None:
    upload_id = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=3,
        layerPartBlob=b"abcd",
    )
    with pytest.raises(ecr.exceptions.InvalidLayerPartException) as gap:
        ecr.upload_layer_part(
            repositoryName=REPO,
            uploadId=upload_id,
            partFirstByte=8,
            partLastByte=11,
            layerPartBlob=b"efgh",
        )
    response = gap.value.response
    assert response["Error"]["Message"] == "First byte of the layer part is 8 instead of 4"
    assert response["lastValidByteReceived"] == 3
    assert response["uploadId"] == upload_id
    assert response["repositoryName"] == REPO
    assert response["registryId"] == server.account_id

    ecr.upload_layer_part(
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=4,
        partLastByte=7,
        layerPartBlob=b"efgh",
    )
    with pytest.raises(ecr.exceptions.LayerPartTooSmallException):
        ecr.complete_layer_upload(
            repositoryName=REPO, uploadId=upload_id, layerDigests=[digest_of(b"abcdefgh")]
        )
    with pytest.raises(ecr.exceptions.UploadNotFoundException):
        ecr.upload_layer_part(
            repositoryName=REPO,
            uploadId=str(uuid.uuid4()),
            partFirstByte=0,
            partLastByte=0,
            layerPartBlob=b"x",
        )


def test_complete_errors(server: LiveServer, ecr: Any) -> None:
    empty = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    with pytest.raises(ecr.exceptions.EmptyUploadException) as nothing:
        ecr.complete_layer_upload(
            repositoryName=REPO, uploadId=empty, layerDigests=[digest_of(b"")]
        )
    assert "does not have any parts" in nothing.value.response["Error"]["Message"]

    upload_id = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=2,
        layerPartBlob=b"abc",
    )
    with pytest.raises(ecr.exceptions.InvalidLayerException):
        ecr.complete_layer_upload(
            repositoryName=REPO, uploadId=upload_id, layerDigests=[digest_of(b"xyz")]
        )
    with pytest.raises(ecr.exceptions.UploadNotFoundException):
        ecr.complete_layer_upload(
            repositoryName=REPO, uploadId=str(uuid.uuid4()), layerDigests=[digest_of(b"abc")]
        )

    upload(ecr, [b"already here"])
    again = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=REPO,
        uploadId=again,
        partFirstByte=0,
        partLastByte=len(b"already here") - 1,
        layerPartBlob=b"already here",
    )
    with pytest.raises(ecr.exceptions.LayerAlreadyExistsException):
        ecr.complete_layer_upload(
            repositoryName=REPO, uploadId=again, layerDigests=[digest_of(b"already here")]
        )


def test_download_url_errors(server: LiveServer, ecr: Any) -> None:
    with pytest.raises(ecr.exceptions.LayersNotFoundException):
        ecr.get_download_url_for_layer(repositoryName=REPO, layerDigest=digest_of(b"never"))
    _, loose = upload(ecr, [b"in no image"])
    with pytest.raises(ecr.exceptions.LayerInaccessibleException):
        ecr.get_download_url_for_layer(repositoryName=REPO, layerDigest=loose)
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.initiate_layer_upload(repositoryName="e2e/missing")


def test_out_of_range_inputs(server: LiveServer, ecr: Any) -> None:
    too_many = [digest_of(str(i).encode()) for i in range(101)]
    with pytest.raises(ecr.exceptions.InvalidParameterException) as check:
        ecr.batch_check_layer_availability(repositoryName=REPO, layerDigests=too_many)
    assert "layerDigests" in check.value.response["Error"]["Message"]
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.complete_layer_upload(
            repositoryName=REPO, uploadId=str(uuid.uuid4()), layerDigests=too_many
        )
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.upload_layer_part(
            repositoryName=REPO,
            uploadId="not-an-upload-id",
            partFirstByte=0,
            partLastByte=0,
            layerPartBlob=b"x",
        )
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ecr.batch_check_layer_availability(repositoryName=REPO, layerDigests=[])  # botocore's min
