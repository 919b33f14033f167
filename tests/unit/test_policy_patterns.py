"""Policy strings (`stiva.iam.patterns`) and ARN matching (`stiva.iam.arn`): wildcards,
policy variables, IAM's Resource rules, and glob matching that hostile patterns cannot stall."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator

import pytest

from stiva.iam.arn import account_of, arn_like_pattern, arn_pattern
from stiva.iam.patterns import Glob, Var, Wild, glob_regex, parse_template

ACCOUNT = "111122223333"
REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app"
KEYS = {"aws:username": ("alice",), "aws:principalaccount": (ACCOUNT,), "aws:tagkeys": ("a", "b")}


def glob(text: str, *, variables: bool = True) -> Glob:
    resolved = parse_template(text, variables=variables).resolve(KEYS)
    assert resolved is not None
    return resolved


def resource_matches(pattern: str, resource: str, *, variables: bool = True) -> bool:
    return arn_pattern(glob(pattern, variables=variables)).matches(resource)


# --- templates ------------------------------------------------------------------------------


def test_template_tokens() -> None:
    template = parse_template("a**b?c${aws:UserName}${*}${?}${$}d", variables=True)
    assert template.tokens == ("a", Wild.STAR, "b", Wild.QMARK, "c", Var("aws:username"), "*?$d")
    assert template.has_variables
    assert not template.is_star
    assert parse_template("*", variables=True).is_star
    assert parse_template("${aws:x, 'de''f'}", variables=True).tokens == (Var("aws:x", "de'f"),)
    assert parse_template("${ aws:x , 'd' }", variables=True).tokens == (Var("aws:x", "d"),)


@pytest.mark.parametrize(
    "text", ["${aws:username", "${}", "${ }", "${a b}", "${key, default}", "$aws:username"]
)
def test_malformed_variables_are_literal_text(text: str) -> None:
    template = parse_template(text, variables=True)
    assert not template.has_variables
    assert template.literal({}) == text


def test_without_variables_dollar_braces_are_literal() -> None:
    template = parse_template("home/${aws:username}/${*}", variables=False)
    assert template.tokens == ("home/${aws:username}/${", Wild.STAR, "}")


def test_resolution() -> None:
    template = parse_template("home/${aws:username}/*", variables=True)
    assert template.resolve(KEYS) == ("home/alice/", Wild.STAR)
    assert template.resolve({}) is None  # no value, no default
    assert parse_template("${aws:TagKeys}", variables=True).resolve(KEYS) is None  # multi-valued
    assert parse_template("${aws:TagKeys, 'x'}", variables=True).resolve(KEYS) == ("x",)
    assert parse_template("a${aws:nothing, ''}b", variables=True).resolve({}) == ("ab",)
    assert parse_template("${*}*", variables=True).literal({}) == "**"


# --- glob matching ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("*", "", True),
        ("a*", "a", True),
        ("*ab*abc", "ababc", True),
        ("*ab*abc", "abab", False),
        ("a*b?c*d", "aXXbYcZd", True),
        ("a*b?c*d", "abcd", False),
        ("?*?", "x", False),
        ("?*?", "xy", True),
        ("*.json", "a.json", True),
        ("*.json", "ajson", False),
        ("(a|b)+", "(a|b)+", True),  # regex metacharacters are literal
        ("line*end", "line\nend", True),
    ],
)
def test_glob(pattern: str, text: str, expected: bool) -> None:
    assert (glob_regex(glob(pattern)).fullmatch(text) is not None) is expected


def test_glob_ignore_case() -> None:
    assert glob_regex(glob("ecr:Get*"), ignore_case=True).fullmatch("ECR:getimage")
    assert not glob_regex(glob("ecr:Get*")).fullmatch("ECR:getimage")


def test_hostile_patterns_finish() -> None:
    """A backtracking translation would take astronomically long on these (the test would hang
    until pytest-timeout); the atomic translation answers at once."""
    pattern = glob("*a" * 30 + "*b")
    assert glob_regex(pattern).fullmatch("a" * 5000) is None
    assert glob_regex(pattern).fullmatch("a" * 5000 + "b") is not None
    resource = "arn:aws:ecr:" + "*a" * 30 + "*:1:repository/b"
    assert not resource_matches(resource, "arn:aws:ecr:" + "a" * 3000 + ":1:repository/c")


@functools.cache
def _reference(pattern: str, text: str) -> bool:
    """Plain recursive glob semantics, for comparison."""
    if not pattern:
        return not text
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return any(_reference(rest, text[i:]) for i in range(len(text) + 1))
    return bool(text) and head in ("?", text[0]) and _reference(rest, text[1:])


def _strings(alphabet: str, longest: int) -> Iterator[str]:
    for size in range(longest + 1):
        yield from map("".join, itertools.product(alphabet, repeat=size))


def test_glob_agrees_with_the_reference_on_every_small_case() -> None:
    wrong = [
        (pattern, text)
        for pattern in _strings("ab*?", 4)
        for text in _strings("ab", 5)
        if (glob_regex(glob(pattern)).fullmatch(text) is not None) is not _reference(pattern, text)
    ]
    assert not wrong


def _literal_arn_regex(pattern: str) -> re.Pattern[str]:
    """IAM's Resource rule read literally: `*` stays within its colon segment unless it ends it."""
    out = ""
    for index, char in enumerate(pattern):
        if char == "*":
            last = index + 1 == len(pattern) or pattern[index + 1] == ":"
            out += ".*" if last else "[^:]*"
        elif char == "?":
            out += "[^:]"
        else:
            out += re.escape(char)
    return re.compile(out, re.DOTALL)


def test_resource_matching_agrees_with_the_literal_rule_on_every_small_case() -> None:
    wrong = [
        (pattern, resource)
        for pattern in _strings("a:*?", 4)
        for resource in _strings("a:", 5)
        if resource_matches(pattern, resource, variables=False)
        is not (_literal_arn_regex(pattern).fullmatch(resource) is not None)
    ]
    assert not wrong


# --- Resource elements --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        (REPO, REPO, True),
        ("*", REPO, True),
        ("*", "*", True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*", REPO, True),  # `*` spans `/`
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/*", REPO, True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team", REPO, False),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/other/*", REPO, False),
        (f"arn:aws:ecr:*:{ACCOUNT}:repository/*", REPO, True),
        ("arn:aws:ecr:*:*:repository/*", REPO, True),
        ("arn:aws:ecr:*:999999999999:repository/*", REPO, False),
        ("arn:aws:ecr:us-west-2:*:repository/*", REPO, False),
        ("arn:aws:ecr:us-*-1:*:repository/*", REPO, True),
        ("arn:aws:ecr:us-????-1:*:repository/*", REPO, True),
        ("arn:aws:ecr:us-???-1:*:repository/*", REPO, False),
        ("arn:aws:ecr:*", REPO, True),  # a final `*` expands over the colons
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:*", REPO, True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repo*", REPO, True),
        ("arn:aws:s3:::*", REPO, False),
        ("arn:aws:ecr:us-east-1", REPO, False),  # a prefix is not a match
        ("arn:aws:ecr:us-*:repository/team/app", REPO, True),  # `us-*` expands too
        ("arn:aws:ecr:u*st-1:*:repository/team/app", REPO, True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/Team/App", REPO, False),  # case-sensitive
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app", "*", False),
        ("arn:aws:ecr:*", "*", False),
    ],
)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    assert resource_matches(pattern, resource) is expected


def test_resource_variables() -> None:
    mine = "arn:aws:ecr:*:${aws:PrincipalAccount}:repository/${aws:username}/*"
    assert resource_matches(mine, f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/alice/web")
    assert not resource_matches(mine, f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/bob/web")
    assert not resource_matches(mine, "arn:aws:ecr:eu-west-1:999999999999:repository/alice/web")


# --- ArnLike and helpers ---------------------------------------------------------------------


def test_arn_like_needs_six_components() -> None:
    assert arn_like_pattern(glob("arn:aws:iam::*:root")) is not None
    assert arn_like_pattern(glob("arn:aws:iam::*")) is None
    assert arn_like_pattern(glob("*")) is None
    pattern = arn_like_pattern(glob("arn:aws:logs:*:*:log-group:*"))
    assert pattern is not None
    assert pattern.matches("arn:aws:logs:eu-west-1:1:log-group:a:b")
    assert not pattern.matches("arn:aws:logs:eu-west-1:1")


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        (REPO, ACCOUNT),
        (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT),
        ("arn:aws:s3:::bucket", None),
        ("*", None),
        ("not:an:arn:at:all:x", None),
    ],
)
def test_account_of(arn: str, account: str | None) -> None:
    assert account_of(arn) == account
