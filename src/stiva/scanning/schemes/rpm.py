"""RPM version ordering (`rpmvercmp` on epoch, version and release).

`[epoch:]version[-release]`: the epoch is the part before the first colon when it is all digits
(0 when absent). Each part compares by alternating runs of digits and letters, separators skipped;
`~` sorts before anything (pre-releases), `^` after the base but before any other addition.
"""

from __future__ import annotations

from functools import lru_cache


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _is_alpha(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z")


def _skip_separators(text: str, pos: int) -> int:
    while pos < len(text) and not (_is_digit(text[pos]) or _is_alpha(text[pos])):
        if text[pos] in "~^":
            break
        pos += 1
    return pos


def _run(text: str, pos: int, digits: bool) -> int:
    test = _is_digit if digits else _is_alpha
    while pos < len(text) and test(text[pos]):
        pos += 1
    return pos


def _leading_mark(a: str, i: int, b: str, j: int) -> tuple[bool, int | None]:
    """(both lead with the same ~ or ^, the outcome when only one of them does)."""
    for mark in "~^":
        at_a = i < len(a) and a[i] == mark
        at_b = j < len(b) and b[j] == mark
        if at_a and at_b:
            return True, None
        if mark == "~" and (at_a or at_b):
            return False, -1 if at_a else 1
        if at_a:
            return False, 1 if j == len(b) else -1
        if at_b:
            return False, -1 if i == len(a) else 1
    return False, None


def _compare_runs(x: str, y: str, digits: bool) -> int:
    if digits:
        x, y = x.lstrip("0"), y.lstrip("0")
        if len(x) != len(y):
            return -1 if len(x) < len(y) else 1
    return (x > y) - (x < y)


def rpmvercmp(a: str, b: str) -> int:
    """Compare one part (epoch, version or release) the way rpm does."""
    if a == b:
        return 0
    i = j = 0
    while True:
        i, j = _skip_separators(a, i), _skip_separators(b, j)
        both, outcome = _leading_mark(a, i, b, j)
        if outcome is not None:
            return outcome
        if both:
            i, j = i + 1, j + 1
            continue
        if i == len(a) or j == len(b):
            break
        digits = _is_digit(a[i])
        end_a, end_b = _run(a, i, digits), _run(b, j, digits)
        if end_b == j:
            return 1 if digits else -1
        if diff := _compare_runs(a[i:end_a], b[j:end_b], digits):
            return diff
        i, j = end_a, end_b
    rest_a, rest_b = len(a) - i, len(b) - j
    return (rest_a > rest_b) - (rest_a < rest_b)


@lru_cache(maxsize=8192)
def split_evr(text: str) -> tuple[str, str, str]:
    """(epoch, version, release); the release keeps its leading '-' so "1" < "1-"."""
    epoch, colon, rest = text.partition(":")
    if not colon or not (epoch.isascii() and epoch.isdigit()):
        epoch, rest = "0", text
    version, hyphen, release = rest.partition("-")
    return epoch, version, hyphen + release


def _compare_part(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a or not b:
        return -1 if not a else 1
    return rpmvercmp(a, b)


def compare(a: str, b: str) -> int:
    """Order two RPM `[epoch:]version[-release]` strings: -1, 0 or 1."""
    for left, right in zip(split_evr(a), split_evr(b), strict=True):
        if diff := _compare_part(left, right):
            return diff
    return 0
