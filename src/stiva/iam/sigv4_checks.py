"""The checks `verify` (`stiva.iam.sigv4`) runs on a parsed request, each raising the
`SigV4Error` AWS would answer with.

In `verify`'s order: the clock (`check_clock`: within the skew both ways, or within a
presigned URL's ``X-Amz-Expires``), the headers that must be signed (`check_signed_headers`),
the credential scope (`check_scope`), the payload hashes the signer may have used
(`candidate_payload_hashes`, which also checks ``x-amz-content-sha256`` against the body), the
signature itself (`check_signature`, constant-time) and the session token
(`check_session_token`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from stiva.iam.sigv4_canonical import canonical_request, derive_signing_key
from stiva.iam.sigv4_errors import (
    ContentSHA256Mismatch,
    HeaderNotSigned,
    InvalidCredentialScope,
    SignatureExpired,
    SignatureMismatch,
    SignatureNotYetCurrent,
    UnrecognizedClient,
)
from stiva.iam.sigv4_parse import first_header, format_basic
from stiva.iam.sigv4_request import (
    ALGORITHM,
    TERMINATOR,
    UNSIGNED_PAYLOAD,
    Auth,
    Credential,
    Headers,
    Scope,
    SignedRequest,
)

__all__ = [
    "candidate_payload_hashes",
    "check_clock",
    "check_scope",
    "check_session_token",
    "check_signature",
    "check_signed_headers",
]

_HOST_HEADERS: Final = frozenset({"host", ":authority"})


def _skew_label(skew: timedelta) -> str:
    seconds = int(skew.total_seconds())
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def check_clock(auth: Auth, signed_at: datetime, now: datetime, max_skew: timedelta) -> None:
    label = _skew_label(max_skew)
    if signed_at > now + max_skew:
        raise SignatureNotYetCurrent(
            f"Signature not yet current: {format_basic(signed_at)} is still later than "
            f"{format_basic(now + max_skew)} ({format_basic(now)} + {label})"
        )
    if auth.expires is not None:
        if now > signed_at + timedelta(seconds=auth.expires):
            raise SignatureExpired("Request has expired")
        return
    if signed_at < now - max_skew:
        raise SignatureExpired(
            f"Signature expired: {format_basic(signed_at)} is now earlier than "
            f"{format_basic(now - max_skew)} ({format_basic(now)} - {label})"
        )


def check_signed_headers(auth: Auth, headers: Headers) -> None:
    signed = set(auth.signed_headers)
    if not signed & _HOST_HEADERS:
        raise HeaderNotSigned(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    required = {"x-amz-date": "X-Amz-Date", "date": "Date"}
    if auth.date_header is not None and auth.date_header not in signed:
        raise HeaderNotSigned(
            f"'{required[auth.date_header]}' must be a 'SignedHeader' in the AWS Authorization."
        )
    if auth.token_in_header and "x-amz-security-token" not in signed:
        raise HeaderNotSigned(
            "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization."
        )
    for name in headers:  # Stiva's own headers carry claims (replication): never unsigned
        if name.lower().startswith("x-stiva-") and name.lower() not in signed:
            raise HeaderNotSigned(f"'{name}' must be a 'SignedHeader' in the AWS Authorization.")


def check_scope(scope: Scope, timestamp: str, region: str, service: str) -> None:
    problems: list[str] = []
    if scope.region != region:
        problems.append(f"Credential should be scoped to a valid region, not '{scope.region}'. ")
    if scope.service != service:
        problems.append(f"Credential should be scoped to correct service: '{service}'. ")
    if scope.terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{scope.terminator}'. "
        )
    if scope.date != timestamp[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope.date}' != '{timestamp[:8]}', from '{timestamp}'."
        )
    if problems:
        raise InvalidCredentialScope("".join(problems))


def candidate_payload_hashes(request: SignedRequest, headers: Headers, auth: Auth) -> list[str]:
    """The payload hashes the signer may have used, most likely first."""
    body_hash = request.body_sha256.lower()
    declared = first_header(headers, "x-amz-content-sha256")
    if declared is not None:
        declared = declared.strip()
        if declared == UNSIGNED_PAYLOAD and not auth.presigned:
            raise ContentSHA256Mismatch()
        if declared != UNSIGNED_PAYLOAD and declared.lower() != body_hash:
            raise ContentSHA256Mismatch()
        if "x-amz-content-sha256" in auth.signed_headers:
            return [declared]
    if auth.presigned:
        return [body_hash, UNSIGNED_PAYLOAD]
    return [body_hash]


def check_signature(
    request: SignedRequest,
    headers: Headers,
    auth: Auth,
    scope: Scope,
    timestamp: str,
    credential: Credential,
    payload_hashes: Sequence[str],
) -> bool:
    """Raise `SignatureMismatch` unless one payload hash verifies; return whether the
    payload was signed (not UNSIGNED-PAYLOAD)."""
    key = derive_signing_key(credential.secret_access_key, scope.date, scope.region, scope.service)
    provided = auth.signature.encode("utf-8", errors="replace")
    first: tuple[str, str] | None = None
    for payload_hash in payload_hashes:
        canonical = canonical_request(request, headers, auth, payload_hash)
        string_to_sign = "\n".join(
            (ALGORITHM, timestamp, scope.string(), hashlib.sha256(canonical.encode()).hexdigest())
        )
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode(), provided):
            return payload_hash != UNSIGNED_PAYLOAD
        first = first or (canonical, string_to_sign)
    assert first is not None
    raise SignatureMismatch(canonical_request=first[0], string_to_sign=first[1])


def check_session_token(auth: Auth, credential: Credential) -> None:
    """The request's token must be the credential's (compared as SHA-256 when only the hash is
    known); a credential without a token accepts none."""
    given = auth.token
    if credential.session_token_sha256 is not None:
        if given is None:
            raise UnrecognizedClient()
        digest = hashlib.sha256(given.encode()).hexdigest()
        if not hmac.compare_digest(digest, credential.session_token_sha256.lower()):
            raise UnrecognizedClient()
        return
    expected = credential.session_token
    if expected is None and given is None:
        return
    if expected is None or given is None:
        raise UnrecognizedClient()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise UnrecognizedClient()
