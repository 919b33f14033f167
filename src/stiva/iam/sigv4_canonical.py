"""The canonical forms of SigV4 (`stiva.iam.sigv4`), exactly as botocore and the AWS SDKs build
them: the canonical URI, query string, headers and request, and the signing key.

The canonical request is::

    <method>
    <canonical URI>       the raw path, dot segments and empty segments removed, then
                          URI-encoded once more (everything but A-Za-z0-9 -_.~ and "/"),
                          so "%20" on the wire becomes "%2520": the double encoding AWS
                          uses for every service but S3
    <canonical query>     every name=value pair (X-Amz-Signature left out when presigned),
                          each side percent-decoded ("+" read as a space) and re-encoded per
                          RFC 3986, sorted by name then value; empty values kept
    <canonical headers>   one "name:value" line per signed header, lowercased names,
                          values trimmed and inner whitespace runs collapsed to one
                          space, repeated headers joined with ","
    <blank line>
    <signed headers>      the lowercased names, sorted, joined with ";"
    <payload hash>        the x-amz-content-sha256 header when sent and signed, else the
                          SHA-256 of the body as received (`stiva.iam.sigv4_checks`)

The signing key is the HMAC-SHA256 chain ``"AWS4" + secret`` -> date -> region -> service ->
``"aws4_request"``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final
from urllib.parse import quote, unquote_to_bytes

from stiva.iam.sigv4_parse import decode, parse_query
from stiva.iam.sigv4_request import TERMINATOR, Auth, Headers, SignedRequest

__all__ = [
    "canonical_query_string",
    "canonical_request",
    "canonical_uri",
    "derive_signing_key",
]

_RFC3986_UNRESERVED: Final = "-_.~"


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
        for name, value in parse_query(raw_query)
        if not (exclude_signature and decode(name) == "X-Amz-Signature")
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


def _canonical_headers(headers: Headers, signed: Sequence[str]) -> str:
    lines = [
        f"{name}:{','.join(' '.join(value.split()) for value in headers[name])}\n"
        for name in signed
        if name in headers
    ]
    return "".join(lines)


def canonical_request(
    request: SignedRequest, headers: Headers, auth: Auth, payload_hash: str
) -> str:
    """The canonical request, signed over `payload_hash`."""
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
