"""ARN matching as IAM does it: Resource / NotResource elements and the Arn* condition operators.

ARNs are `arn:partition:service:region:account:resource`; all comparisons are case-sensitive.

Resource elements (`ArnPattern`): wildcards may appear in any colon-separated segment; `*`
matches any run of characters and `?` one character, both within the segment (so they span `/`
in `repository/team/*`). A segment whose last character is `*` may expand beyond the colon
boundaries, IAM's documented rule: `arn:aws:ecr:*` covers every ECR ARN, and
`arn:aws:ecr:*:123456789012:repository/*` every repository of the account in any region. `*`
alone matches every resource, including the `*` of actions that have no resource. Matching
aligns pattern segments with ARN segments (one each, or one-or-more for a segment ending in
`*`), so hostile patterns cost little (see `stiva.iam.patterns`).

ArnEquals / ArnLike (`ArnLikePattern`, the two behave alike in IAM): the value and the pattern
are cut into their six components (the resource part keeps its colons) and each component is
compared separately, with `*` / `?` wildcards inside it; anything that is not a six-component
ARN matches nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from stiva.iam.patterns import Glob, Wild, glob_regex

ARN_COMPONENTS = 6


@dataclass(frozen=True, slots=True)
class _Segment:
    regex: re.Pattern[str]
    expands: bool  # ends with `*`: may absorb following segments of the ARN


@dataclass(frozen=True, slots=True)
class ArnPattern:
    """A compiled Resource / NotResource value."""

    segments: tuple[_Segment, ...]

    def matches(self, resource: str) -> bool:
        parts = resource.split(":")
        count = len(parts)
        if len(self.segments) == count:
            return all(
                segment.regex.fullmatch(part) is not None
                for segment, part in zip(self.segments, parts, strict=True)
            )
        if len(self.segments) > count:
            return False
        reachable = {0}  # ARN segments consumed so far, over the ways to align
        for segment in self.segments:
            following: set[int] = set()
            for start in reachable:
                if start < count and segment.regex.fullmatch(parts[start]) is not None:
                    following.update(
                        range(start + 1, count + 1) if segment.expands else (start + 1,)
                    )
            if not following:
                return False
            reachable = following
        return count in reachable


@functools.lru_cache(maxsize=4096)
def arn_pattern(glob: Glob) -> ArnPattern:
    """Compile a resolved Resource value."""
    return ArnPattern(
        segments=tuple(
            _Segment(regex=glob_regex(piece), expands=bool(piece) and piece[-1] is Wild.STAR)
            for piece in _split_at_colons(glob)
        )
    )


@dataclass(frozen=True, slots=True)
class ArnLikePattern:
    """A compiled ArnEquals / ArnLike value: one pattern per ARN component."""

    components: tuple[re.Pattern[str], ...]

    def matches(self, value: str) -> bool:
        parts = value.split(":", ARN_COMPONENTS - 1)
        return len(parts) == ARN_COMPONENTS and all(
            component.fullmatch(part) is not None
            for component, part in zip(self.components, parts, strict=True)
        )


@functools.lru_cache(maxsize=4096)
def arn_like_pattern(glob: Glob) -> ArnLikePattern | None:
    """Compile a resolved Arn* condition value; None if it is not a six-component ARN."""
    pieces = _split_at_colons(glob, limit=ARN_COMPONENTS - 1)
    if len(pieces) != ARN_COMPONENTS:
        return None
    return ArnLikePattern(components=tuple(glob_regex(piece) for piece in pieces))


def _split_at_colons(glob: Glob, *, limit: int = -1) -> list[Glob]:
    """`glob` cut at its literal colons (at most `limit` cuts when limit >= 0)."""
    pieces: list[list[str | Wild]] = [[]]
    for token in glob:
        if isinstance(token, Wild):
            pieces[-1].append(token)
            continue
        first, *rest = token.split(":", limit - len(pieces) + 1 if limit >= 0 else -1)
        if first:
            pieces[-1].append(first)
        for text in rest:
            pieces.append([text] if text else [])
    return [tuple(piece) for piece in pieces]


def account_of(arn: str) -> str | None:
    """The account component of an ARN (None if `arn` is not one or names no account)."""
    parts = arn.split(":", ARN_COMPONENTS - 1)
    if len(parts) != ARN_COMPONENTS or parts[0] != "arn" or not parts[4]:
        return None
    return parts[4]
