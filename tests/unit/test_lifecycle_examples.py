"""AWS's documented lifecycle policy examples ("Examples of lifecycle policies in Amazon ECR",
the reference §3.5) as evaluator tests: each image's age is "pushed N days ago" from NOW.

The multi-rule examples appear twice in AWS's history, with tagPatternList ("prod*") in the
current guide and tagPrefixList ("prod") in the 2023 one, with the same outcome: both forms
are tested.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stiva.lifecycle.evaluate import Action, Image, plan
from stiva.lifecycle.policy import parse_lifecycle_policy

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def image(digest: str, *tags: str, days: float, **fields: Any) -> Image:
    return Image(
        digest=digest,
        tags=tags,
        pushed_at=ago(days),
        last_pulled_at=fields.pop("last_pulled_at", None),
        status=fields.pop("status", "ACTIVE"),
        **fields,
    )


def run(rules: list[dict[str, Any]], images: list[Image]) -> list[Action]:
    return plan(parse_lifecycle_policy(json.dumps({"rules": rules})), images, NOW)


def expired(rules: list[dict[str, Any]], images: list[Image]) -> set[str]:
    actions = run(rules, images)
    assert all(a.action == "EXPIRE" and a.target_storage_class is None for a in actions)
    return {a.digest for a in actions}


def tags_rule(priority: int, style: str, stems: list[str], **count: Any) -> dict[str, Any]:
    """A tagged rule selecting `stems` as patterns ("prod*") or as prefixes ("prod")."""
    listing = (
        {"tagPatternList": [f"{stem}*" for stem in stems]}
        if style == "pattern"
        else {"tagPrefixList": stems}
    )
    return {
        "rulePriority": priority,
        "selection": {"tagStatus": "tagged", **listing, **count},
        "action": {"type": "expire"},
    }


def keep(n: int) -> dict[str, Any]:
    return {"countType": "imageCountMoreThan", "countNumber": n}


def older_than(days: int) -> dict[str, Any]:
    return {"countType": "sinceImagePushed", "countUnit": "days", "countNumber": days}


STYLES = pytest.mark.parametrize("style", ["pattern", "prefix"])


# --- single-rule examples -------------------------------------------------------------------


def test_filtering_on_image_age() -> None:
    rules = [tags_rule(1, "pattern", ["prod"], **older_than(14))]
    images = [
        image("old-prod", "prod-1", days=20),
        image("new-prod", "prod-2", days=10),
        image("old-dev", "dev-1", days=20),
        image("old-untagged", days=30),
    ]
    assert expired(rules, images) == {"old-prod"}


def test_filtering_on_last_pulled_time() -> None:
    rules = [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
    images = [
        image("pulled-long-ago", "a", days=200, last_pulled_at=ago(100)),
        image("pulled-lately", "b", days=200, last_pulled_at=ago(10)),
        image("never-pulled-old", days=100),
        image("never-pulled-new", days=30),
        image("already-archived", days=300, status="ARCHIVED", last_archived_at=ago(10)),
    ]
    assert run(rules, images) == [
        Action("never-pulled-old", 1, "TRANSITION", "ARCHIVE"),
        Action("pulled-long-ago", 1, "TRANSITION", "ARCHIVE"),
    ]


def test_filtering_on_archive_age() -> None:
    rules = [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365,
            },
            "action": {"type": "expire"},
        }
    ]
    images = [
        image("archived-long-ago", days=900, status="ARCHIVED", last_archived_at=ago(400)),
        image("archived-lately", days=900, status="ARCHIVED", last_archived_at=ago(100)),
        image("active-and-old", days=1000),
    ]
    assert expired(rules, images) == {"archived-long-ago"}


def test_filtering_on_image_count() -> None:
    rules = [
        {
            "rulePriority": 1,
            "selection": {"tagStatus": "untagged", **keep(1)},
            "action": {"type": "expire"},
        }
    ]
    images = [
        image("u3", days=3),
        image("u2", days=2),
        image("u1", days=1),
        image("tagged-old", "v1", days=5),
    ]
    assert expired(rules, images) == {"u3", "u2"}


# --- multiple rules -------------------------------------------------------------------------

BETA_PROD = [
    image("A", "beta-1", "prod-1", days=10),
    image("B", "beta-2", "prod-2", days=9),
    image("C", "beta-3", days=8),
]


@STYLES
def test_multiple_rules_example_a(style: str) -> None:
    """prod keep 1 marks A; beta keep 1 would mark A and B, but B matches the prod rule."""
    rules = [tags_rule(1, style, ["prod"], **keep(1)), tags_rule(2, style, ["beta"], **keep(1))]
    assert expired(rules, BETA_PROD) == {"A"}


@STYLES
def test_multiple_rules_example_b(style: str) -> None:
    """beta keep 1 marks A and B; prod keep 1 would mark A, already marked."""
    rules = [tags_rule(1, style, ["beta"], **keep(1)), tags_rule(2, style, ["prod"], **keep(1))]
    assert run(rules, BETA_PROD) == [Action("A", 1, "EXPIRE", None), Action("B", 1, "EXPIRE", None)]


@STYLES
def test_multiple_patterns_example_a(style: str) -> None:
    """Every entry must match a tag: only C and F carry both, and only C is old enough."""
    rules = [tags_rule(1, style, ["alpha", "beta"], **older_than(5))]
    images = [
        image("A", "alpha-1", days=12),
        image("B", "beta-1", days=11),
        image("C", "alpha-2", "beta-2", days=10),
        image("D", "alpha-3", days=4),
        image("E", "beta-3", days=3),
        image("F", "alpha-4", "beta-4", days=2),
    ]
    assert expired(rules, images) == {"C"}


@STYLES
def test_multiple_patterns_example_b(style: str) -> None:
    rules = [tags_rule(1, style, ["alpha", "beta"], **keep(1))]
    images = [
        image("A", "alpha-1", "beta-1", "gamma-1", days=10),
        image("B", "alpha-2", "beta-2", days=9),
        image("C", "alpha-3", "beta-3", "gamma-2", days=8),
    ]
    assert expired(rules, images) == {"A", "B"}


def test_all_images_example_a() -> None:
    rules = [
        {
            "rulePriority": 1,
            "selection": {"tagStatus": "any", **keep(1)},
            "action": {"type": "expire"},
        }
    ]
    images = [
        image("A", "alpha-1", days=4),
        image("B", "beta-1", days=3),
        image("C", days=2),
        image("D", "alpha-2", days=1),
    ]
    assert expired(rules, images) == {"A", "B", "C"}


@STYLES
def test_all_images_example_b(style: str) -> None:
    """alpha keep 1 marks A; untagged older than a day marks B (E is one day old: not older);
    any keep 1 counts all five (E newest), but A, C and B, E belong to the earlier rules: D."""
    rules = [
        tags_rule(1, style, ["alpha"], **keep(1)),
        {
            "rulePriority": 2,
            "selection": {"tagStatus": "untagged", **older_than(1)},
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 3,
            "selection": {"tagStatus": "any", **keep(1)},
            "action": {"type": "expire"},
        },
    ]
    images = [
        image("A", "alpha-1", "beta-1", days=4),
        image("B", days=3),
        image("C", "alpha-2", days=2),
        image("D", "git hash", days=1.001),  # "1 day" too, but older than E
        image("E", days=1),
    ]
    assert run(rules, images) == [
        Action("A", 1, "EXPIRE", None),
        Action("B", 2, "EXPIRE", None),
        Action("D", 3, "EXPIRE", None),
    ]


# --- archive --------------------------------------------------------------------------------


def test_archive_tagged_images_by_push_age() -> None:
    rules = [tags_rule(1, "pattern", ["prod"], **older_than(30))]
    rules[0]["action"] = {"type": "transition", "targetStorageClass": "archive"}
    images = [
        image("old", "prod-1", days=31),
        image("new", "prod-2", days=29),
        image("dev", "d", days=60),
    ]
    assert run(rules, images) == [Action("old", 1, "TRANSITION", "ARCHIVE")]


def test_archive_then_expire_from_archive() -> None:
    """AWS's combined example: archive anything pushed 30+ days ago (priority 1), and delete
    what has been archived for 365+ days (priority 2, the archive storage class)."""
    rules = [
        {
            "rulePriority": 1,
            "selection": {"tagStatus": "any", **older_than(30)},
            "action": {"type": "transition", "targetStorageClass": "archive"},
        },
        {
            "rulePriority": 2,
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365,
            },
            "action": {"type": "expire"},
        },
    ]
    images = [
        image("fresh", "v3", days=5),
        image("stale", "v2", days=45),
        image("archived-lately", "v1", days=400, status="ARCHIVED", last_archived_at=ago(300)),
        image("archived-long-ago", "v0", days=800, status="ARCHIVED", last_archived_at=ago(370)),
    ]
    assert run(rules, images) == [
        Action("stale", 1, "TRANSITION", "ARCHIVE"),
        Action("archived-long-ago", 2, "EXPIRE", None),
    ]
