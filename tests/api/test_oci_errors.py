"""How `/v2/` says no: authentication, names, unknown repositories, methods, the error body."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest

from stiva.iam import token
from tests.support.registry import InProcessRegistry, basic

DIGEST = "sha256:" + hashlib.sha256(b"x").hexdigest()
CHALLENGE = 'Basic realm="http://testserver/",service="ecr.amazonaws.com"'


def codes(response: httpx.Response) -> list[str]:
    return [entry["code"] for entry in response.json()["errors"]]


def assert_error_body(response: httpx.Response, code: str, status: int) -> dict[str, object]:
    """The spec's shape: {"errors": [{"code", "message", "detail"?}]}, as JSON."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    body = response.json()
    assert set(body) == {"errors"}
    [entry] = body["errors"]
    assert entry["code"] == code
    assert isinstance(entry["message"], str)
    assert entry["message"]
    assert set(entry) <= {"code", "message", "detail"}
    return dict(entry)


# --- authentication ------------------------------------------------------------------------


def expired_password(registry: InProcessRegistry) -> str:
    """A token the registry signed, whose lifetime is over."""
    good = base64.b64decode(registry.token()).decode().split(":", 1)[1]
    payload = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))
    past = datetime.now(UTC) - timedelta(days=1)
    claims = token.TokenClaims(
        **{**payload, "issued_at": int(past.timestamp()) - 60, "expires_at": int(past.timestamp())}
    )
    key = registry.client.app.state.ctx.keys.token  # type: ignore[attr-defined]
    return token.mint_password(claims, key)


@pytest.mark.parametrize(
    "credentials",
    [
        None,
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Bearer some-oauth-token"},
        basic("not.a-valid-token"),
        basic("eyJ9.c2lnbmF0dXJl"),
        "wrong user",
        "expired",
    ],
    ids=["none", "garbled", "bearer", "forged", "malformed", "wrong user", "expired"],
)
def test_bad_credentials_are_401_with_ecr_challenge(
    registry: InProcessRegistry, credentials: object
) -> None:
    registry.create_repository("auth/app")
    if credentials == "wrong user":
        password = base64.b64decode(registry.token()).decode().split(":", 1)[1]
        headers = basic(password, user="admin")
    elif credentials == "expired":
        headers = basic(expired_password(registry))
    else:
        headers = dict(credentials) if isinstance(credentials, dict) else {}
    for method, path in [("GET", "/v2/"), ("GET", "/v2/auth/app/tags/list"), ("HEAD", "/v2/")]:
        response = registry.client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == CHALLENGE
        if method == "GET":
            entry = assert_error_body(response, "UNAUTHORIZED", 401)
            assert ("expired" in str(entry["message"])) == (credentials == "expired")


def test_another_accounts_registry_is_denied(registry: InProcessRegistry) -> None:
    registry.create_repository("auth/app")
    response = registry.client.get(
        "/v2/auth/app/tags/list",
        headers={**registry.auth, "Host": "999999999999.dkr.ecr.us-east-1.localhost"},
    )
    assert_error_body(response, "DENIED", 403)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["UPPER/case", "a", "trailing-/slash", "double//slash", "x" * 257, "bad_-sep"]
)
@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", "/tags/list"),
        ("GET", "/manifests/latest"),
        ("PUT", "/manifests/latest"),
        ("POST", "/blobs/uploads/"),
        ("HEAD", f"/blobs/{DIGEST}"),
        ("GET", f"/referrers/{DIGEST}"),
    ],
)
def test_invalid_name_is_name_invalid(
    registry: InProcessRegistry, name: str, method: str, suffix: str
) -> None:
    response = registry.client.request(method, f"/v2/{name}{suffix}", headers=registry.auth)
    assert response.status_code == 400, (name, suffix, response.text)
    if method != "HEAD":
        assert codes(response) == ["NAME_INVALID"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", "/tags/list"),
        ("GET", "/manifests/latest"),
        ("PUT", "/manifests/latest"),
        ("DELETE", f"/manifests/{DIGEST}"),
        ("POST", "/blobs/uploads/"),
        ("GET", f"/blobs/{DIGEST}"),
        ("DELETE", f"/blobs/{DIGEST}"),
        # not referrers: the spec forbids a 404 there (test_oci_discovery: an empty index)
    ],
)
def test_unknown_repository_is_name_unknown_in_ecr_words(
    registry: InProcessRegistry, method: str, suffix: str
) -> None:
    manifest = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
    response = registry.client.request(
        method,
        f"/v2/team/missing{suffix}",
        headers={**registry.auth, "Content-Type": "application/vnd.oci.image.index.v1+json"},
        content=manifest if method == "PUT" else None,
    )
    entry = assert_error_body(response, "NAME_UNKNOWN", 404)
    assert entry["message"] == (
        f"The repository with name 'team/missing' does not exist in the registry "
        f"with id '{registry.account_id}'"
    )


def test_names_with_slashes_and_separators_route_to_their_repository(
    registry: InProcessRegistry,
) -> None:
    name = "org.team/sub__name/app-x/manifests/deep"
    registry.create_repository(name)
    auth = registry.auth
    digest, raw = registry.push_image(name, "v1", auth)
    got = registry.client.get(f"/v2/{name}/manifests/v1", headers=auth)
    assert (got.status_code, got.content) == (200, raw)
    listing = registry.client.get(f"/v2/{name}/tags/list", headers=auth)
    assert listing.json() == {"name": name, "tags": ["v1"]}
    assert registry.client.head(f"/v2/{name}/manifests/{digest}", headers=auth).status_code == 200


# --- methods and endpoints -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/v2/team/app/manifests/latest", {"GET", "HEAD", "PUT", "DELETE"}),
        ("PUT", f"/v2/team/app/blobs/{DIGEST}", {"GET", "HEAD", "DELETE"}),
        ("DELETE", "/v2/team/app/tags/list", {"GET"}),
    ],
)
def test_unsupported_method_is_405_with_allow(
    registry: InProcessRegistry, method: str, path: str, allowed: set[str]
) -> None:
    response = registry.client.request(method, path, headers=registry.auth)
    assert_error_body(response, "UNSUPPORTED", 405)
    assert set(response.headers["allow"].split(", ")) == allowed


def test_unknown_endpoint_is_404(registry: InProcessRegistry) -> None:
    response = registry.client.get("/v2/team/app/nothing-here", headers=registry.auth)
    assert response.status_code == 404
    assert codes(response) == ["NAME_UNKNOWN"]
