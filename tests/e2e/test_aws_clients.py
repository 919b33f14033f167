"""boto3 and the aws CLI against a live Stiva: repositories, tokens, images, and AWS's errors."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest

from tests.support.live import REGION, LiveServer
from tests.support.registry import basic


def aws(server: LiveServer, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["aws", *args],
        env=server.aws_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed:\n{result.stderr}")
    return result


def test_aws_cli_repository_lifecycle(server: LiveServer) -> None:
    created = json.loads(
        aws(server, "ecr", "create-repository", "--repository-name", "cli/repo").stdout
    )
    repo = created["repository"]
    assert repo["repositoryArn"] == f"arn:aws:ecr:{REGION}:{server.account_id}:repository/cli/repo"
    assert repo["repositoryUri"] == f"{server.host}/cli/repo"
    assert repo["imageTagMutability"] == "MUTABLE"
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}

    described = json.loads(
        aws(server, "ecr", "describe-repositories", "--repository-names", "cli/repo").stdout
    )
    assert [r["repositoryName"] for r in described["repositories"]] == ["cli/repo"]

    again = aws(server, "ecr", "create-repository", "--repository-name", "cli/repo", check=False)
    assert "RepositoryAlreadyExistsException" in again.stderr
    assert f"already exists in the registry with id '{server.account_id}'" in again.stderr

    aws(server, "ecr", "delete-repository", "--repository-name", "cli/repo")
    missing = aws(
        server, "ecr", "describe-repositories", "--repository-names", "cli/repo", check=False
    )
    assert "RepositoryNotFoundException" in missing.stderr


def test_get_login_password_is_a_registry_password(server: LiveServer) -> None:
    password = aws(server, "ecr", "get-login-password").stdout.strip()
    assert ":" not in password
    header = base64.b64encode(f"AWS:{password}".encode()).decode()
    assert (
        httpx.get(f"{server.url}/v2/", headers={"Authorization": f"Basic {header}"}).status_code
        == 200
    )
    assert httpx.get(f"{server.url}/v2/").status_code == 401


def test_boto3_token_shape(server: LiveServer) -> None:
    data = server.ecr().get_authorization_token()["authorizationData"][0]
    user, sep, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert (user, sep) == ("AWS", ":")
    assert ":" not in password
    lifetime = data["expiresAt"] - datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) < lifetime <= timedelta(hours=12)
    assert data["proxyEndpoint"] == server.url


def test_boto3_describe_and_list_images_after_push(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="boto/images")
    auth = basic(server.password())
    layer = b"x" * 1234
    config = b'{"architecture":"arm64","os":"linux"}'
    for blob in (layer, config):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        response = httpx.post(
            f"{server.url}/v2/boto/images/blobs/uploads/?digest={digest}",
            content=blob,
            headers=auth,
        )
        assert response.status_code == 201
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                }
            ],
        }
    ).encode()
    put = httpx.put(
        f"{server.url}/v2/boto/images/manifests/1.0",
        content=manifest,
        headers={**auth, "Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert put.status_code == 201
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()

    detail = ecr.describe_images(repositoryName="boto/images")["imageDetails"][0]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["1.0"]
    assert detail["imageSizeInBytes"] == len(layer) + len(config)
    assert detail["artifactMediaType"] == "application/vnd.docker.container.image.v1+json"
    assert abs(detail["imagePushedAt"] - datetime.now(UTC)) < timedelta(minutes=1)

    ids = ecr.list_images(repositoryName="boto/images")["imageIds"]
    assert ids == [{"imageDigest": digest, "imageTag": "1.0"}]
    got = ecr.batch_get_image(
        repositoryName="boto/images", imageIds=[{"imageTag": "1.0"}, {"imageTag": "nope"}]
    )
    assert got["images"][0]["imageManifest"].encode() == manifest
    assert got["failures"][0]["failureCode"] == "ImageNotFound"

    cli = json.loads(
        aws(server, "ecr", "describe-images", "--repository-name", "boto/images").stdout
    )
    assert cli["imageDetails"][0]["imageDigest"] == digest


def test_boto3_modelled_exceptions(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as missing:
        ecr.describe_images(repositoryName="no/such/repo")
    assert missing.value.response["Error"]["Message"] == (
        "The repository with name 'no/such/repo' does not exist in the registry "
        f"with id '{server.account_id}'"
    )
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(repositoryName="Upper_Case")
    ecr.create_repository(repositoryName="boto/notempty")
    assert (
        ecr.delete_repository(repositoryName="boto/notempty", force=True)["repository"][
            "repositoryName"
        ]
        == "boto/notempty"
    )


def _client(server: LiveServer, key: str, secret: str, region: str = REGION) -> Any:
    return boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


@pytest.mark.parametrize(
    ("key", "secret", "region", "code"),
    [
        ("AKIAUNKNOWNKEY000000", "whatever", REGION, "UnrecognizedClientException"),
        (None, "wrong-secret", REGION, "InvalidSignatureException"),
        (None, None, "eu-west-3", "InvalidSignatureException"),
    ],
    ids=["unknown-key", "wrong-secret", "wrong-region"],
)
def test_signature_failures(
    server: LiveServer, key: str | None, secret: str | None, region: str, code: str
) -> None:
    client = _client(
        server, key or server.access_key_id, secret or server.secret_access_key, region
    )
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        client.describe_repositories()
    assert failure.value.response["Error"]["Code"] == code


def test_unsupported_operation_is_named(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        ecr.get_signing_configuration()
    assert failure.value.response["Error"]["Code"] == "UnsupportedOperationException"
    assert "GetSigningConfiguration" in failure.value.response["Error"]["Message"]
