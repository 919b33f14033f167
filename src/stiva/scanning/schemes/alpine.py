"""APK (Alpine, Wolfi) version ordering.

A version is `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`. Suffix order is
alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p. After the first number, a component
with a leading zero compares as a string (apk's "fractional" rule). Strings that do not fit the
grammar still compare by the parts that do; two such strings compare as plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_NUMBERS = re.compile(r"(?:\d+\.?)*")
_LETTER = re.compile(r"[a-z]")
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
_HASH = re.compile(r"~[0-9a-f]+")
_BUILD = re.compile(r"-r(\d*)")
_SUFFIX_WEIGHT = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "": 4, "cvs": 5, "svn": 6, "git": 7}
_SUFFIX_WEIGHT |= {"hg": 8, "p": 9}
_NO_SUFFIX = (_SUFFIX_WEIGHT[""], 0)


@dataclass(frozen=True)
class _Apk:
    original: str
    numbers: tuple[str, ...]
    letter: str
    suffixes: tuple[tuple[int, int], ...]
    build: int
    remainder: str
    invalid: bool


@lru_cache(maxsize=8192)
def _parse(text: str) -> _Apk:
    pos = 0
    numbers_text = _NUMBERS.match(text, pos)
    assert numbers_text is not None  # the pattern matches the empty string
    numbers = tuple(part for part in numbers_text.group().split(".") if part)
    pos = numbers_text.end()
    letter = ""
    if m := _LETTER.match(text, pos):
        letter, pos = m.group(), m.end()
    suffixes: list[tuple[int, int]] = []
    while m := _SUFFIX.match(text, pos):
        suffixes.append((_SUFFIX_WEIGHT[m.group(1)], int(m.group(2) or 0)))
        pos = m.end()
    if m := _HASH.match(text, pos):
        pos = m.end()
    build, invalid = 0, False
    if pos < len(text):
        if m := _BUILD.match(text, pos):
            build, pos = int(m.group(1) or 0), m.end()
        else:
            invalid = True
    return _Apk(text, numbers, letter, tuple(suffixes), build, text[pos:], invalid)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def _compare_number(index: int, a: str, b: str) -> int:
    if index > 0 and (a.startswith("0") or b.startswith("0")):
        return _sign((a > b) - (a < b))
    return _sign(int(a) - int(b))


def _compare_numbers(a: _Apk, b: _Apk) -> int:
    for index in range(max(len(a.numbers), len(b.numbers))):
        left = a.numbers[index] if index < len(a.numbers) else "0"
        right = b.numbers[index] if index < len(b.numbers) else "0"
        if index >= len(a.numbers) or index >= len(b.numbers):
            diff = _sign(int(left) - int(right))
        else:
            diff = _compare_number(index, left, right)
        if diff:
            return diff
    return 0


def _compare_suffixes(a: _Apk, b: _Apk) -> int:
    for index in range(max(len(a.suffixes), len(b.suffixes))):
        left = a.suffixes[index] if index < len(a.suffixes) else _NO_SUFFIX
        right = b.suffixes[index] if index < len(b.suffixes) else _NO_SUFFIX
        if left != right:
            return -1 if left < right else 1
    return 0


def compare(a: str, b: str) -> int:
    """Order two APK versions: -1, 0 or 1."""
    left, right = _parse(a), _parse(b)
    if left.invalid and right.invalid:
        return (a > b) - (a < b)
    if diff := _compare_numbers(left, right):
        return diff
    if left.letter != right.letter:
        if not left.letter or not right.letter:
            return -1 if not left.letter else 1
        return -1 if left.letter < right.letter else 1
    if diff := _compare_suffixes(left, right):
        return diff
    if left.build != right.build:
        return -1 if left.build < right.build else 1
    if bool(left.remainder) != bool(right.remainder):
        return -1 if left.remainder else 1
    return 0
