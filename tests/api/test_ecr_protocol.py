"""POST / as AWS JSON 1.1: signatures, targets, bodies, validation, error shapes."""

from __future__ import annotations

import json

import pytest

from tests.support.registry import TARGET, InProcessRegistry


def error_of(response: object) -> tuple[int, str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return response.status_code, body["__type"], body["message"]  # type: ignore[attr-defined]


def test_success_shape(registry: InProcessRegistry) -> None:
    response = registry.ecr("DescribeRepositories")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert len(response.headers["x-amzn-requestid"]) == 36
    assert response.json() == {"repositories": []}


def test_unsigned_request_is_missing_authentication_token(registry: InProcessRegistry) -> None:
    response = registry.client.post(
        "/", content=b"{}", headers={"X-Amz-Target": f"{TARGET}.DescribeRepositories"}
    )
    assert error_of(response) == (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
    assert response.headers["x-amzn-requestid"]


def test_wrong_secret_is_invalid_signature(registry: InProcessRegistry) -> None:
    status, code, message = error_of(registry.ecr_raw("DescribeRepositories", b"{}", secret="nope"))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match")


def test_wrong_region_is_refused(registry: InProcessRegistry) -> None:
    status, code, message = error_of(
        registry.ecr_raw("DescribeRepositories", b"{}", region="eu-west-1")
    )
    assert (status, code) == (403, "InvalidSignatureException")
    assert "region" in message


def test_body_tampered_after_signing(registry: InProcessRegistry) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{TARGET}.DescribeRepositories",
        },
    )
    SigV4Auth(
        Credentials(registry.access_key_id, registry.secret_access_key), "ecr", "us-east-1"
    ).add_auth(request)
    response = registry.client.post(
        "/", content=b'{"maxResults": 1}', headers=dict(request.headers.items())
    )
    assert error_of(response)[1] == "InvalidSignatureException"


def test_unknown_and_unsupported_operations(registry: InProcessRegistry) -> None:
    status, code, message = error_of(registry.ecr("FlyToTheMoon"))
    assert (status, code) == (400, "UnknownOperationException")
    status, code, message = error_of(registry.ecr("GetSigningConfiguration"))
    assert (status, code) == (400, "UnsupportedOperationException")
    assert "GetSigningConfiguration" in message


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "SerializationException"),
        (b'{"maxResults": "ten"}', "SerializationException"),
        (b'{"maxResults": 5000}', "InvalidParameterException"),
        (b'{"registryId": "123"}', "InvalidParameterException"),
        (b'{"repositoryNames": ["\\ud800"]}', "SerializationException"),  # half a character
        (b'{"\\udc00": 1}', "SerializationException"),
        (b"[" * 100_000 + b"]" * 100_000, "SerializationException"),  # nested too deeply
    ],
)
def test_bad_bodies(registry: InProcessRegistry, body: bytes, code: str) -> None:
    status, actual, message = error_of(registry.ecr_raw("DescribeRepositories", body))
    assert (status, actual) == (400, code)
    assert message


def test_missing_required_member(registry: InProcessRegistry) -> None:
    status, code, message = error_of(registry.ecr("CreateRepository"))
    assert (status, code) == (400, "InvalidParameterException")
    assert "repositoryName" in message


def test_empty_body_is_an_empty_request(registry: InProcessRegistry) -> None:
    response = registry.ecr_raw("GetAuthorizationToken", b"")
    assert response.status_code == 200
    assert json.loads(response.content)["authorizationData"][0]["authorizationToken"]


def test_lone_surrogates_never_reach_storage(registry: InProcessRegistry) -> None:
    """An escaped lone surrogate in a document inside a parameter (a policy, a manifest) is
    refused in that document's own terms, never stored (it is no UTF-8 text: a 500 later)."""
    registry.create_repository("app")
    bad_policy = (
        '{"Version":"2012-10-17","Statement":[{"Sid":"\\ud800","Effect":"Allow",'
        '"Principal":"*","Action":"ecr:BatchGetImage"}]}'
    )
    status, code, _ = error_of(
        registry.ecr("SetRepositoryPolicy", repositoryName="app", policyText=bad_policy)
    )
    assert (status, code) == (400, "InvalidParameterException")
    manifest = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
    manifest += '"manifests":[],"annotations":{"a":"\\udfff"}}'
    status, code, message = error_of(
        registry.ecr("PutImage", repositoryName="app", imageManifest=manifest, imageTag="t")
    )
    assert (status, code) == (400, "InvalidParameterException")
    assert "not valid Unicode" in message
    pushed = registry.client.put(
        "/v2/app/manifests/t",
        content=manifest.encode(),
        headers={**registry.auth, "Content-Type": "application/vnd.oci.image.index.v1+json"},
    )
    assert pushed.status_code == 400
    assert pushed.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    fine = manifest.replace("\\udfff", "\\ud83d\\ude00")  # a valid pair: one character
    assert (
        registry.ecr("PutImage", repositoryName="app", imageManifest=fine, imageTag="t").status_code
        == 200
    )
