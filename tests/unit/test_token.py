"""Registry tokens: no colon, verifiable with the key, bound to their claims, expiring."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from stiva.errors import AuthenticationError, TokenExpired
from stiva.iam import token

KEY = b"k" * 32
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def claims(**override: object) -> token.TokenClaims:
    fields: dict[str, object] = {
        "principal_arn": "arn:aws:iam::123456789012:user/admin",
        "account_id": "123456789012",
        "user_id": "AIDAEXAMPLE",
        "access_key_id": "AKIAEXAMPLE",
        "issued_at": int(NOW.timestamp()),
        "expires_at": int((NOW + token.TOKEN_LIFETIME).timestamp()),
        **override,
    }
    return token.TokenClaims(**fields)  # type: ignore[arg-type]


def test_round_trip_and_shape() -> None:
    password = token.mint_password(claims(), KEY)
    assert ":" not in password
    decoded = base64.b64decode(token.authorization_token(password)).decode()
    assert decoded.count(":") == 1
    assert decoded.startswith("AWS:")
    assert token.verify_password(password, [KEY], NOW) == claims()
    assert token.parse_basic(f"Basic {token.authorization_token(password)}") == ("AWS", password)


def test_any_current_key_verifies() -> None:
    password = token.mint_password(claims(), KEY)
    assert token.verify_password(password, [b"old" * 11, KEY], NOW).account_id == "123456789012"


def test_wrong_key_or_tampered_claims_are_refused() -> None:
    password = token.mint_password(claims(), KEY)
    with pytest.raises(AuthenticationError, match="invalid"):
        token.verify_password(password, [b"x" * 32], NOW)
    other = token.mint_password(claims(account_id="999999999999"), KEY)
    forged = other.split(".")[0] + "." + password.split(".")[1]
    with pytest.raises(AuthenticationError, match="invalid"):
        token.verify_password(forged, [KEY], NOW)


def test_expiry() -> None:
    password = token.mint_password(claims(), KEY)
    token.verify_password(password, [KEY], NOW + timedelta(hours=11, minutes=59))
    with pytest.raises(TokenExpired, match="expired"):
        token.verify_password(password, [KEY], NOW + token.TOKEN_LIFETIME)


@pytest.mark.parametrize(
    "header", ["Bearer abc", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()]
)
def test_malformed_basic_headers(header: str) -> None:
    with pytest.raises(AuthenticationError):
        token.parse_basic(header)


@pytest.mark.parametrize("password", ["", "nodot", "a.b", "!!.!!"])
def test_malformed_passwords(password: str) -> None:
    with pytest.raises(AuthenticationError):
        token.verify_password(password, [KEY], NOW)
