"""Debian (dpkg) version ordering, via `univers`: `[epoch:]upstream[-revision]`, `~` sorts first."""

from __future__ import annotations

from functools import lru_cache

from univers.versions import DebianVersion
from univers.versions import InvalidVersion as _UniversInvalid

from stiva.scanning.errors import InvalidVersion


@lru_cache(maxsize=8192)
def _parse(text: str) -> DebianVersion:
    try:
        return DebianVersion(text)
    except (_UniversInvalid, ValueError):
        raise InvalidVersion("Debian", text) from None


def compare(a: str, b: str) -> int:
    """Order two Debian versions: -1, 0 or 1; InvalidVersion for strings dpkg would refuse."""
    left, right = _parse(a), _parse(b)
    return (left > right) - (left < right)
