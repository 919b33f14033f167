"""Registry authorization tokens: stateless, verifiable by any node that shares the signing key.

`GetAuthorizationToken` hands out base64(`AWS:<password>`). The password is

    base64url(claims JSON) "." base64url(HMAC-SHA256(key, base64url(claims JSON)))

so it contains no colon (the aws CLI splits the decoded token on the one colon), names the principal
it was issued to, and needs no per-token row: verification recomputes the MAC with the deployment's
key (shared through the metadata database) and checks the expiry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from stiva.errors import AuthenticationError, TokenExpired

TOKEN_LIFETIME = timedelta(hours=12)
USERNAME = "AWS"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    principal_arn: str
    account_id: str
    user_id: str
    access_key_id: str
    issued_at: int  # epoch seconds
    expires_at: int  # epoch seconds
    kind: str = "user"  # root | user | assumed-role

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def mint_password(claims: TokenClaims, key: bytes) -> str:
    payload = _b64(json.dumps(asdict(claims), separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, payload)}"


def authorization_token(password: str) -> str:
    """The `authorizationToken` value: base64(`AWS:<password>`), also a valid Basic credential."""
    return base64.b64encode(f"{USERNAME}:{password}".encode()).decode("ascii")


def verify_signature(password: str, keys: Sequence[bytes]) -> TokenClaims:
    """Check the MAC against any current key; return the claims (the expiry is not checked)."""
    payload, _, mac = password.partition(".")
    if not payload or not mac:
        raise AuthenticationError("The authorization token is malformed.")
    if not any(hmac.compare_digest(mac, _mac(key, payload)) for key in keys):
        raise AuthenticationError("The authorization token is invalid.")
    try:
        fields = json.loads(_unb64(payload))
        return TokenClaims(**fields)
    except (ValueError, TypeError, binascii.Error):
        raise AuthenticationError("The authorization token is malformed.") from None


def verify_password(password: str, keys: Sequence[bytes], now: datetime) -> TokenClaims:
    """Check the MAC against any current key and the expiry; return the claims."""
    claims = verify_signature(password, keys)
    if now.timestamp() >= claims.expires_at:
        raise TokenExpired()
    return claims


def parse_basic(header: str) -> tuple[str, str]:
    """Split an `Authorization: Basic ...` value into (user, password)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise AuthenticationError("Basic authentication with user AWS and a token is required.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError("The Basic credentials are not valid base64.") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise AuthenticationError("The Basic credentials have no password.")
    return user, password
