"""The lifecycle evaluator (`stiva.lifecycle.evaluate`) beyond AWS's examples: boundaries, the
times each count type measures, storage classes, protection and counting, index children,
referrers, and the tag matching underneath (`stiva.lifecycle.matching`)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stiva.lifecycle.evaluate import Action, Image, plan
from stiva.lifecycle.matching import pattern_matches, selection_matches
from stiva.lifecycle.policy import LifecyclePolicy, parse_lifecycle_policy

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TINY = timedelta(microseconds=1)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def image(digest: str, *tags: str, at: datetime, **fields: Any) -> Image:
    return Image(
        digest=digest,
        tags=tags,
        pushed_at=at,
        last_pulled_at=fields.pop("last_pulled_at", None),
        status=fields.pop("status", "ACTIVE"),
        **fields,
    )


def archived(digest: str, *tags: str, archived_at: datetime | None, **fields: Any) -> Image:
    return image(
        digest, *tags, at=ago(1000), status="ARCHIVED", last_archived_at=archived_at, **fields
    )


def policy(*rules: dict[str, Any]) -> LifecyclePolicy:
    return parse_lifecycle_policy(json.dumps({"rules": list(rules)}))


def rule(
    priority: int,
    status: str = "any",
    *,
    action: str = "expire",
    storage: str | None = None,
    **selection: Any,
) -> dict[str, Any]:
    if "keep" in selection:
        count = {"countType": "imageCountMoreThan", "countNumber": selection.pop("keep")}
    else:
        (count_type, days), *_ = selection.pop("since").items()
        count = {"countType": count_type, "countUnit": "days", "countNumber": days}
    body: dict[str, Any] = {"tagStatus": status, **selection, **count}
    if storage:
        body["storageClass"] = storage
    act = (
        {"type": "transition", "targetStorageClass": "archive"}
        if action == "transition"
        else {"type": "expire"}
    )
    return {"rulePriority": priority, "selection": body, "action": act}


def acted(the_policy: LifecyclePolicy, images: list[Image]) -> dict[str, tuple[int, str]]:
    return {a.digest: (a.rule_priority, a.action) for a in plan(the_policy, images, NOW)}


EXPIRE_PUSHED_14 = policy(rule(1, since={"sinceImagePushed": 14}))
EXPIRE_ARCHIVED_90 = policy(rule(1, storage="archive", since={"sinceImageTransitioned": 90}))
ARCHIVE_PULLED_30 = policy(rule(1, action="transition", since={"sinceImagePulled": 30}))


# --- boundaries and times -------------------------------------------------------------------


def test_pushed_boundary_is_strictly_more_than_n_days() -> None:
    images = [
        image("exactly", at=ago(14)),
        image("just-over", at=ago(14) - TINY),
        image("just-under", at=ago(14) + TINY),
        image("future", at=NOW + timedelta(days=1)),
    ]
    assert acted(EXPIRE_PUSHED_14, images) == {"just-over": (1, "EXPIRE")}


def test_pushed_age_counts_from_the_last_restore() -> None:
    images = [
        image("restored-lately", at=ago(100), last_activated_at=ago(3)),
        image("restored-long-ago", at=ago(100), last_activated_at=ago(20)),
    ]
    assert acted(EXPIRE_PUSHED_14, images) == {"restored-long-ago": (1, "EXPIRE")}


def test_transitioned_boundary_and_unknown_archive_time() -> None:
    images = [
        archived("exactly", archived_at=ago(90)),
        archived("just-over", archived_at=ago(90) - TINY),
        archived("no-archive-time", archived_at=None),
        image("active", at=ago(5000)),
    ]
    assert acted(EXPIRE_ARCHIVED_90, images) == {"just-over": (1, "EXPIRE")}


def test_pulled_measures_last_pull_else_restore_else_push() -> None:
    images = [
        image("never-pulled-old", at=ago(31)),
        image("never-pulled-new", at=ago(29)),
        image("pulled-old", at=ago(300), last_pulled_at=ago(31)),
        image("pulled-new", at=ago(300), last_pulled_at=ago(29)),
        image(
            "restored-not-pulled-since",
            at=ago(300),
            last_pulled_at=ago(200),
            last_activated_at=ago(5),
        ),
        image("restored-long-ago", at=ago(300), last_pulled_at=ago(200), last_activated_at=ago(40)),
        image(
            "pulled-after-restore", at=ago(300), last_activated_at=ago(60), last_pulled_at=ago(2)
        ),
        image("exactly", at=ago(30)),
    ]
    assert set(acted(ARCHIVE_PULLED_30, images)) == {
        "never-pulled-old",
        "pulled-old",
        "restored-long-ago",
    }
    assert {a.target_storage_class for a in plan(ARCHIVE_PULLED_30, images, NOW)} == {"ARCHIVE"}


def test_huge_day_counts_never_overflow() -> None:
    the_policy = policy(rule(1, since={"sinceImagePushed": 2**31 - 1}))
    assert plan(the_policy, [image("old", at=datetime(1, 1, 1, tzinfo=UTC))], NOW) == []


def test_count_orders_by_restore_time_then_digest() -> None:
    keep_two = policy(rule(1, keep=2))
    images = [
        image("pushed-last", at=ago(1)),
        image("restored", at=ago(100), last_activated_at=ago(0.5)),
        image("b-same-time", at=ago(5)),
        image("a-same-time", at=ago(5)),
    ]
    assert acted(keep_two, images) == {
        "a-same-time": (1, "EXPIRE"),
        "b-same-time": (1, "EXPIRE"),
    }
    keep_three = policy(rule(1, keep=3))
    assert acted(keep_three, images) == {"a-same-time": (1, "EXPIRE")}


# --- storage classes ------------------------------------------------------------------------


def test_standard_rules_see_active_images_and_archive_rules_archived_ones() -> None:
    the_policy = policy(
        rule(1, keep=1),
        rule(2, storage="archive", since={"sinceImageTransitioned": 90}),
    )
    images = [
        image("active-new", at=ago(1)),
        image("active-old", at=ago(2)),
        archived("archived-old", archived_at=ago(100)),
        archived("archived-new", archived_at=ago(10)),
    ]
    assert acted(the_policy, images) == {
        "active-old": (1, "EXPIRE"),
        "archived-old": (2, "EXPIRE"),
    }


def test_protection_stays_within_a_storage_class() -> None:
    """A standard prod rule neither protects archived prod images nor counts them."""
    the_policy = policy(
        rule(1, "tagged", tagPrefixList=["prod"], keep=1),
        rule(
            2,
            "tagged",
            storage="archive",
            tagPrefixList=["prod"],
            since={"sinceImageTransitioned": 90},
        ),
    )
    images = [
        image("prod-active", "prod-1", at=ago(1)),
        archived("prod-archived", "prod-0", archived_at=ago(100)),
    ]
    assert acted(the_policy, images) == {"prod-archived": (2, "EXPIRE")}


# --- priority, protection and counting ------------------------------------------------------


def test_higher_rule_protects_what_it_matches_even_when_it_does_nothing() -> None:
    the_policy = policy(
        rule(1, "tagged", tagPatternList=["release-*"], keep=1000),
        rule(2, keep=1),
    )
    images = [
        image("release", "release-1", at=ago(50)),
        image("old", "build-1", at=ago(40)),
        image("new", "build-2", at=ago(1)),
    ]
    assert acted(the_policy, images) == {"old": (2, "EXPIRE")}


def test_lower_rule_counts_images_it_cannot_touch() -> None:
    """keep 2 over all images: the two newest are protected releases, so both builds go."""
    the_policy = policy(
        rule(1, "tagged", tagPatternList=["release-*"], keep=1000),
        rule(2, keep=2),
    )
    images = [
        image("build-old", "build-1", at=ago(40)),
        image("build-new", "build-2", at=ago(30)),
        image("release-old", "release-1", at=ago(2)),
        image("release-new", "release-2", at=ago(1)),
    ]
    assert set(acted(the_policy, images)) == {"build-old", "build-new"}


def test_prefix_entries_are_anded_over_the_images_tags() -> None:
    """One pattern list ["latest","main"] picks only images carrying both tags."""
    the_policy = policy(
        rule(1, "tagged", tagPatternList=["latest", "main"], keep=1000),
        rule(2, keep=1),
    )
    images = [
        image("both", "latest", "main", at=ago(9)),
        image("latest-only", "latest", at=ago(8)),
        image("newest", "x", at=ago(1)),
    ]
    assert set(acted(the_policy, images)) == {"latest-only"}


# --- index children -------------------------------------------------------------------------

INDEX = "sha256:index"


def untagged_family(index_status: str = "ACTIVE") -> list[Image]:
    index_fields: dict[str, Any] = {"status": index_status}
    if index_status == "ARCHIVED":
        index_fields["last_archived_at"] = ago(10)
    return [
        image(INDEX, "v1", at=ago(50), **index_fields),
        image("sha256:child-amd64", at=ago(50), parents=(INDEX,)),
        image("sha256:child-arm64", at=ago(50), parents=(INDEX,)),
        image("sha256:loose", at=ago(50)),
    ]


def test_children_of_a_live_index_are_counted_but_never_expired() -> None:
    """keep 1 untagged: the newest untagged image is a child, so both loose images go."""
    keep_one_untagged = policy(rule(1, "untagged", keep=1))
    images = [
        image(INDEX, "v1", at=ago(1)),
        image("sha256:child-amd64", at=ago(1), parents=(INDEX,)),
        image("sha256:child-arm64", at=ago(2), parents=(INDEX,)),
        image("sha256:loose-new", at=ago(3)),
        image("sha256:loose-old", at=ago(4)),
    ]
    assert acted(keep_one_untagged, images) == {
        "sha256:loose-new": (1, "EXPIRE"),
        "sha256:loose-old": (1, "EXPIRE"),
    }


def test_children_of_an_index_expired_now_stay_for_a_later_run() -> None:
    expire_old = policy(rule(1, since={"sinceImagePushed": 30}))
    first = plan(expire_old, untagged_family(), NOW)
    assert {a.digest for a in first} == {INDEX, "sha256:loose"}
    survivors = [
        image("sha256:child-amd64", at=ago(50)),  # the service lists live indexes only
        image("sha256:child-arm64", at=ago(50)),
    ]
    assert {a.digest for a in plan(expire_old, survivors, NOW)} == {
        "sha256:child-amd64",
        "sha256:child-arm64",
    }


def test_children_follow_their_index_into_the_archive_but_are_not_expired_from_it() -> None:
    """Archiving an index carries its children along (as UpdateImageStorageClass and the
    sweep do), so the plan, and the preview showing it, names them too."""
    archive_old = policy(rule(1, action="transition", since={"sinceImagePushed": 30}))
    first = acted(archive_old, untagged_family())
    assert first == {
        INDEX: (1, "TRANSITION"),
        "sha256:child-amd64": (1, "TRANSITION"),
        "sha256:child-arm64": (1, "TRANSITION"),
        "sha256:loose": (1, "TRANSITION"),
    }
    assert acted(archive_old, untagged_family("ARCHIVED")) == {
        "sha256:child-amd64": (1, "TRANSITION"),
        "sha256:child-arm64": (1, "TRANSITION"),
        "sha256:loose": (1, "TRANSITION"),
    }
    expire_old = policy(rule(1, since={"sinceImagePushed": 30}))
    assert set(acted(expire_old, untagged_family("ARCHIVED"))) == {"sha256:loose"}


def test_a_child_another_live_index_lists_stays_active() -> None:
    archive_tagged = policy(
        rule(
            1, "tagged", action="transition", tagPrefixList=["old"], since={"sinceImagePushed": 30}
        )
    )
    images = [
        image("sha256:old-index", "old", at=ago(50)),
        image("sha256:new-index", "new", at=ago(50)),
        image("sha256:shared", at=ago(50), parents=("sha256:old-index", "sha256:new-index")),
        image("sha256:own", at=ago(50), parents=("sha256:old-index",)),
    ]
    assert acted(archive_tagged, images) == {
        "sha256:old-index": (1, "TRANSITION"),
        "sha256:own": (1, "TRANSITION"),
    }


def test_a_child_listed_by_an_unknown_index_is_protected() -> None:
    archive_old = policy(rule(1, action="transition", since={"sinceImagePushed": 30}))
    orphan_child = image("sha256:child", at=ago(50), parents=("sha256:not-given",))
    assert plan(archive_old, [orphan_child], NOW) == []


# --- referrers ------------------------------------------------------------------------------

SUBJECT = "sha256:subject"


def signed(subject_age: float, **subject_fields: Any) -> list[Image]:
    return [
        image(SUBJECT, "v1", at=ago(subject_age), **subject_fields),
        image("sha256:signature", at=ago(100), subject=SUBJECT),
        image("sha256:sbom", at=ago(100), subject=SUBJECT),
        image("sha256:signature-of-sbom", at=ago(100), subject="sha256:sbom"),
    ]


def test_referrers_are_not_acted_on_by_rules_while_their_subject_lives() -> None:
    everything_old = policy(rule(1, since={"sinceImagePushed": 30}))
    assert plan(everything_old, signed(subject_age=1), NOW) == []


def test_referrers_expire_with_their_subject_at_its_priority() -> None:
    the_policy = policy(
        rule(4, "tagged", tagPrefixList=["v"], since={"sinceImagePushed": 30}),
        rule(7, keep=100),
    )
    assert plan(the_policy, signed(subject_age=40), NOW) == [
        Action("sha256:sbom", 4, "EXPIRE", None),
        Action("sha256:signature", 4, "EXPIRE", None),
        Action("sha256:signature-of-sbom", 4, "EXPIRE", None),
        Action(SUBJECT, 4, "EXPIRE", None),
    ]


def test_orphan_referrers_expire_at_the_lowest_priority() -> None:
    the_policy = policy(
        rule(4, "tagged", tagPrefixList=["v"], keep=100),
        rule(7, keep=100),
    )
    orphans = signed(subject_age=1)[1:]
    assert plan(the_policy, orphans, NOW) == [
        Action("sha256:sbom", 7, "EXPIRE", None),
        Action("sha256:signature", 7, "EXPIRE", None),
        Action("sha256:signature-of-sbom", 7, "EXPIRE", None),
    ]


def test_a_referrer_pushed_before_its_subject_waits_a_day_for_it() -> None:
    """OCI lets a referrer arrive first: its absent subject may be on its way, not deleted."""
    the_policy = policy(rule(1, keep=100))
    early = [image("sha256:signature", at=NOW - timedelta(hours=23), subject="sha256:coming")]
    assert plan(the_policy, early, NOW) == []
    late = [image("sha256:signature", at=NOW - timedelta(hours=25), subject="sha256:coming")]
    assert plan(the_policy, late, NOW) == [Action("sha256:signature", 1, "EXPIRE", None)]


def test_referrers_take_no_place_among_the_images_kept() -> None:
    """ "Keep the newest image" keeps an image, not its signature."""
    keep_one = policy(rule(1, keep=1))
    images = [
        image("sha256:old", "v0", at=ago(3)),
        image("sha256:app", "v1", at=ago(2)),
        image("sha256:sig", at=ago(1), subject="sha256:app"),
    ]
    assert acted(keep_one, images) == {"sha256:old": (1, "EXPIRE")}
    keep_one_untagged = policy(rule(1, "untagged", keep=1))
    images = [
        image("sha256:app", "v1", at=ago(3)),
        image("sha256:old", at=ago(2)),
        image("sha256:sig", at=ago(1), subject="sha256:app"),
    ]
    assert plan(keep_one_untagged, images, NOW) == []


def test_referrers_follow_their_subject_into_the_archive() -> None:
    archive_old = policy(rule(3, action="transition", since={"sinceImagePushed": 30}))
    assert {(a.digest, a.action, a.rule_priority) for a in plan(archive_old, signed(40), NOW)} == {
        (SUBJECT, "TRANSITION", 3),
        ("sha256:signature", "TRANSITION", 3),
        ("sha256:sbom", "TRANSITION", 3),
        ("sha256:signature-of-sbom", "TRANSITION", 3),
    }
    already = signed(1, status="ARCHIVED", last_archived_at=ago(1))
    assert {a.action for a in plan(archive_old, already, NOW)} == {"TRANSITION"}
    assert len(plan(archive_old, already, NOW)) == 3


def test_archived_referrers_expire_with_their_archived_subject() -> None:
    the_policy = policy(rule(2, storage="archive", since={"sinceImageTransitioned": 90}))
    images = [
        archived(SUBJECT, "v1", archived_at=ago(100)),
        archived("sha256:signature", archived_at=ago(1), subject=SUBJECT),
    ]
    assert plan(the_policy, images, NOW) == [
        Action("sha256:signature", 2, "EXPIRE", None),
        Action(SUBJECT, 2, "EXPIRE", None),
    ]


def test_a_referrer_that_is_an_index_child_stays() -> None:
    the_policy = policy(rule(1, keep=100))
    images = [
        image(INDEX, at=ago(2), subject="sha256:gone"),
        image("sha256:child", at=ago(2), parents=(INDEX,), subject="sha256:gone"),
    ]
    assert acted(the_policy, images) == {INDEX: (1, "EXPIRE")}


def test_a_cycle_of_subjects_is_left_alone() -> None:
    the_policy = policy(rule(1, keep=100))
    images = [image("a", at=ago(1), subject="b"), image("b", at=ago(1), subject="a")]
    assert plan(the_policy, images, NOW) == []


# --- the output -----------------------------------------------------------------------------


def test_output_is_sorted_by_priority_then_digest() -> None:
    the_policy = policy(rule(1, "untagged", keep=1), rule(2, keep=1))
    images = [image(d, *(("t",) if d > "m" else ()), at=ago(i)) for i, d in enumerate("zyxcba")]
    assert [(a.rule_priority, a.digest) for a in plan(the_policy, images, NOW)] == [
        (1, "a"),
        (1, "b"),
        (2, "x"),
        (2, "y"),
    ]


def test_duplicate_digests_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        plan(EXPIRE_PUSHED_14, [image("a", at=ago(1)), image("a", at=ago(2))], NOW)


# --- tag matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "tag", "expected"),
    [
        ("prod*", "prod", True),
        ("prod*", "production-team1", True),
        ("prod*", "preprod", False),
        ("*prod*", "repo-production", True),
        ("*prod", "preprod", True),
        ("*prod", "prod-1", False),
        ("latest", "latest", True),
        ("latest", "latest1", False),
        ("*", "", True),
        ("a*a", "a", False),
        ("a*a", "aa", True),
        ("*test*1*2*3", "xtest-1-2-3", True),
        ("test*1*2*3*", "test1x2x3", True),
        ("test*1*2*3*", "test132", False),
        ("v1.*", "v1x2", False),
        ("**", "anything", True),
    ],
)
def test_pattern_matching(pattern: str, tag: str, expected: bool) -> None:
    assert pattern_matches(pattern, tag) is expected


def test_hostile_patterns_match_in_linear_time() -> None:
    tag = "a" * 300
    started = time.perf_counter()
    for _ in range(200):
        assert not pattern_matches("*a*a*a*a*b", tag)
    assert time.perf_counter() - started < 1.0


def test_untagged_and_tagged_selections() -> None:
    the_policy = policy(
        rule(1, "tagged", tagPrefixList=["a", "b"], keep=1),
        rule(2, "untagged", keep=1),
    )
    prefixes, untagged = (r.selection for r in the_policy.rules)
    assert selection_matches(prefixes, ("a1", "b2"))
    assert selection_matches(prefixes, ("ab",)) is False
    assert selection_matches(prefixes, ()) is False
    assert selection_matches(untagged, ())
    assert selection_matches(untagged, ("x",)) is False
