"""Java regular expressions, as botocore's ECR model spells its `pattern`s, for Python's `re`.

The model's patterns are Java regular expressions, matched in full (`Pattern.matches`); e.g.
"Bad_Name" must fail the repository-name pattern although a substring matches.
`translate_java_regex` maps the Java-only syntax to Python's `re` (`\\Q...\\E`, `\\z`, `\\Z`,
POSIX `\\p{...}` classes), patterns compile with `re.ASCII` (Java's `\\w`, `\\d`, `\\s` are
ASCII) and anything Python would read differently (nested classes, `&&`) is refused at load.
Both functions are re-exported by `stiva.api.ecr.model`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Final

__all__ = ["compile_java_regex", "translate_java_regex"]

_POSIX_CLASSES: Final[Mapping[str, str]] = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Graph": "\\x21-\\x7e",
    "Print": "\\x20-\\x7e",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}


def _translate_quote(pattern: str, start: int, in_class: bool) -> tuple[str, int]:
    """`\\Q...\\E`: everything up to `\\E` (or the end) is literal."""
    end = pattern.find("\\E", start)
    literal = pattern[start:] if end < 0 else pattern[start:end]
    after = len(pattern) if end < 0 else end + 2
    if in_class:
        return "".join(re.escape(ch) for ch in literal), after
    return re.escape(literal), after


def _translate_property(pattern: str, start: int, negated: bool, in_class: bool) -> tuple[str, int]:
    """`\\p{Name}` / `\\P{Name}` for the POSIX classes Java defines over US-ASCII."""
    if pattern.startswith("{", start):
        end = pattern.find("}", start)
        if end < 0:
            raise ValueError(f"unclosed \\p{{ in {pattern!r}")
        name, after = pattern[start + 1 : end], end + 1
    else:
        name, after = pattern[start : start + 1], start + 1
    name = name.removeprefix("Is")
    if name not in _POSIX_CLASSES:
        raise ValueError(f"unsupported Java property class \\p{{{name}}} in {pattern!r}")
    ranges = _POSIX_CLASSES[name]
    if in_class:
        if negated:
            raise ValueError(f"\\P inside a character class is unsupported in {pattern!r}")
        return ranges, after
    return f"[{'^' if negated else ''}{ranges}]", after


def _translate_escape(pattern: str, index: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape starting at `pattern[index] == '\\\\'`; return (text, next index)."""
    if index + 1 >= len(pattern):
        raise ValueError(f"trailing backslash in {pattern!r}")
    letter = pattern[index + 1]
    if letter == "Q":
        return _translate_quote(pattern, index + 2, in_class)
    if letter in "pP":
        return _translate_property(pattern, index + 2, letter == "P", in_class)
    if letter == "z" and not in_class:
        return "\\Z", index + 2
    if letter == "Z" and not in_class:
        return "(?=\\n?\\Z)", index + 2
    return pattern[index : index + 2], index + 2


def translate_java_regex(pattern: str) -> str:
    """Rewrite a Java regular expression as one Python's `re` reads the same way.

    Handles `\\Q...\\E`, `\\z`, `\\Z` and `\\p{...}` POSIX classes; refuses Java's class
    union (`[a[b]]`) and intersection (`&&`), which Python would read differently. Everything
    else in the model's patterns means the same in both (Python 3.11 also has possessive
    quantifiers and atomic groups). Compile the result with `re.ASCII`.
    """
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            text, index = _translate_escape(pattern, index, in_class)
            out.append(text)
            continue
        if in_class and (char == "[" or pattern.startswith("&&", index)):
            raise ValueError(f"Java character-class union/intersection in {pattern!r}")
        if char == "[" and not in_class:
            in_class = True
            # A `]` (after an optional `^`) right after `[` is a literal in both dialects.
            lead = 2 if pattern.startswith("^]", index + 1) else 1
            lead += 1 if pattern.startswith("]", index + lead) else 0
            out.append(pattern[index : index + lead])
            index += lead
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


def compile_java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern for full-match use; raise ValueError if it cannot be faithful."""
    translated = translate_java_regex(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return re.compile(translated, re.ASCII)
        except (re.error, FutureWarning, DeprecationWarning) as exc:
            raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
