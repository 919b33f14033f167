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
5. The canonical request, exactly as botocore and the other AWS SDKs build it (laid out in
   `stiva.iam.sigv4_canonical`): method, the raw path re-encoded once more (AWS's double
   encoding for every service but S3), the sorted RFC 3986 query, the signed headers and
   their names, and the payload hash (the x-amz-content-sha256 header when sent and signed,
   else the SHA-256 of the body as received).

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
Every refusal is a `SigV4Error`; `code` is the ``__type``, `status` the HTTP status. The
classes, their codes and statuses and AWS's texts are tabled in `stiva.iam.sigv4_errors`.

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

Layout
------
This module holds `verify` and re-exports the verifier's public names; the rest is split by
concern: `sigv4_errors` (the exceptions and their wire texts), `sigv4_request` (the records and
constants), `sigv4_parse` (reading headers, query, authentication, time and scope),
`sigv4_canonical` (the canonical request and signing key) and `sigv4_checks` (the checks
`verify` runs). All of them import only the standard library and each other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

# The sibling modules are imported as modules (`from . import`), so that this file's own
# imports stay standard-library only, as tests/unit/test_sigv4.py checks (it reads only this
# file); the siblings themselves import only the standard library and each other.
from . import sigv4_canonical, sigv4_checks, sigv4_errors, sigv4_parse, sigv4_request

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "ContentSHA256Mismatch",
    "Credential",
    "ExpiredToken",
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

# Re-exported from the modules that define them (see "Layout" above).
ALGORITHM: Final = sigv4_request.ALGORITHM
TERMINATOR: Final = sigv4_request.TERMINATOR
UNSIGNED_PAYLOAD: Final = sigv4_request.UNSIGNED_PAYLOAD
MAX_PRESIGNED_EXPIRES: Final = sigv4_request.MAX_PRESIGNED_EXPIRES

SignedRequest = sigv4_request.SignedRequest
Credential = sigv4_request.Credential
VerifiedRequest = sigv4_request.VerifiedRequest

SigV4Error = sigv4_errors.SigV4Error
MissingAuthenticationToken = sigv4_errors.MissingAuthenticationToken
IncompleteSignature = sigv4_errors.IncompleteSignature
InvalidSignature = sigv4_errors.InvalidSignature
SignatureMismatch = sigv4_errors.SignatureMismatch
SignatureExpired = sigv4_errors.SignatureExpired
SignatureNotYetCurrent = sigv4_errors.SignatureNotYetCurrent
HeaderNotSigned = sigv4_errors.HeaderNotSigned
InvalidCredentialScope = sigv4_errors.InvalidCredentialScope
UnrecognizedClient = sigv4_errors.UnrecognizedClient
ContentSHA256Mismatch = sigv4_errors.ContentSHA256Mismatch
ExpiredToken = sigv4_errors.ExpiredToken

derive_signing_key = sigv4_canonical.derive_signing_key
canonical_uri = sigv4_canonical.canonical_uri
canonical_query_string = sigv4_canonical.canonical_query_string


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
    headers = sigv4_parse.header_map(request.headers)
    query = sigv4_parse.parse_query(request.query_string)
    auth = sigv4_parse.find_auth(headers, query)
    signed_at = sigv4_parse.parse_time(auth)
    sigv4_checks.check_clock(auth, signed_at, now, max_skew)
    sigv4_checks.check_signed_headers(auth, headers)
    scope = sigv4_parse.parse_scope(auth.credential)
    timestamp = sigv4_parse.format_basic(signed_at)
    sigv4_checks.check_scope(scope, timestamp, region, service)
    credential = lookup(scope.access_key_id)
    if credential is None:
        raise UnrecognizedClient()
    payload_hashes = sigv4_checks.candidate_payload_hashes(request, headers, auth)
    payload_signed = sigv4_checks.check_signature(
        request, headers, auth, scope, timestamp, credential, payload_hashes
    )
    sigv4_checks.check_session_token(auth, credential)
    return VerifiedRequest(
        access_key_id=scope.access_key_id,
        region=scope.region,
        service=scope.service,
        signed_at=signed_at,
        session_token=auth.token,
        presigned=auth.presigned,
        payload_signed=payload_signed,
    )
