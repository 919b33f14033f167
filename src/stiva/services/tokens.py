"""Registry authorization tokens: issue them (GetAuthorizationToken), accept them (`/v2/`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from stiva.errors import AuthenticationError, TokenExpired
from stiva.iam import token
from stiva.services.deployment import Deployment
from stiva.services.identity import Principal


@dataclass(frozen=True, slots=True)
class AuthorizationData:
    authorization_token: str
    expires_at: datetime
    proxy_endpoint: str


def get_authorization_token(
    principal: Principal, *, key: bytes, deployment: Deployment, now: datetime
) -> AuthorizationData:
    """A 12-hour registry token naming `principal` (never outliving temporary credentials)."""
    issued = int(now.timestamp())
    expires = issued + int(token.TOKEN_LIFETIME.total_seconds())
    if principal.expires_at is not None:
        expires = min(expires, principal.expires_at)
    claims = token.TokenClaims(
        principal_arn=principal.arn,
        account_id=principal.account_id,
        user_id=principal.user_id,
        access_key_id=principal.access_key_id,
        issued_at=issued,
        expires_at=expires,
        kind=principal.kind,
    )
    return AuthorizationData(
        authorization_token=token.authorization_token(token.mint_password(claims, key)),
        expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        proxy_endpoint=deployment.proxy_endpoint(principal.account_id),
    )


@functools.lru_cache(maxsize=4096)
def _verified(header: str, keys: tuple[bytes, ...]) -> tuple[Principal, int]:
    """The principal a valid Basic header names and its expiry; failures are not cached."""
    user, password = token.parse_basic(header)
    if user != token.USERNAME:
        raise AuthenticationError(f"The user name must be {token.USERNAME}, not '{user[:64]}'.")
    claims = token.verify_signature(password, keys)
    principal = Principal(
        arn=claims.principal_arn,
        account_id=claims.account_id,
        user_id=claims.user_id,
        access_key_id=claims.access_key_id,
        kind=claims.kind,
        expires_at=claims.expires_at,
    )
    return principal, claims.expires_at


def authenticate_basic(header: str | None, *, keys: Sequence[bytes], now: datetime) -> Principal:
    """The principal a `/v2/` request's Basic credentials (user AWS + token) name.

    Tokens are stateless (HMAC), so a verified header is cached; the expiry is checked each time.
    """
    if not header:
        raise AuthenticationError("Authentication required: log in with user AWS and a token.")
    principal, expires_at = _verified(header, tuple(keys))
    if now.timestamp() >= expires_at:
        raise TokenExpired()
    return principal
