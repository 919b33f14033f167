"""SemVer 2.0 precedence, via `univers` (lenient: a leading "v" and missing minor/patch accepted).

Build metadata is ignored; pre-release identifiers compare numerically when numeric, else as ASCII.
Used for OSV `SEMVER` ranges and for npm, crates.io and Go (whose versions carry a leading "v").
"""

from __future__ import annotations

from functools import lru_cache

from univers.versions import InvalidVersion as _UniversInvalid
from univers.versions import SemverVersion

from stiva.scanning.errors import InvalidVersion


@lru_cache(maxsize=8192)
def _parse(text: str) -> SemverVersion:
    try:
        return SemverVersion(text)
    except (_UniversInvalid, ValueError):
        raise InvalidVersion("SemVer", text) from None


def compare(a: str, b: str) -> int:
    """Order two semantic versions: -1, 0 or 1; InvalidVersion when either is not one."""
    left, right = _parse(a), _parse(b)
    return (left > right) - (left < right)
