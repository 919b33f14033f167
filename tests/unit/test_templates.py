"""Template matching, mutability settings and resource-tag rules: pure logic, no database."""

from __future__ import annotations

import json

import pytest

from stiva.errors import InvalidParameter, InvalidTagParameter, TooManyTags
from stiva.metadata import models as m
from stiva.services.repositories import mutability_exclusions
from stiva.services.tags import check_count, check_tags, parse_repository_arn
from stiva.services.templates import canonical_prefix, choose_template, covers


def template(prefix: str, *purposes: str) -> m.RepositoryCreationTemplate:
    return m.RepositoryCreationTemplate(
        account_id="123456789012", prefix=prefix, applied_for=json.dumps(list(purposes))
    )


@pytest.mark.parametrize(
    ("prefix", "name", "covered"),
    [
        ("prod", "prod/app", True),
        ("prod/", "prod/app", True),
        ("prod", "prod/team/app", True),
        ("prod", "prod", False),  # a trailing '/' is implied
        ("prod", "production/app", False),
        ("prod/team", "prod/team/app", True),
        ("prod/team", "prod/teamx/app", False),
        ("ROOT", "anything", True),
        ("ROOT", "a/b/c", True),
    ],
)
def test_covers(prefix: str, name: str, covered: bool) -> None:
    assert covers(prefix, name) is covered


def test_canonical_prefix() -> None:
    assert canonical_prefix("prod/") == "prod"
    assert canonical_prefix("prod") == "prod"
    assert canonical_prefix("ROOT") == "ROOT"


def test_longest_prefix_for_the_purpose_wins() -> None:
    templates = [
        template("ROOT", "CREATE_ON_PUSH"),
        template("a", "CREATE_ON_PUSH", "REPLICATION"),
        template("a/b/", "CREATE_ON_PUSH"),
        template("a/b/c", "REPLICATION"),
    ]

    def chosen(name: str, purpose: str = "CREATE_ON_PUSH") -> str | None:
        found = choose_template(templates, name=name, purpose=purpose)
        return None if found is None else found.prefix

    assert chosen("a/b/c/d") == "a/b/"  # a/b/c is not applied for pushes
    assert chosen("a/b/c/d", "REPLICATION") == "a/b/c"
    assert chosen("a/x") == "a"
    assert chosen("z/x") == "ROOT"
    assert chosen("z/x", "REPLICATION") is None  # ROOT is not applied for replication
    assert chosen("z/x", "PULL_THROUGH_CACHE") is None


def test_no_templates_no_choice() -> None:
    assert choose_template([], name="a/b", purpose="CREATE_ON_PUSH") is None


@pytest.mark.parametrize(
    ("mutability", "filters", "stored"),
    [
        ("MUTABLE", None, None),
        ("IMMUTABLE", None, None),
        ("IMMUTABLE_WITH_EXCLUSION", ["latest"], '["latest"]'),
        ("MUTABLE_WITH_EXCLUSION", ["a*", "b"], '["a*", "b"]'),
    ],
)
def test_mutability_settings(
    mutability: str, filters: list[str] | None, stored: str | None
) -> None:
    assert mutability_exclusions(mutability, filters) == stored


@pytest.mark.parametrize(
    ("mutability", "filters", "fragment"),
    [
        ("IMMUTABLE_WITH_EXCLUSION", None, "can't be null when imageTagMutability is set as"),
        ("MUTABLE_WITH_EXCLUSION", [], "can't be null"),
        ("MUTABLE", ["x"], "are not allowed when imageTagMutability is set as MUTABLE"),
        ("IMMUTABLE", ["x"], "are not allowed when imageTagMutability is set as IMMUTABLE"),
        ("SOMETIMES", None, "enum value set"),
    ],
)
def test_mutability_refusals(mutability: str, filters: list[str] | None, fragment: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        mutability_exclusions(mutability, filters)
    assert fragment in refused.value.message


def test_tag_rules() -> None:
    check_tags([("k" * 128, "v" * 256), ("a", "")])
    check_tags([("é" * 128, "")])  # lengths count characters, not bytes
    check_count(50)
    for bad in (
        [("", "v")],
        [("k" * 129, "v")],
        [("k", "v" * 257)],
        [("aws:x", "v")],
        [("Aws:x", "v")],
        [("k", "1"), ("k", "2")],
        [("\U0001f600" * 65, "v")],  # 130 UTF-16 code units, as Java counts them
    ):
        with pytest.raises(InvalidTagParameter):
            check_tags(bad)
    with pytest.raises(TooManyTags):
        check_count(51)


def test_repository_arns() -> None:
    ref = parse_repository_arn(
        "arn:aws:ecr:us-east-1:123456789012:repository/team/app", region="us-east-1"
    )
    assert (ref.account_id, ref.name) == ("123456789012", "team/app")
    for bad in (
        "arn:aws:ecr:eu-west-1:123456789012:repository/app",
        "arn:aws:ecr:us-east-1:1234:repository/app",
        "arn:aws:ecr:us-east-1:123456789012:repository/",
        "arn:aws:s3:::bucket",
        "repository/app",
    ):
        with pytest.raises(InvalidParameter):
            parse_repository_arn(bad, region="us-east-1")
