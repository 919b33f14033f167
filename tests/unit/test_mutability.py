"""Tag mutability with exclusion filters."""

from __future__ import annotations

import pytest

from stiva.services.mutability import is_immutable, matches_any


@pytest.mark.parametrize(
    ("mutability", "filters", "tag", "immutable"),
    [
        ("MUTABLE", [], "v1", False),
        ("IMMUTABLE", [], "latest", True),
        ("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"], "latest", False),
        ("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"], "dev-42", False),
        ("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"], "v1.0", True),
        ("MUTABLE_WITH_EXCLUSION", ["release-*"], "release-1", True),
        ("MUTABLE_WITH_EXCLUSION", ["release-*"], "nightly", False),
    ],
)
def test_is_immutable(mutability: str, filters: list[str], tag: str, immutable: bool) -> None:
    assert is_immutable(mutability, filters, tag) is immutable


@pytest.mark.parametrize(
    ("tag", "filters", "expected"),
    [
        ("v1.2", ["v1.*"], True),
        ("v1x2", ["v1.*"], False),  # '.' is literal, only '*' is a wildcard
        ("abc", ["*"], True),
        ("a-b-c", ["a*c"], True),
        ("a-b-cd", ["a*c"], False),  # anchored at both ends
        ("prod", ["*prod*", "x"], True),
    ],
)
def test_wildcards(tag: str, filters: list[str], expected: bool) -> None:
    assert matches_any(tag, filters) is expected
