"""PyPI version ordering: PEP 440 through `packaging`, with the pre-PEP 440 legacy scheme.

Strings that are not PEP 440 versions (`0.9-doduo`) use setuptools' old `LegacyVersion` key and
sort before every PEP 440 version, as pip did while it accepted them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_REPLACE = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def _legacy_parts(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    for raw in [*_LEGACY_PART.findall(text.lower()), "final"]:
        if raw in ("", "."):
            continue
        part = _LEGACY_REPLACE.get(raw, raw)
        part = part.zfill(8) if part[:1].isdigit() else "*" + part
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    return tuple(parts)


@lru_cache(maxsize=8192)
def _parse(text: str) -> Version | tuple[str, ...]:
    try:
        return Version(text)
    except _PackagingInvalid:
        return _legacy_parts(text)


def compare(a: str, b: str) -> int:
    """Order two PyPI versions: -1, 0 or 1."""
    left, right = _parse(a), _parse(b)
    if isinstance(left, Version) and isinstance(right, Version):
        return (left > right) - (left < right)
    if isinstance(left, Version):
        return 1
    if isinstance(right, Version):
        return -1
    return (left > right) - (left < right)
