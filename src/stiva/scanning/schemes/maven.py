"""Maven version ordering (`ComparableVersion`).

The string is cut at '.', '-' and at every digit/non-digit transition (a transition counts as '-').
Each token keeps the separator before it. `ga`, `final` and `release` mean the empty qualifier, `cr`
means `rc`, and `a`/`b`/`m` directly followed by digits mean alpha/beta/milestone. Trailing null
tokens (0, empty) are dropped before each '-'. Padding compares as 0 after '.', empty after '-'.
Qualifier order: alpha < beta < milestone < rc < snapshot < "" < sp < anything else (lexically).
Between separators: ".qualifier" < "-qualifier" < "-number" < ".number".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_KEYWORDS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"cr": "rc", "ga": "", "final": "", "release": ""}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_TRANSITION = re.compile(r"(?<=\D)(?=\d)|(?<=\d)(?=\D)")


@dataclass(frozen=True)
class _Token:
    prefix: str
    value: str
    null: bool = False

    @property
    def numeric(self) -> bool:
        return self.value.isascii() and self.value.isdigit()


def _normalise(raw: str, followed_by_digits: bool) -> str:
    value = raw.lower() or "0"
    value = _ALIASES.get(value, value)
    if followed_by_digits:
        value = _SHORT.get(value, value)
    if value.isascii() and value.isdigit():
        value = str(int(value))
    return value


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    parts = re.split(r"([.-])", text)
    for index in range(0, len(parts), 2):
        prefix = parts[index - 1] if index else ""
        pieces = _TRANSITION.split(parts[index])
        for position, piece in enumerate(pieces):
            followed = position + 1 < len(pieces)
            tokens.append(_Token(prefix if position == 0 else "-", _normalise(piece, followed)))
    return tokens


def _trim(tokens: list[_Token]) -> list[_Token]:
    index = len(tokens) - 1
    while index > 0:
        if tokens[index].value in ("0", ""):
            del tokens[index]
            index -= 1
            continue
        while index >= 0 and tokens[index].prefix != "-":
            index -= 1
        index -= 1
    return tokens


@lru_cache(maxsize=8192)
def _parse(text: str) -> tuple[_Token, ...]:
    return tuple(_trim(_tokens(text)))


def _separator_rank(token: _Token) -> int:
    if token.numeric:
        return 2 if token.prefix == "-" else 3
    return 1 if token.prefix == "-" else 0


def _keyword_rank(value: str) -> int:
    return _KEYWORDS.index(value) if value in _KEYWORDS else len(_KEYWORDS)


def _less(a: _Token, b: _Token) -> bool:
    if a.prefix != b.prefix:
        return _separator_rank(a) < _separator_rank(b)
    if a.numeric and b.numeric:
        return int(a.value) < int(b.value)
    if a.numeric and not a.null:
        return False
    if b.numeric and not b.null:
        return True
    rank_a, rank_b = _keyword_rank(a.value), _keyword_rank(b.value)
    if rank_a == rank_b == len(_KEYWORDS):
        return a.value < b.value
    return rank_a < rank_b


def _padding(other: _Token) -> _Token:
    if other.prefix == "-":
        return _Token("-", "", null=True)
    return _Token(".", "" if other.value == "sp" else "0", null=True)


def compare(a: str, b: str) -> int:
    """Order two Maven versions: -1, 0 or 1."""
    left, right = _parse(a), _parse(b)
    if left == right:
        return 0
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else _padding(right[index])
        y = right[index] if index < len(right) else _padding(left[index])
        if (x.prefix, x.value) == (y.prefix, y.value):
            continue
        return -1 if _less(x, y) else 1
    return 0
