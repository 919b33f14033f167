"""RubyGems version ordering (`Gem::Version#<=>`).

Hyphens mean ".pre."; the string splits into runs of digits and letters. Trailing zeros of the
release part and of the pre-release part are dropped; a letter segment sorts before any number,
and letter segments compare as bytes.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE)
Segment = int | str


def _drop_trailing_zeros(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


@lru_cache(maxsize=8192)
def canonical_segments(text: str) -> tuple[Segment, ...]:
    """The segments `Gem::Version` compares, after its canonicalisation."""
    raw = text.strip().replace("-", ".pre.")
    segments: list[Segment] = [
        int(part) if part.isdigit() else part for part in _SEGMENT.findall(raw)
    ]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    release = _drop_trailing_zeros(segments[:first_string])
    prerelease = _drop_trailing_zeros(segments[first_string:])
    return tuple(release + prerelease)


def _compare_segment(a: Segment, b: Segment) -> int:
    if isinstance(a, str) and isinstance(b, int):
        return -1
    if isinstance(a, int) and isinstance(b, str):
        return 1
    return (a > b) - (a < b)  # type: ignore[operator]  # same type here


def compare(a: str, b: str) -> int:
    """Order two gem versions: -1, 0 or 1."""
    left, right = canonical_segments(a), canonical_segments(b)
    if left == right:
        return 0
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else 0
        y = right[index] if index < len(right) else 0
        if x != y:
            return _compare_segment(x, y)
    return 0
