"""IAM's identifiers and listings: ARNs, unique ids, names, paths and Marker pagination.

ARNs: `arn:aws:iam::<account>:<kind><path><name>` for users, groups, roles and customer
managed policies (`kind` is `user`, `group`, `role` or `policy`; the path starts and ends with
`/`); AWS managed policies are `arn:aws:iam::aws:policy<path><name>`. Unique ids are four
letters that say what they name and 17 more (AIDA user, AGPA group, AROA role, ANPA policy),
made by `stiva.services.identity.new_unique_id`.

Listings are sorted by a position string (names lower-cased: IAM names are case-insensitive)
and paginated with `MaxItems` and an opaque, signed `Marker` naming the last position served.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import InstrumentedAttribute

from stiva.errors import InvalidParameter
from stiva.services.iam.errors import InvalidInput
from stiva.services.pagination import decode_token, encode_token

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100
USER_PREFIX = "AIDA"
GROUP_PREFIX = "AGPA"
ROLE_PREFIX = "AROA"
POLICY_PREFIX = "ANPA"


def iam_arn(account_id: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def same_name(column: InstrumentedAttribute[str], name: str) -> ColumnElement[bool]:
    """IAM compares names regardless of case."""
    return func.lower(column) == name.lower()


def under_path(path: str, prefix: str | None) -> bool:
    return prefix is None or path.startswith(prefix)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; `marker` continues it (None when this is the last page)."""

    items: list[T]
    marker: str | None

    @property
    def is_truncated(self) -> bool:
        return self.marker is not None


def paginate(
    items: Sequence[T],
    *,
    position: Callable[[T], str],
    marker: str | None,
    max_items: int | None,
    key: bytes,
    kind: str,
) -> Page[T]:
    """The page of `items` (sorted by `position`) after `marker`, at most `max_items` long."""
    after = _after(marker, key, kind) if marker else None
    remaining = [item for item in items if after is None or position(item) > after]
    limit = max_items or DEFAULT_MAX_ITEMS
    chunk = remaining[:limit]
    if len(remaining) <= limit:
        return Page(chunk, None)
    return Page(chunk, encode_token({"kind": kind, "after": position(chunk[-1])}, key))


def _after(marker: str, key: bytes, kind: str) -> str:
    try:
        position = decode_token(marker, key, kind=kind)
    except InvalidParameter:
        raise InvalidInput("Invalid Marker.") from None
    return str(position.get("after", ""))
