"""Reading a SigV4 request (`stiva.iam.sigv4`): headers, query, authentication, time, scope.

`find_auth` takes the authentication from an ``Authorization: AWS4-HMAC-SHA256 ...`` header
or from a presigned URL's ``X-Amz-*`` query parameters (refusing both at once), `parse_time`
reads ``X-Amz-Date`` or ``Date`` and `parse_scope` splits the credential scope; every
malformed part raises `IncompleteSignature` (or `MissingAuthenticationToken` /
`InvalidSignature`) with AWS's text. The helpers read the request's raw headers and query
string the way the canonical request (`stiva.iam.sigv4_canonical`) needs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final
from urllib.parse import unquote_to_bytes

from stiva.iam.sigv4_errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken
from stiva.iam.sigv4_request import ALGORITHM, MAX_PRESIGNED_EXPIRES, Auth, Headers, Query, Scope

__all__ = [
    "decode",
    "find_auth",
    "first_header",
    "format_basic",
    "header_map",
    "parse_query",
    "parse_scope",
    "parse_time",
]

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


def decode(raw: str) -> str:
    return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8", errors="replace")


def parse_query(raw_query: str) -> Query:
    pairs: Query = []
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def _query_param(query: Query, name: str) -> str | None:
    for raw_name, raw_value in query:
        if decode(raw_name) == name:
            return decode(raw_value)
    return None


def header_map(headers: Sequence[tuple[str, str]]) -> Headers:
    result: Headers = {}
    for name, value in headers:
        result.setdefault(name.strip().lower(), []).append(value)
    return result


def first_header(headers: Headers, name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def format_basic(moment: datetime) -> str:
    return moment.strftime(_BASIC_FORMAT)


def find_auth(headers: Headers, query: Query) -> Auth:
    authorization = first_header(headers, "authorization")
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


def _auth_from_header(authorization: str, headers: Headers) -> Auth:
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
    timestamp = first_header(headers, date_header)
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
    token = first_header(headers, "x-amz-security-token")
    return Auth(
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


def _auth_from_query(query: Query, headers: Headers, algorithm: str) -> Auth:
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
    header_token = first_header(headers, "x-amz-security-token") if token is None else None
    return Auth(
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


def parse_time(auth: Auth) -> datetime:
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


def parse_scope(credential: str) -> Scope:
    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    return Scope(*parts)
