"""Policy strings as templates: wildcards, policy variables, and glob matching that cannot blow up.

A policy string (an Action, a Resource ARN, a condition value) is parsed once into tokens:

    literal text   matched as written
    `*`            any run of characters (possibly empty)
    `?`            exactly one character
    `${key}`       a policy variable: the request's value of context key `key`
    `${key, 'd'}`  the same, with the default text `d` (`''` inside it is one quote)
    `${*}` `${?}` `${$}`   a literal `*`, `?`, `$`

Variables and the `${...}` escapes exist only in Version 2012-10-17 policies; in 2008-10-17
ones (and in Action elements) `${...}` is literal text, as in IAM.

Resolution (`Template.resolve`): a variable takes the value of its context key (names
case-insensitive) when the key has exactly one value; a missing or multi-valued key falls back to
the default; with neither, the string cannot be resolved and matches nothing. Substituted text is
literal: a `*` inside a value is not a wildcard.

Glob matching (`glob_regex`): a pattern `C0*C1*...*Cn` (chunks of literals and `?`) becomes the
regular expression `C0(?>.*?C1)...(?>.*?Cn-1).*Cn`. Each middle chunk is placed at its leftmost
possible position and the choice is never revisited (an atomic group); leftmost placement is
always safe for `*` patterns because it leaves the most text for what follows. The match is
therefore linear-ish in the text, whatever a policy author writes: no catastrophic
backtracking on hostile patterns such as `*a*a*a*a*b`.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, cast

# Context key values by lower-cased key name; absent keys are missing, never empty tuples.
KeyValues = Mapping[str, tuple[str, ...]]


class Wild(enum.Enum):
    STAR = "*"
    QMARK = "?"


@dataclass(frozen=True, slots=True)
class Var:
    """A policy variable: `key` lower-cased; `default` None when the policy gave none."""

    key: str
    default: str | None = None


Token = str | Wild | Var
Glob = tuple[str | Wild, ...]  # a resolved template: literals and wildcards only

_VARIABLE: Final = re.compile(r"\$\{([^{}]*)\}")
_VARIABLE_BODY: Final = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?", re.DOTALL)
_WILDCARDS: Final = re.compile(r"([*?])")
_ESCAPES: Final = frozenset({"*", "?", "$"})


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed policy string."""

    text: str
    tokens: tuple[Token, ...]

    @property
    def has_variables(self) -> bool:
        return any(isinstance(token, Var) for token in self.tokens)

    @property
    def is_star(self) -> bool:
        """Whether the string is just `*` (matches everything)."""
        return self.tokens == (Wild.STAR,)

    def resolve(self, keys: KeyValues) -> Glob | None:
        """The tokens with variables replaced by literal text; None if one cannot be resolved."""
        if not self.has_variables:
            return cast(Glob, self.tokens)
        resolved: list[str | Wild] = []
        for token in self.tokens:
            if isinstance(token, Var):
                value = _variable_value(token, keys)
                if value is None:
                    return None
                resolved.append(value)
            else:
                resolved.append(token)
        return cast(Glob, _merge(resolved))

    def literal(self, keys: KeyValues) -> str | None:
        """The resolved string with wildcards as plain characters (for StringEquals & co)."""
        glob = self.resolve(keys)
        if glob is None:
            return None
        return "".join(t.value if isinstance(t, Wild) else t for t in glob)


def _variable_value(var: Var, keys: KeyValues) -> str | None:
    values = keys.get(var.key)
    if values is not None and len(values) == 1:
        return values[0]
    return var.default


@functools.lru_cache(maxsize=8192)
def parse_template(text: str, *, variables: bool) -> Template:
    """Parse a policy string; `variables`: whether `${...}` is special (Version 2012-10-17)."""
    tokens: list[Token] = []
    position = 0
    if variables:
        for match in _VARIABLE.finditer(text):
            _add_wildcards(text[position : match.start()], tokens)
            tokens.append(_variable(match.group(1), match.group(0)))
            position = match.end()
    _add_wildcards(text[position:], tokens)
    return Template(text=text, tokens=_merge(tokens))


def _add_wildcards(text: str, tokens: list[Token]) -> None:
    for index, piece in enumerate(_WILDCARDS.split(text)):
        if index % 2:
            tokens.append(Wild(piece))
        elif piece:
            tokens.append(piece)


def _variable(body: str, raw: str) -> Token:
    if body in _ESCAPES:
        return body
    match = _VARIABLE_BODY.fullmatch(body)
    if match is None:
        return raw  # not a well-formed variable: IAM leaves such text alone
    name, default = match.group(1), match.group(2)
    return Var(key=name.lower(), default=None if default is None else default.replace("''", "'"))


def _merge(tokens: Sequence[Token]) -> tuple[Token, ...]:
    """Adjacent literals joined, runs of `*` collapsed to one."""
    merged: list[Token] = []
    for token in tokens:
        previous = merged[-1] if merged else None
        if isinstance(token, str) and isinstance(previous, str):
            merged[-1] = previous + token
        elif not (token is Wild.STAR and previous is Wild.STAR):
            merged.append(token)
    return tuple(merged)


def glob_source(glob: Glob) -> str:
    """The regular-expression source matching `glob` (see the module docstring)."""
    chunks: list[str] = [""]
    for token in glob:
        if token is Wild.STAR:
            chunks.append("")
        elif token is Wild.QMARK:
            chunks[-1] += "."
        else:
            chunks[-1] += re.escape(token)
    if len(chunks) == 1:
        return chunks[0]
    first, *middle, last = chunks
    return first + "".join(f"(?>.*?{chunk})" for chunk in middle if chunk) + ".*" + last


@functools.lru_cache(maxsize=8192)
def glob_regex(glob: Glob, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A compiled pattern to `fullmatch` against whole strings."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(glob_source(glob), flags)


def any_of_regex(globs: tuple[Glob, ...], *, ignore_case: bool = False) -> re.Pattern[str]:
    """One compiled pattern matching whatever any of `globs` matches (never matches if empty)."""
    if not globs:
        return re.compile(r"(?!)")
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("|".join(f"(?:{glob_source(glob)})" for glob in globs), flags)
