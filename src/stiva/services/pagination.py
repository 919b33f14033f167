"""Opaque, tamper-proof pagination tokens (`nextToken`), valid on every node.

A token is base64url(JSON position) "." base64url(HMAC) under a deployment key kept in the
database, so a client cannot forge positions and any node can continue any listing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from stiva.errors import InvalidParameter


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_token(position: dict[str, Any], key: bytes) -> str:
    body = _b64(json.dumps(position, separators=(",", ":"), sort_keys=True).encode())
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:16])
    return f"{body}.{mac}"


def decode_token(token: str, key: bytes, *, kind: str) -> dict[str, Any]:
    """The position inside `token`; InvalidParameter if it was not issued for `kind` by us."""
    body, _, mac = token.partition(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:16])
    if not mac or not hmac.compare_digest(mac, expected):
        raise InvalidParameter(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: "
            "'the token is not valid'"
        )
    try:
        position = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidParameter("Invalid parameter at 'nextToken': malformed token") from None
    if not isinstance(position, dict) or position.get("kind") != kind:
        raise InvalidParameter(
            "Invalid parameter at 'nextToken': the token belongs to another operation or repository"
        )
    return position
