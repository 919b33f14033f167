"""The records and constants of the SigV4 verifier (`stiva.iam.sigv4`), shared by its modules.

Public, re-exported by `stiva.iam.sigv4`: `SignedRequest` (what arrived on the wire, the input
of `verify`), `Credential` (what the key lookup answers) and `VerifiedRequest` (who signed, the
result), and the protocol's constants. Internal: `Auth` (the authentication parameters, from
the Authorization header or a presigned URL's query), `Scope` (the credential scope) and the
`Headers` / `Query` views of the request that parsing builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

__all__ = [
    "ALGORITHM",
    "MAX_PRESIGNED_EXPIRES",
    "TERMINATOR",
    "UNSIGNED_PAYLOAD",
    "Auth",
    "Credential",
    "Headers",
    "Query",
    "Scope",
    "SignedRequest",
    "VerifiedRequest",
]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
TERMINATOR: Final = "aws4_request"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
MAX_PRESIGNED_EXPIRES: Final = 604_800  # a week, in seconds


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as the server received it."""

    method: str
    path: str  # raw, percent-encoded, as on the wire
    query_string: str  # raw, without "?"; may be ""
    headers: Sequence[tuple[str, str]]  # names in any case; repeats allowed
    body_sha256: str  # lowercase hex SHA-256 of the body received


@dataclass(frozen=True, slots=True)
class Credential:
    """What the server knows about an access key id.

    Temporary credentials carry their session token, either as is (`session_token`) or, when
    only its hash is kept, as the lowercase hex SHA-256 of it (`session_token_sha256`); the
    request must then carry a token that matches. A key with neither takes no token.
    """

    secret_access_key: str
    session_token: str | None = None
    session_token_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """Who signed the request, and how."""

    access_key_id: str
    region: str
    service: str
    signed_at: datetime  # tz-aware UTC
    session_token: str | None
    presigned: bool = False  # authenticated by query parameters
    payload_signed: bool = True  # False only for UNSIGNED-PAYLOAD (presigned URLs)


@dataclass(frozen=True, slots=True)
class Auth:
    """The authentication parameters, from the header or the query string."""

    presigned: bool
    credential: str
    signed_headers: tuple[str, ...]  # lowercased, sorted, unique
    signature: str
    timestamp: str  # as sent
    date_header: str | None  # the header the time came from; None for presigned URLs
    expires: int | None
    token: str | None
    token_in_header: bool


@dataclass(frozen=True, slots=True)
class Scope:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str

    def string(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


Headers = dict[str, list[str]]  # lowercased name -> values, in order of arrival
Query = list[tuple[str, str]]  # raw (still encoded) name, value
