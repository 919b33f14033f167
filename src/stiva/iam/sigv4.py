"""Server-side verification of AWS Signature Version 4 (SigV4), as AWS's own services do it.

Pure: the caller hands over what arrived on the wire (method, raw path, raw query string,
headers, the SHA-256 of the body), a way to look secrets up, the deployment's region and
service name and the current time; `verify` answers with who signed, or raises a
`SigV4Error` whose `code`, `status` and `message` are what AWS puts on the wire
(`{"__type": code, "message": message}` for the JSON protocols).

The algorithm
-------------
1. Find the authentication. Either an ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/
   yyyymmdd/region/service/aws4_request, SignedHeaders=a;b, Signature=hex`` header (the
   parameters may be separated by commas and/or any whitespace, in any order) or query
   parameters ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``, ``X-Amz-Expires``
   (optional), ``X-Amz-SignedHeaders``, ``X-Amz-Signature``, ``X-Amz-Security-Token``
   (a presigned URL). Both at once is refused, as AWS does.
2. The request time: ``X-Amz-Date`` (``YYYYMMDDTHHMMSSZ``), else the ``Date`` header
   (ISO-8601 basic format or an RFC 7231 / RFC 2822 date in GMT). It must be within
   `max_skew` of `now`, both ways. A presigned URL with ``X-Amz-Expires`` may instead be as
   old as that many seconds (at most 604800, a week), and no older.
3. ``host`` (or ``:authority``) must be signed; so must the date header that was used and,
   in header auth, ``X-Amz-Security-Token`` when sent.
4. The credential scope must be ``<key>/<date of the request>/<region>/<service>/
   aws4_request`` for this deployment's region and service; the key must be known.
5. The canonical request, exactly as botocore and the other AWS SDKs build it::

       <method>
       <canonical URI>       the raw path, dot segments and empty segments removed, then
                             URI-encoded once more (everything but A-Za-z0-9 -_.~ and "/"),
                             so "%20" on the wire becomes "%2520": the double encoding AWS
                             uses for every service but S3
       <canonical query>     every name=value pair (X-Amz-Signature left out), each side
                             percent-decoded ("+" read as a space) and re-encoded per
                             RFC 3986, sorted by name then value; empty values kept
       <canonical headers>   one "name:value" line per signed header, lowercased names,
                             values trimmed and inner whitespace runs collapsed to one
                             space, repeated headers joined with ","
       <blank line>
       <signed headers>      the lowercased names, sorted, joined with ";"
       <payload hash>        the x-amz-content-sha256 header when sent and signed, else the
                             SHA-256 of the body as received

   The string to sign is ``AWS4-HMAC-SHA256\\n<timestamp>\\n<date>/<region>/<service>/
   aws4_request\\n<hex sha256 of the canonical request>``; the key is the HMAC-SHA256 chain
   ``"AWS4" + secret`` -> date -> region -> service -> ``"aws4_request"``, and the signature
   is the hex HMAC of the string to sign, compared in constant time.
6. ``x-amz-content-sha256``, when sent, must be the hash of the body actually received;
   ``UNSIGNED-PAYLOAD`` is accepted only on presigned URLs (which may also be signed over
   ``UNSIGNED-PAYLOAD`` without saying so, as S3-style presigners do).
7. Session tokens: a key that has one requires the request to carry exactly it; a token on
   a key without one is refused.

Errors
------
Every refusal is a `SigV4Error`; `code` is the ``__type``, `status` the HTTP status.

==========================  ===================================  ======
class                       code                                 status
==========================  ===================================  ======
MissingAuthenticationToken  MissingAuthenticationTokenException  403
IncompleteSignature         IncompleteSignatureException         400
InvalidSignature            InvalidSignatureException            403
  SignatureMismatch         InvalidSignatureException            403
  SignatureExpired          InvalidSignatureException            403
  SignatureNotYetCurrent    InvalidSignatureException            403
  HeaderNotSigned           InvalidSignatureException            403
  InvalidCredentialScope    InvalidSignatureException            403
UnrecognizedClient          UnrecognizedClientException          400
ContentSHA256Mismatch       XAmzContentSHA256Mismatch            400
==========================  ===================================  ======

Messages (``<...>`` are filled in; "..." joins the sentences that apply):

* MissingAuthenticationToken: ``Missing Authentication Token``
* IncompleteSignature:
    ``Authorization header requires 'Credential' parameter. Authorization header requires
    'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.
    Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.
    Authorization=<header>``;
    ``'<item>' not a valid key=value pair (missing equal-sign) in Authorization header:
    '<header>'.``;
    ``AWS query-string parameters must include 'X-Amz-Algorithm'. ... Re-examine the
    query-string parameters.`` (also 'X-Amz-Credential', 'X-Amz-Signature',
    'X-Amz-SignedHeaders', 'X-Amz-Date');
    ``Unsupported AWS 'algorithm': '<algorithm>'.``;
    ``Date must be in ISO-8601 'basic format'. Got '<date>'. See
    http://en.wikipedia.org/wiki/ISO_8601``;
    ``Credential must have exactly 5 slash-delimited elements, e.g.
    keyid/date/region/service/term, got '<credential>'``;
    ``X-Amz-Expires should be a number``;
    ``X-Amz-Expires must be less than a week (in seconds) that is 604800``
* SignatureMismatch: ``The request signature we calculated does not match the signature you
  provided. Check your AWS Secret Access Key and signing method. Consult the service
  documentation for details.`` (also carries the canonical request and string to sign)
* InvalidSignature itself: ``Found both 'X-Amz-Algorithm' as a query-string param and
  'Authorization' as HTTP header.``
* SignatureExpired: ``Signature expired: 20240101T000000Z is now earlier than
  20240101T001000Z (20240101T002500Z - 15 min.)``; presigned: ``Request has expired``
* SignatureNotYetCurrent: ``Signature not yet current: 20240101T004000Z is still later than
  20240101T001500Z (20240101T000000Z + 15 min.)``
* HeaderNotSigned: ``'Host' or ':authority' must be a 'SignedHeader' in the AWS
  Authorization.``; likewise ``'X-Amz-Date' ...``, ``'Date' ...``,
  ``'X-Amz-Security-Token' ...``
* InvalidCredentialScope, the applicable sentences concatenated:
  ``Credential should be scoped to a valid region, not '<region>'. `` /
  ``Credential should be scoped to correct service: '<service>'. `` /
  ``Credential should be scoped with a valid terminator: 'aws4_request', not '<term>'. `` /
  ``Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from
  HTTP: '<scope date>' != '<request date>', from '<request timestamp>'.``
* UnrecognizedClient: ``The security token included in the request is invalid.``
* ContentSHA256Mismatch: ``The provided 'x-amz-content-sha256' header does not match what
  was computed.``

Sources: AWS's published SigV4 test suite, botocore's signer, and AWS responses recorded by
emulators that replay them (dynalite for DynamoDB, kinesis-mock, scratchstack).

Uncertain
---------
* Unauthenticated requests: AWS's common-errors table gives 403 for MissingAuthenticationToken
  and API Gateway / Lambda say "Missing Authentication Token"; DynamoDB answers 400 with
  "Request is missing Authentication Token". What ECR itself sends was not observed.
* The region sentence: AWS is seen sending "Credential should be scoped to a valid region,
  not '<r>'. " (with the trailing space every scope sentence has); a shorter "...valid
  region." also appears in some reports. The first is used.
* InvalidSignatureException is 403 here (most services; DynamoDB sends 400 for everything).
* Expired presigned URLs: what JSON services say is unknown (S3 says AccessDenied, "Request
  has expired"); this module says InvalidSignatureException, "Request has expired". The
  X-Amz-Expires bounds use S3's texts. An unsupported X-Amz-Algorithm value gets the header's
  "Unsupported AWS 'algorithm'" text. "'X-Amz-Date' must be a 'SignedHeader' ..." and the
  same for the token follow AWS's pattern for Host but were not observed.
* XAmzContentSHA256Mismatch is S3's code; non-S3 services probably answer a bad body hash
  with a plain signature mismatch.
* A signed header absent from the request contributes no line (as scratchstack models AWS).
* Streaming payloads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, trailers) and SigV4a are not
  supported; they fail as hash mismatch / unsupported algorithm.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final
from urllib.parse import quote, unquote_to_bytes

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "ContentSHA256Mismatch",
    "Credential",
    "HeaderNotSigned",
    "IncompleteSignature",
    "InvalidCredentialScope",
    "InvalidSignature",
    "MissingAuthenticationToken",
    "SigV4Error",
    "SignatureExpired",
    "SignatureMismatch",
    "SignatureNotYetCurrent",
    "SignedRequest",
    "UnrecognizedClient",
    "VerifiedRequest",
    "canonical_query_string",
    "canonical_uri",
    "derive_signing_key",
    "verify",
]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
TERMINATOR: Final = "aws4_request"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
MAX_PRESIGNED_EXPIRES: Final = 604_800  # a week, in seconds

_BASIC_FORMAT: Final = "%Y%m%dT%H%M%SZ"
_BASIC_RE: Final = re.compile(r"\d{8}T\d{6}Z")
_HTTP_DATE_RE: Final = re.compile(
    r"(?:[A-Za-z]{3,9},\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[\s-]+(\d{2,4})\s+"
    r"(\d{2}):(\d{2}):(\d{2})\s+(?:GMT|UTC|UT|[+-]0000)"
)
_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_AUTH_SEPARATORS: Final = re.compile(r"[\s,]+")
_RFC3986_UNRESERVED: Final = "-_.~"
_HOST_HEADERS: Final = frozenset({"host", ":authority"})


# --------------------------------------------------------------------------- errors


class SigV4Error(Exception):
    """A refused request. `code` is AWS's error code (the JSON ``__type``), `status` the HTTP
    status AWS answers with, `message` AWS's text."""

    code: ClassVar[str] = "InvalidSignatureException"
    status: ClassVar[int] = 403
    default_message: ClassVar[str] = "The request could not be authenticated."

    def __init__(self, message: str | None = None) -> None:
        self.message: str = self.default_message if message is None else message
        super().__init__(self.message)


class MissingAuthenticationToken(SigV4Error):
    """No SigV4 authentication at all (no Authorization header, no X-Amz-Algorithm)."""

    code = "MissingAuthenticationTokenException"
    status = 403
    default_message = "Missing Authentication Token"


class IncompleteSignature(SigV4Error):
    """The authentication is malformed: parts missing, unparseable date or credential."""

    code = "IncompleteSignatureException"
    status = 400
    default_message = "The request signature does not conform to AWS standards."


class InvalidSignature(SigV4Error):
    """The signature does not verify, or the request's signed parts are unacceptable."""

    code = "InvalidSignatureException"
    status = 403
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


class SignatureMismatch(InvalidSignature):
    """The computed signature differs. Carries what the server computed, for logs (never
    secret: neither contains key material)."""

    def __init__(self, *, canonical_request: str, string_to_sign: str) -> None:
        super().__init__()
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


class SignatureExpired(InvalidSignature):
    """The request time is too far in the past, or a presigned URL has expired."""


class SignatureNotYetCurrent(InvalidSignature):
    """The request time is too far in the future."""


class HeaderNotSigned(InvalidSignature):
    """A header that must be covered by the signature is not among SignedHeaders."""


class InvalidCredentialScope(InvalidSignature):
    """The credential scope names another region, service, terminator or date."""


class UnrecognizedClient(SigV4Error):
    """Unknown access key id, or a session token that does not belong to the key."""

    code = "UnrecognizedClientException"
    status = 400
    default_message = "The security token included in the request is invalid."


class ContentSHA256Mismatch(SigV4Error):
    """``x-amz-content-sha256`` is not the hash of the body received."""

    code = "XAmzContentSHA256Mismatch"
    status = 400
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


# --------------------------------------------------------------------------- data


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
    """What the server knows about an access key id."""

    secret_access_key: str
    session_token: str | None = None


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
class _Auth:
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
class _Scope:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str

    def string(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


_Headers = dict[str, list[str]]
_Query = list[tuple[str, str]]  # raw (still encoded) name, value


# --------------------------------------------------------------------------- entry point


def verify(
    request: SignedRequest,
    *,
    lookup: Callable[[str], Credential | None],
    region: str,
    service: str,
    now: datetime,
    max_skew: timedelta = timedelta(minutes=15),
) -> VerifiedRequest:
    """Check the request's SigV4 signature; return the signer or raise a `SigV4Error`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    headers = _header_map(request.headers)
    query = _parse_query(request.query_string)
    auth = _find_auth(headers, query)
    signed_at = _parse_time(auth)
    _check_clock(auth, signed_at, now, max_skew)
    _check_signed_headers(auth, headers)
    scope = _parse_scope(auth.credential)
    timestamp = _basic(signed_at)
    _check_scope(scope, timestamp, region, service)
    credential = lookup(scope.access_key_id)
    if credential is None:
        raise UnrecognizedClient()
    payload_hashes = _payload_hashes(request, headers, auth)
    payload_signed = _check_signature(
        request, headers, auth, scope, timestamp, credential, payload_hashes
    )
    _check_session_token(auth, credential)
    return VerifiedRequest(
        access_key_id=scope.access_key_id,
        region=scope.region,
        service=scope.service,
        signed_at=signed_at,
        session_token=auth.token,
        presigned=auth.presigned,
        payload_signed=payload_signed,
    )


# --------------------------------------------------------------------------- canonical form


def derive_signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: HMAC-SHA256 of "AWS4"+secret over date, region, service and
    "aws4_request", in turn."""
    key = f"AWS4{secret_access_key}".encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uri(raw_path: str) -> str:
    """The canonical URI for a non-S3 service, exactly as botocore computes it: the raw path
    with dot segments and repeated slashes removed, URI-encoded once more (so existing
    escapes are encoded again)."""
    return quote(_remove_dot_segments(raw_path), safe="/~")


def canonical_query_string(raw_query: str, *, exclude_signature: bool = False) -> str:
    """The canonical query string: every pair decoded and re-encoded per RFC 3986, sorted."""
    pairs = [
        (_rfc3986(name), _rfc3986(value))
        for name, value in _parse_query(raw_query)
        if not (exclude_signature and _decode(name) == "X-Amz-Signature")
    ]
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _remove_dot_segments(path: str) -> str:
    # botocore.utils.remove_dot_segments: RFC 3986 5.2.4 plus dropping empty segments.
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last


def _rfc3986(raw: str) -> str:
    return quote(unquote_to_bytes(raw.replace("+", " ")), safe=_RFC3986_UNRESERVED)


def _decode(raw: str) -> str:
    return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8", errors="replace")


def _parse_query(raw_query: str) -> _Query:
    pairs: _Query = []
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def _query_param(query: _Query, name: str) -> str | None:
    for raw_name, raw_value in query:
        if _decode(raw_name) == name:
            return _decode(raw_value)
    return None


def _header_map(headers: Sequence[tuple[str, str]]) -> _Headers:
    result: _Headers = {}
    for name, value in headers:
        result.setdefault(name.strip().lower(), []).append(value)
    return result


def _first(headers: _Headers, name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _canonical_headers(headers: _Headers, signed: Sequence[str]) -> str:
    lines = [
        f"{name}:{','.join(' '.join(value.split()) for value in headers[name])}\n"
        for name in signed
        if name in headers
    ]
    return "".join(lines)


def _canonical_request(
    request: SignedRequest, headers: _Headers, auth: _Auth, payload_hash: str
) -> str:
    return "\n".join(
        (
            request.method,
            canonical_uri(request.path),
            canonical_query_string(request.query_string, exclude_signature=auth.presigned),
            _canonical_headers(headers, auth.signed_headers),
            ";".join(auth.signed_headers),
            payload_hash,
        )
    )


def _basic(moment: datetime) -> str:
    return moment.strftime(_BASIC_FORMAT)


# --------------------------------------------------------------------------- parsing


def _find_auth(headers: _Headers, query: _Query) -> _Auth:
    authorization = _first(headers, "authorization")
    algorithm = _query_param(query, "X-Amz-Algorithm")
    if authorization is not None and algorithm is not None:
        raise InvalidSignature(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' "
            "as HTTP header."
        )
    if algorithm is not None:
        return _auth_from_query(query, headers, algorithm)
    if authorization is None or not authorization.strip().startswith("AWS4-"):
        raise MissingAuthenticationToken()
    return _auth_from_header(authorization, headers)


def _auth_from_header(authorization: str, headers: _Headers) -> _Auth:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'.")
    params: dict[str, str] = {}
    for token in _AUTH_SEPARATORS.split(rest):
        if not token:
            continue
        key, sep, value = token.partition("=")
        if not sep:
            raise IncompleteSignature(
                f"'{token}' not a valid key=value pair (missing equal-sign) in "
                f"Authorization header: '{authorization}'."
            )
        params[key] = value  # the last occurrence wins
    date_header = "x-amz-date" if "x-amz-date" in headers else "date"
    timestamp = _first(headers, date_header)
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name) and not (name == "SignedHeaders" and name in params)
    ]
    if timestamp is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if missing:
        raise IncompleteSignature(" ".join(missing) + f" Authorization={authorization}")
    assert timestamp is not None
    token = _first(headers, "x-amz-security-token")
    return _Auth(
        presigned=False,
        credential=params["Credential"],
        signed_headers=_signed_header_list(params["SignedHeaders"]),
        signature=params["Signature"],
        timestamp=timestamp.strip(),
        date_header=date_header,
        expires=None,
        token=token,
        token_in_header=token is not None,
    )


def _auth_from_query(query: _Query, headers: _Headers, algorithm: str) -> _Auth:
    names = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders")
    values = {name: _query_param(query, name) for name in (*names, "X-Amz-Date")}
    missing = [
        f"AWS query-string parameters must include '{name}'."
        for name, value in values.items()
        if not value
    ]
    if missing:
        raise IncompleteSignature(" ".join(missing) + " Re-examine the query-string parameters.")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'.")
    token = _query_param(query, "X-Amz-Security-Token")
    header_token = _first(headers, "x-amz-security-token") if token is None else None
    return _Auth(
        presigned=True,
        credential=values["X-Amz-Credential"] or "",
        signed_headers=_signed_header_list(values["X-Amz-SignedHeaders"] or ""),
        signature=values["X-Amz-Signature"] or "",
        timestamp=values["X-Amz-Date"] or "",
        date_header=None,
        expires=_parse_expires(_query_param(query, "X-Amz-Expires")),
        token=token if token is not None else header_token,
        token_in_header=header_token is not None,
    )


def _signed_header_list(raw: str) -> tuple[str, ...]:
    return tuple(sorted({name.strip().lower() for name in raw.split(";") if name.strip()}))


def _parse_expires(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise IncompleteSignature("X-Amz-Expires should be a number")
    expires = int(raw)
    if expires > MAX_PRESIGNED_EXPIRES:
        raise IncompleteSignature(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES}"
        )
    return expires


def _parse_time(auth: _Auth) -> datetime:
    value = auth.timestamp
    if _BASIC_RE.fullmatch(value):
        try:
            return datetime.strptime(value, _BASIC_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            pass
    elif auth.date_header == "date":
        parsed = _parse_http_date(value)
        if parsed is not None:
            return parsed
    raise IncompleteSignature(
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _parse_http_date(value: str) -> datetime | None:
    match = _HTTP_DATE_RE.fullmatch(value)
    if match is None or match.group(2).lower() not in _MONTHS:
        return None
    day, month, year, hour, minute, second = match.groups()
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return datetime(
            full_year,
            _MONTHS.index(month.lower()) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _parse_scope(credential: str) -> _Scope:
    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    return _Scope(*parts)


# --------------------------------------------------------------------------- checks


def _skew_label(skew: timedelta) -> str:
    seconds = int(skew.total_seconds())
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def _check_clock(auth: _Auth, signed_at: datetime, now: datetime, max_skew: timedelta) -> None:
    label = _skew_label(max_skew)
    if signed_at > now + max_skew:
        raise SignatureNotYetCurrent(
            f"Signature not yet current: {_basic(signed_at)} is still later than "
            f"{_basic(now + max_skew)} ({_basic(now)} + {label})"
        )
    if auth.expires is not None:
        if now > signed_at + timedelta(seconds=auth.expires):
            raise SignatureExpired("Request has expired")
        return
    if signed_at < now - max_skew:
        raise SignatureExpired(
            f"Signature expired: {_basic(signed_at)} is now earlier than "
            f"{_basic(now - max_skew)} ({_basic(now)} - {label})"
        )


def _check_signed_headers(auth: _Auth, headers: _Headers) -> None:
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


def _check_scope(scope: _Scope, timestamp: str, region: str, service: str) -> None:
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


def _payload_hashes(request: SignedRequest, headers: _Headers, auth: _Auth) -> list[str]:
    """The payload hashes the signer may have used, most likely first."""
    body_hash = request.body_sha256.lower()
    declared = _first(headers, "x-amz-content-sha256")
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


def _check_signature(
    request: SignedRequest,
    headers: _Headers,
    auth: _Auth,
    scope: _Scope,
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
        canonical = _canonical_request(request, headers, auth, payload_hash)
        string_to_sign = "\n".join(
            (ALGORITHM, timestamp, scope.string(), hashlib.sha256(canonical.encode()).hexdigest())
        )
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode(), provided):
            return payload_hash != UNSIGNED_PAYLOAD
        first = first or (canonical, string_to_sign)
    assert first is not None
    raise SignatureMismatch(canonical_request=first[0], string_to_sign=first[1])


def _check_session_token(auth: _Auth, credential: Credential) -> None:
    expected = credential.session_token
    given = auth.token
    if expected is None and given is None:
        return
    if expected is None or given is None:
        raise UnrecognizedClient()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise UnrecognizedClient()
