"""SigV4 verification, checked against botocore's own signer and AWS's published test suite."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stiva.iam import sigv4
from stiva.iam.sigv4 import (
    ContentSHA256Mismatch,
    Credential,
    HeaderNotSigned,
    IncompleteSignature,
    InvalidCredentialScope,
    InvalidSignature,
    MissingAuthenticationToken,
    SignatureExpired,
    SignatureMismatch,
    SignatureNotYetCurrent,
    SignedRequest,
    SigV4Error,
    UnrecognizedClient,
    VerifiedRequest,
    canonical_query_string,
    canonical_uri,
    derive_signing_key,
    verify,
)

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TEMP_AKID = "ASIAEXAMPLE"
TEMP_SECRET = "temporary/secret+key"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//token+with/odd=chars"
REGION = "us-east-1"
SERVICE = "ecr"
ENDPOINT = "https://api.ecr.us-east-1.amazonaws.com/"
SIGNED_AT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"

KEYS: dict[str, Credential] = {
    AKID: Credential(SECRET),
    TEMP_AKID: Credential(TEMP_SECRET, session_token=TOKEN),
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def frozen_botocore_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs at SIGNED_AT; `now` is passed to verify explicitly."""
    monkeypatch.setattr(
        botocore.auth,
        "get_current_datetime",
        lambda remove_tzinfo=True: SIGNED_AT.replace(tzinfo=None),
    )


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def host_of(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def sign(
    method: str = "POST",
    url: str = ENDPOINT,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    params: Any = None,
    access_key: str = AKID,
    secret: str = SECRET,
    token: str | None = None,
    region: str = REGION,
    service: str = SERVICE,
    presign_expires: int | None = None,
    signer: type[SigV4Auth] | None = None,
) -> SignedRequest:
    """Sign with botocore, then describe the request as a server would receive it (the HTTP
    client adds Host, as urllib3 does for boto3)."""
    request = AWSRequest(
        method=method, url=url, data=body, headers=dict(headers or {}), params=params
    )
    credentials = Credentials(access_key, secret, token)
    auth: SigV4Auth
    if presign_expires is not None:
        auth = (signer or SigV4QueryAuth)(credentials, service, region, expires=presign_expires)
    else:
        auth = (signer or SigV4Auth)(credentials, service, region)
    auth.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    received = list(prepared.headers.items())
    if not any(name.lower() == "host" for name, _ in received):
        received.append(("Host", host_of(prepared.url)))
    sent = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or b"")
    if isinstance(sent, str):
        sent = sent.encode()
    return SignedRequest(prepared.method, parts.path, parts.query, received, sha256(sent))


def ecr_request(**kwargs: Any) -> SignedRequest:
    """A POST like boto3's ECR client sends."""
    body = json.dumps({"repositoryNames": ["my-repo"], "maxResults": 10}).encode()
    headers = {
        "X-Amz-Target": ECR_TARGET,
        "Content-Type": "application/x-amz-json-1.1",
        "User-Agent": "Boto3/1.34.0 md/Botocore#1.34.0",
        "Content-Length": str(len(body)),
    }
    headers.update(kwargs.pop("headers", {}))
    return sign("POST", ENDPOINT, body=kwargs.pop("body", body), headers=headers, **kwargs)


def check(
    request: SignedRequest,
    *,
    now: datetime = SIGNED_AT,
    region: str = REGION,
    service: str = SERVICE,
    max_skew: timedelta = timedelta(minutes=15),
) -> VerifiedRequest:
    return verify(
        request, lookup=KEYS.get, region=region, service=service, now=now, max_skew=max_skew
    )


def replace_header(request: SignedRequest, name: str, value: str | None) -> SignedRequest:
    """Set (or with None, drop) every header called `name`."""
    kept = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    if value is not None:
        kept.append((name, value))
    return SignedRequest(
        request.method, request.path, request.query_string, kept, request.body_sha256
    )


def header(request: SignedRequest, name: str) -> str:
    return next(v for k, v in request.headers if k.lower() == name.lower())


def with_fields(request: SignedRequest, **changes: Any) -> SignedRequest:
    return dataclasses.replace(request, **changes)


# --------------------------------------------------------------------------- AWS test vectors

# From AWS's SigV4 test suite (aws-sig-v4-test-suite): credential AKIDEXAMPLE, secret
# wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1, service "service".
SUITE_AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SUITE_SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"


def suite_request(
    method: str,
    path: str,
    query: str,
    signed_headers: str,
    signature: str,
    extra_headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> SignedRequest:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={SUITE_SCOPE}, SignedHeaders={signed_headers}, "
        f"Signature={signature}"
    )
    headers = [
        ("Host", "example.amazonaws.com"),
        *extra_headers,
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", authorization),
    ]
    return SignedRequest(method, path, query, headers, sha256(body))


SUITE = {
    "get-vanilla": (
        "GET",
        "/",
        "",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    "get-vanilla-query-order-key-case": (
        "GET",
        "/",
        "Param2=value2&Param1=value1",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    "get-vanilla-query-unreserved": (
        "GET",
        "/",
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    ),
    "get-vanilla-utf8-query": (
        "GET",
        "/",
        "\u1234=bar",
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    ),
    "get-utf8": (
        "GET",
        "/\u1234",
        "",
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    ),
    "get-space": (
        "GET",
        "/example space/",
        "",
        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    ),
    "get-slashes": (
        "GET",
        "//example//",
        "",
        "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    ),
    "get-relative-relative": (
        "GET",
        "/example1/example2/../..",
        "",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    "get-slash-pointless-dot": (
        "GET",
        "/./example",
        "",
        "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
    ),
    "get-unreserved": (
        "GET",
        "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "",
        "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    ),
    "post-vanilla": (
        "POST",
        "/",
        "",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ),
}


@pytest.mark.parametrize("name", sorted(SUITE))
def test_aws_test_suite_vectors_verify(name: str) -> None:
    method, path, query, signature = SUITE[name]
    request = suite_request(method, path, query, "host;x-amz-date", signature)
    verified = check(request, now=SUITE_AT, service="service")
    assert verified.access_key_id == AKID
    assert verified.signed_at == SUITE_AT


def test_get_vanilla_canonical_parts_match_the_published_ones() -> None:
    # The suite publishes the canonical request's hash for get-vanilla.
    request = suite_request("GET", "/", "", "host;x-amz-date", "0" * 64)
    with pytest.raises(SignatureMismatch) as caught:
        check(request, now=SUITE_AT, service="service")
    assert caught.value.canonical_request == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert caught.value.string_to_sign == (
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    )


@pytest.mark.parametrize(
    ("extra", "signed", "signature"),
    [
        pytest.param(
            (("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")),
            "host;my-header1;x-amz-date",
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
            id="get-header-key-duplicate",
        ),
        pytest.param(
            (
                ("My-Header1", "value4"),
                ("My-Header1", "value1"),
                ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ),
            "host;my-header1;x-amz-date",
            "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
            id="get-header-value-order",
        ),
        pytest.param(
            (("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')),
            "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            id="get-header-value-trim",
        ),
    ],
)
def test_aws_test_suite_header_vectors_verify(
    extra: tuple[tuple[str, str], ...], signed: str, signature: str
) -> None:
    request = suite_request("GET", "/", "", signed, signature, extra)
    assert check(request, now=SUITE_AT, service="service").access_key_id == AKID


def test_signing_key_derivation_matches_aws_documentation() -> None:
    # "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
    key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


# --------------------------------------------------------------------------- botocore, accepted


def test_ecr_json_post_signed_by_botocore_verifies() -> None:
    request = ecr_request()
    verified = check(request)
    assert verified == VerifiedRequest(
        access_key_id=AKID,
        region=REGION,
        service=SERVICE,
        signed_at=SIGNED_AT,
        session_token=None,
        presigned=False,
        payload_signed=True,
    )
    assert "x-amz-target" in header(request, "Authorization")


def test_get_with_query_needing_encoding_verifies() -> None:
    params = [
        ("b", "x y"),
        ("a", "/path/with~tilde"),
        ("\u00fc", "\u2603 snow"),
        ("empty", ""),
        ("a", "0+1=1&2"),
        ("Z", "*'()!"),
    ]
    request = sign("GET", ENDPOINT + "v2/repo/tags/list", params=params)
    assert "+" in request.query_string  # urllib's form encoding, spaces as "+"
    assert check(request).access_key_id == AKID


def test_query_order_on_the_wire_does_not_matter() -> None:
    request = sign("GET", ENDPOINT, params=[("b", "2"), ("a", "1"), ("a", "0")])
    pairs = request.query_string.split("&")
    reordered = with_fields(request, query_string="&".join(reversed(pairs)))
    assert check(reordered).access_key_id == AKID


@pytest.mark.parametrize(
    "path",
    [
        "/v2/my%20repo/blobs/sha256:abc",
        "/v2/a~b/c%2Fd/%C3%BC/x:y@z!$&'()*+,;=",
        "/v2//double//slashes/./dot/../segments/",
        "/%7Euser/%41%42",
        "",
    ],
)
def test_paths_with_special_characters_verify(path: str) -> None:
    request = sign("GET", "https://api.ecr.us-east-1.amazonaws.com" + path)
    assert check(request).access_key_id == AKID


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "",
        "/a%20b",
        "/a b/c",
        "/a//b/./c/../d/",
        "/../..",
        "/%7E/~/%2F",
        "/\u00fc/%C3%BC",
        "/x:y@z!$&'()*+,;=",
    ],
)
def test_canonical_uri_matches_botocore(path: str) -> None:
    reference = SigV4Auth(Credentials(AKID, SECRET), SERVICE, REGION)
    assert canonical_uri(path) == reference._normalize_url_path(path)


def test_canonical_uri_double_encodes() -> None:
    assert canonical_uri("/a%20b/c%2Fd") == "/a%2520b/c%252Fd"


def test_canonical_query_string_normalises() -> None:
    raw = "b=x+y&a=%7e&a=%2f&c&d=%e2%98%83&X-Amz-Signature=abc"
    assert canonical_query_string(raw) == ("X-Amz-Signature=abc&a=%2F&a=~&b=x%20y&c=&d=%E2%98%83")
    assert canonical_query_string(raw, exclude_signature=True) == (
        "a=%2F&a=~&b=x%20y&c=&d=%E2%98%83"
    )


def test_session_token_credentials_verify() -> None:
    request = ecr_request(access_key=TEMP_AKID, secret=TEMP_SECRET, token=TOKEN)
    verified = check(request)
    assert verified.access_key_id == TEMP_AKID
    assert verified.session_token == TOKEN


def test_x_amz_content_sha256_header_verifies() -> None:
    body = b'{"a": 1}'
    request = ecr_request(body=body, headers={"X-Amz-Content-SHA256": sha256(body)})
    assert "x-amz-content-sha256" in header(request, "Authorization")
    assert check(request).payload_signed


def test_date_header_instead_of_x_amz_date_verifies() -> None:
    request = ecr_request(headers={"Date": "placeholder"})
    assert not any(name.lower() == "x-amz-date" for name, _ in request.headers)
    assert header(request, "Date").startswith("Mon, 06 May 2024 07:08:09")
    assert check(request).signed_at == SIGNED_AT


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda a: a.replace(", ", ","),
        lambda a: a.replace(", ", " ,\t  "),
        lambda a: a.replace(", ", " "),
        lambda a: "  " + a.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256   ") + ", ",
        lambda a: "AWS4-HMAC-SHA256 " + ", ".join(reversed(a.split(" ", 1)[1].split(", "))),
    ],
    ids=["no-spaces", "odd-whitespace", "spaces-only", "padded", "reordered"],
)
def test_authorization_header_whitespace_variants(rewrite: Any) -> None:
    request = ecr_request()
    variant = replace_header(request, "Authorization", rewrite(header(request, "Authorization")))
    assert check(variant).access_key_id == AKID


def test_unsigned_headers_may_change() -> None:
    request = replace_header(ecr_request(), "User-Agent", "something else entirely")
    assert check(request).access_key_id == AKID


def test_header_name_case_and_value_whitespace_do_not_matter() -> None:
    request = ecr_request()
    target = header(request, "X-Amz-Target")
    request = replace_header(request, "X-Amz-Target", None)
    request = with_fields(request, headers=[*request.headers, ("x-AMZ-target", f"  {target}  ")])
    assert check(request).access_key_id == AKID


def test_within_skew_verifies() -> None:
    request = ecr_request()
    assert check(request, now=SIGNED_AT + timedelta(minutes=15)).signed_at == SIGNED_AT
    assert check(request, now=SIGNED_AT - timedelta(minutes=15)).signed_at == SIGNED_AT


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(ecr_request(), now=SIGNED_AT.replace(tzinfo=None))


# --------------------------------------------------------------------------- presigned URLs


def test_presigned_url_verifies_until_it_expires() -> None:
    request = sign("GET", ENDPOINT + "v2/repo/blobs/sha256:ab", presign_expires=3600)
    assert "X-Amz-Signature=" in request.query_string
    assert "authorization" not in {name.lower() for name, _ in request.headers}
    verified = check(request, now=SIGNED_AT + timedelta(minutes=59))
    assert verified.presigned
    assert verified.payload_signed
    with pytest.raises(SignatureExpired) as caught:
        check(request, now=SIGNED_AT + timedelta(seconds=3601))
    assert caught.value.message == "Request has expired"
    assert caught.value.code == "InvalidSignatureException"


def test_presigned_url_with_operation_params_verifies() -> None:
    request = sign(
        "GET", ENDPOINT, params={"Action": "Get Thing", "Path": "/a~b/\u00fc"}, presign_expires=60
    )
    assert check(request).presigned


def test_presigned_url_with_session_token_verifies() -> None:
    request = sign(
        "GET",
        ENDPOINT,
        presign_expires=300,
        access_key=TEMP_AKID,
        secret=TEMP_SECRET,
        token=TOKEN,
    )
    assert "X-Amz-Security-Token=" in request.query_string
    assert check(request).session_token == TOKEN


class _UnsignedPayloadQueryAuth(SigV4QueryAuth):  # type: ignore[misc]
    """Presigns over UNSIGNED-PAYLOAD, as S3-style presigners do."""

    def payload(self, request: AWSRequest) -> str:
        return "UNSIGNED-PAYLOAD"


def test_presigned_url_over_unsigned_payload_verifies() -> None:
    request = sign("GET", ENDPOINT, presign_expires=60, signer=_UnsignedPayloadQueryAuth)
    request = with_fields(request, body_sha256=sha256(b"whatever the body is"))
    verified = check(request)
    assert verified.presigned
    assert not verified.payload_signed


def test_presigned_url_tampered_query_fails() -> None:
    request = sign("GET", ENDPOINT, params={"a": "1"}, presign_expires=60)
    tampered = with_fields(request, query_string=request.query_string.replace("a=1", "a=2"))
    with pytest.raises(SignatureMismatch):
        check(tampered)


def test_presigned_url_too_far_in_future_fails() -> None:
    request = sign("GET", ENDPOINT, presign_expires=3600)
    with pytest.raises(SignatureNotYetCurrent):
        check(request, now=SIGNED_AT - timedelta(minutes=16))


def test_presigned_url_missing_parameters() -> None:
    request = SignedRequest("GET", "/", "X-Amz-Algorithm", [("Host", "h")], sha256(b""))
    with pytest.raises(IncompleteSignature) as caught:
        check(request)
    assert caught.value.message == (
        "AWS query-string parameters must include 'X-Amz-Algorithm'. "
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "AWS query-string parameters must include 'X-Amz-Date'. "
        "Re-examine the query-string parameters."
    )
    assert caught.value.status == 400


def test_presigned_url_missing_signature_only() -> None:
    request = sign("GET", ENDPOINT, presign_expires=60)
    query = "&".join(
        p for p in request.query_string.split("&") if not p.startswith("X-Amz-Signature=")
    )
    with pytest.raises(IncompleteSignature) as caught:
        check(with_fields(request, query_string=query))
    assert caught.value.message == (
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "Re-examine the query-string parameters."
    )


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("soon", "X-Amz-Expires should be a number"),
        ("-5", "X-Amz-Expires should be a number"),
        ("604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"),
    ],
)
def test_presigned_url_bad_expires(expires: str, message: str) -> None:
    request = sign("GET", ENDPOINT, presign_expires=60)
    query = request.query_string.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}")
    with pytest.raises(IncompleteSignature) as caught:
        check(with_fields(request, query_string=query))
    assert caught.value.message == message


def test_presigned_and_header_auth_together_fail() -> None:
    request = sign("GET", ENDPOINT, presign_expires=60)
    both = with_fields(
        request, headers=[*request.headers, ("Authorization", "AWS4-HMAC-SHA256 x=y")]
    )
    with pytest.raises(InvalidSignature) as caught:
        check(both)
    assert caught.value.message == (
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    )


# --------------------------------------------------------------------------- tampering


def test_tampered_body_fails() -> None:
    request = with_fields(ecr_request(), body_sha256=sha256(b'{"repositoryNames": ["other"]}'))
    with pytest.raises(SignatureMismatch) as caught:
        check(request)
    error = caught.value
    assert error.code == "InvalidSignatureException"
    assert error.status == 403
    assert error.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )
    assert SECRET not in error.canonical_request + error.string_to_sign


def test_tampered_body_with_content_sha256_header_fails_clearly() -> None:
    body = b'{"a": 1}'
    request = ecr_request(body=body, headers={"X-Amz-Content-SHA256": sha256(body)})
    with pytest.raises(ContentSHA256Mismatch) as caught:
        check(with_fields(request, body_sha256=sha256(b'{"a": 2}')))
    assert caught.value.code == "XAmzContentSHA256Mismatch"
    assert caught.value.status == 400


def test_unsigned_payload_refused_for_header_auth() -> None:
    request = ecr_request(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    with pytest.raises(ContentSHA256Mismatch):
        check(request)


class _UnsignedPayloadHeaderAuth(SigV4Auth):  # type: ignore[misc]
    """Signs over UNSIGNED-PAYLOAD without saying so in a header."""

    def payload(self, request: AWSRequest) -> str:
        return "UNSIGNED-PAYLOAD"


def test_header_auth_signed_over_unsigned_payload_fails() -> None:
    request = ecr_request(signer=_UnsignedPayloadHeaderAuth)
    with pytest.raises(SignatureMismatch):
        check(request)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository"),
        ("Content-Type", "application/json"),
        ("Host", "evil.example.com"),
    ],
)
def test_tampered_signed_header_fails(name: str, value: str) -> None:
    with pytest.raises(SignatureMismatch):
        check(replace_header(ecr_request(), name, value))


def test_added_repeat_of_signed_header_fails() -> None:
    request = ecr_request()
    doubled = with_fields(request, headers=[*request.headers, ("X-Amz-Target", "Other.Op")])
    with pytest.raises(SignatureMismatch):
        check(doubled)


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"path": "/v2/"},
        {"query_string": "a=1"},
    ],
)
def test_tampered_request_line_fails(change: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        check(with_fields(ecr_request(), **change))


def test_tampered_signature_fails() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization")
    signature = authorization.rsplit("=", 1)[1]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    with pytest.raises(SignatureMismatch):
        check(replace_header(request, "Authorization", authorization.replace(signature, flipped)))


def test_non_ascii_signature_fails_cleanly() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization")
    signature = authorization.rsplit("=", 1)[1]
    bogus = authorization.replace(signature, "\u00e9" * 64)
    with pytest.raises(SignatureMismatch):
        check(replace_header(request, "Authorization", bogus))


def test_wrong_secret_fails() -> None:
    with pytest.raises(SignatureMismatch):
        check(ecr_request(secret="not-the-secret"))


def test_unknown_access_key_fails() -> None:
    with pytest.raises(UnrecognizedClient) as caught:
        check(ecr_request(access_key="AKIAUNKNOWN"))
    assert caught.value.code == "UnrecognizedClientException"
    assert caught.value.status == 400
    assert caught.value.message == "The security token included in the request is invalid."


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", "Bearer abc", ""])
def test_missing_authentication(authorization: str | None) -> None:
    request = replace_header(ecr_request(), "Authorization", authorization)
    with pytest.raises(MissingAuthenticationToken) as caught:
        check(request)
    assert caught.value.code == "MissingAuthenticationTokenException"
    assert caught.value.status == 403
    assert caught.value.message == "Missing Authentication Token"


MISSING = {
    "Credential": "Authorization header requires 'Credential' parameter.",
    "Signature": "Authorization header requires 'Signature' parameter.",
    "SignedHeaders": "Authorization header requires 'SignedHeaders' parameter.",
}


@pytest.mark.parametrize("part", sorted(MISSING))
def test_authorization_missing_one_part(part: str) -> None:
    request = ecr_request()
    kept = [
        p
        for p in header(request, "Authorization").split(" ", 1)[1].split(", ")
        if not p.startswith(part + "=")
    ]
    authorization = "AWS4-HMAC-SHA256 " + ", ".join(kept)
    with pytest.raises(IncompleteSignature) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == f"{MISSING[part]} Authorization={authorization}"
    assert caught.value.code == "IncompleteSignatureException"
    assert caught.value.status == 400


def test_authorization_missing_everything() -> None:
    request = replace_header(ecr_request(), "X-Amz-Date", None)
    request = replace_header(request, "Authorization", "AWS4-HMAC-SHA256")
    with pytest.raises(IncompleteSignature) as caught:
        check(request)
    assert caught.value.message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


def test_missing_date_header() -> None:
    request = ecr_request()
    with pytest.raises(IncompleteSignature) as caught:
        check(replace_header(request, "X-Amz-Date", None))
    assert caught.value.message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={header(request, 'Authorization')}"
    )


def test_authorization_item_without_equal_sign() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace(
        f"Credential={AKID}/", f"Credential={AKID} /"
    )
    with pytest.raises(IncompleteSignature) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == (
        f"'/20240506/{REGION}/{SERVICE}/aws4_request' not a valid key=value pair "
        f"(missing equal-sign) in Authorization header: '{authorization}'."
    )


def test_unsupported_algorithm() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace("HMAC-SHA256", "ECDSA-P256-SHA256")
    with pytest.raises(IncompleteSignature) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."


def test_credential_with_wrong_number_of_parts() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace(f"/{SERVICE}/aws4_request", "")
    with pytest.raises(IncompleteSignature) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == (
        "Credential must have exactly 5 slash-delimited elements, "
        f"e.g. keyid/date/region/service/term, got '{AKID}/20240506/{REGION}'"
    )


@pytest.mark.parametrize("value", ["2024-05-06T07:08:09Z", "20240506", "20241306T070809Z", ""])
def test_malformed_x_amz_date(value: str) -> None:
    request = replace_header(ecr_request(), "X-Amz-Date", value)
    with pytest.raises(IncompleteSignature) as caught:
        check(request)
    assert caught.value.message == (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


# --------------------------------------------------------------------------- scope


def test_wrong_region() -> None:
    with pytest.raises(InvalidCredentialScope) as caught:
        check(ecr_request(region="us-west-2"))
    assert caught.value.message == (
        "Credential should be scoped to a valid region, not 'us-west-2'. "
    )
    assert caught.value.code == "InvalidSignatureException"
    assert caught.value.status == 403


def test_wrong_service() -> None:
    with pytest.raises(InvalidCredentialScope) as caught:
        check(ecr_request(service="iam"))
    assert caught.value.message == "Credential should be scoped to correct service: 'ecr'. "


def test_other_service_verifies_when_deployment_says_so() -> None:
    assert check(ecr_request(service="sts"), service="sts").service == "sts"


def test_wrong_scope_date() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace("/20240506/", "/20240505/")
    with pytest.raises(InvalidCredentialScope) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20240505' != '20240506', from '20240506T070809Z'."
    )


def test_everything_wrong_in_scope() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace(
        f"/20240506/{REGION}/{SERVICE}/aws4_request", "/b/c/d/e"
    )
    with pytest.raises(InvalidCredentialScope) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == (
        "Credential should be scoped to a valid region, not 'c'. "
        "Credential should be scoped to correct service: 'ecr'. "
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. "
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: 'b' != '20240506', from '20240506T070809Z'."
    )


# --------------------------------------------------------------------------- clock


def test_signature_expired() -> None:
    request = ecr_request()
    with pytest.raises(SignatureExpired) as caught:
        check(request, now=SIGNED_AT + timedelta(minutes=15, seconds=1))
    assert caught.value.message == (
        "Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z "
        "(20240506T072310Z - 15 min.)"
    )
    assert caught.value.code == "InvalidSignatureException"
    assert caught.value.status == 403


def test_signature_not_yet_current() -> None:
    with pytest.raises(SignatureNotYetCurrent) as caught:
        check(ecr_request(), now=SIGNED_AT - timedelta(minutes=20))
    assert caught.value.message == (
        "Signature not yet current: 20240506T070809Z is still later than 20240506T070309Z "
        "(20240506T064809Z + 15 min.)"
    )


def test_custom_skew() -> None:
    request = ecr_request()
    with pytest.raises(SignatureExpired, match=r"\(20240506T071409Z - 5 min\.\)$"):
        check(request, now=SIGNED_AT + timedelta(minutes=6), max_skew=timedelta(minutes=5))


# --------------------------------------------------------------------------- signed headers


def test_host_must_be_signed() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace("SignedHeaders=", "SignedHeaders=x;")
    authorization = authorization.replace(";host;", ";")
    with pytest.raises(HeaderNotSigned) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == (
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    )
    assert caught.value.code == "InvalidSignatureException"


def test_x_amz_date_must_be_signed() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace(";x-amz-date", "")
    with pytest.raises(HeaderNotSigned) as caught:
        check(replace_header(request, "Authorization", authorization))
    assert caught.value.message == (
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
    )


def test_signed_header_list_is_case_insensitive() -> None:
    request = ecr_request()
    authorization = header(request, "Authorization").replace(";host;", ";HOST;")
    assert check(replace_header(request, "Authorization", authorization)).access_key_id == AKID


# --------------------------------------------------------------------------- session tokens


def test_session_token_missing() -> None:
    request = ecr_request(access_key=TEMP_AKID, secret=TEMP_SECRET)
    with pytest.raises(UnrecognizedClient):
        check(request)


def test_session_token_mismatched() -> None:
    request = ecr_request(access_key=TEMP_AKID, secret=TEMP_SECRET, token=TOKEN + "x")
    with pytest.raises(UnrecognizedClient):
        check(request)


def test_session_token_known_only_by_its_digest() -> None:
    """STS keeps only the SHA-256 of a session token: the check compares digests."""
    stored = Credential(TEMP_SECRET, session_token_sha256=sha256(TOKEN.encode()))

    def lookup(key: str) -> Credential | None:
        return stored if key == TEMP_AKID else None

    def verify_with(token: str | None) -> VerifiedRequest:
        request = ecr_request(access_key=TEMP_AKID, secret=TEMP_SECRET, token=token)
        return verify(request, lookup=lookup, region=REGION, service=SERVICE, now=SIGNED_AT)

    assert verify_with(TOKEN).session_token == TOKEN
    with pytest.raises(UnrecognizedClient):
        verify_with(TOKEN + "x")
    with pytest.raises(UnrecognizedClient):
        verify_with(None)


def test_session_token_on_key_without_one() -> None:
    request = ecr_request(token=TOKEN)
    with pytest.raises(UnrecognizedClient):
        check(request)


def test_session_token_must_be_signed_in_header_auth() -> None:
    request = ecr_request(access_key=TEMP_AKID, secret=TEMP_SECRET)
    request = with_fields(request, headers=[*request.headers, ("X-Amz-Security-Token", TOKEN)])
    with pytest.raises(HeaderNotSigned) as caught:
        check(request)
    assert caught.value.message == (
        "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization."
    )


def test_presigned_session_token_mismatched() -> None:
    request = sign(
        "GET",
        ENDPOINT,
        presign_expires=300,
        access_key=TEMP_AKID,
        secret=TEMP_SECRET,
        token="another-token",
    )
    with pytest.raises(UnrecognizedClient):
        check(request)


# --------------------------------------------------------------------------- errors


def test_every_error_is_a_sigv4_error_with_aws_fields() -> None:
    for cls in (
        MissingAuthenticationToken,
        IncompleteSignature,
        InvalidSignature,
        SignatureExpired,
        SignatureNotYetCurrent,
        HeaderNotSigned,
        InvalidCredentialScope,
        UnrecognizedClient,
        ContentSHA256Mismatch,
    ):
        error = cls()
        assert isinstance(error, SigV4Error)
        assert error.code
        assert error.status in (400, 403)
        assert str(error) == error.message


def test_module_imports_only_the_standard_library() -> None:
    """The verifier (sigv4.py and its sigv4_*.py parts) needs nothing but the standard library."""
    files = sorted(Path(sigv4.__file__).parent.glob("sigv4*.py"))
    assert len(files) > 1
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
        ours = {name for name in imported if name.startswith("stiva.iam.sigv4")}
        roots = {name.split(".")[0] for name in imported - ours}
        assert roots <= set(sys.stdlib_module_names) | {"__future__"}, path.name
