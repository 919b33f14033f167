"""Properties of the lifecycle evaluator, over generated policies and repositories.

The central one compares `plan` with an oracle written independently, image by image, from
ECR's documented rules: an image is acted on by the first rule (by priority, in its storage
class) whose tagging requirements it meets, if that rule's count criterion, taken over every
image the rule selects, marks it. The others: one action per image, no lower rule acting on
an image a higher rule selects, index children and referrers, a plan applied leaves nothing
to redo, and the input order does not matter.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stiva.lifecycle.evaluate import Action, Image, plan
from stiva.lifecycle.policy import (
    LifecyclePolicy,
    Rule,
    parse_lifecycle_policy,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TAGS = ("prod-1", "prod-2", "beta-1", "alpha", "latest", "v1.0", "v1.1")
PREFIXES = ("prod", "beta", "v1", "alpha", "l", "x")
PATTERNS = ("prod*", "*1", "v1.*", "*a*", "latest", "*", "*-*")
STANDARD_COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed", "sinceImagePulled")
ABSENT = "sha256:absent"
AGES = 6  # ages and day counts are small, so that boundaries and ties come up often

# --- generated data -------------------------------------------------------------------------


def days_ago(draw: st.DrawFn, low: int, high: int) -> datetime:
    """A time some whole days ago (so rules meet their exact boundaries), or a bit more."""
    days = draw(st.integers(low, high))
    return NOW - timedelta(days=days, hours=draw(st.sampled_from((0, 0, 12))))


def maybe_days_ago(draw: st.DrawFn, high: int) -> datetime | None:
    return days_ago(draw, 0, high) if draw(st.booleans()) else None


@st.composite
def repositories(draw: st.DrawFn) -> list[Image]:
    digests = [f"sha256:{i:02d}" for i in range(draw(st.integers(0, 10)))]
    images = []
    for digest in digests:
        others = [d for d in digests if d != digest]
        status = draw(st.sampled_from(("ACTIVE", "ACTIVE", "ARCHIVED")))
        linked = others and draw(st.integers(0, 3)) == 0
        images.append(
            Image(
                digest=digest,
                tags=tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True))),
                pushed_at=days_ago(draw, 0, AGES),
                last_pulled_at=maybe_days_ago(draw, AGES),
                status=status,
                last_archived_at=days_ago(draw, 88, 94) if status == "ARCHIVED" else None,
                last_activated_at=maybe_days_ago(draw, AGES),
                parents=tuple(
                    draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
                    if linked and draw(st.booleans())
                    else ()
                ),
                subject=draw(st.sampled_from([*others, ABSENT]))
                if linked and draw(st.booleans())
                else None,
            )
        )
    return images


@st.composite
def standard_rules(
    draw: st.DrawFn, priority: int, last: bool, count_types: Sequence[str]
) -> dict[str, Any]:
    status = draw(st.sampled_from(("tagged", "tagged", "untagged", *(("any",) if last else ()))))
    selection: dict[str, Any] = {"tagStatus": status}
    if status == "tagged":
        key, pool = draw(
            st.sampled_from((("tagPrefixList", PREFIXES), ("tagPatternList", PATTERNS)))
        )
        selection[key] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    count_type = draw(st.sampled_from(count_types))
    selection["countType"] = count_type
    if count_type == "imageCountMoreThan":
        selection["countNumber"] = draw(st.integers(1, 4))
    else:
        selection["countUnit"] = "days"
        selection["countNumber"] = draw(st.integers(1, AGES))
    transition = count_type == "sinceImagePulled" or draw(st.booleans())
    action = (
        {"type": "transition", "targetStorageClass": "archive"}
        if transition
        else {"type": "expire"}
    )
    return {"rulePriority": priority, "selection": selection, "action": action}


def made_valid(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules, with a second untagged rule or a repeated tag list given a list of its own
    (a prefix no generated tag has), as ECR requires of the rules of one storage class."""
    seen: set[tuple[str, frozenset[str]]] = set()
    for position, rule in enumerate(rules):
        selection = rule["selection"]
        key = next((k for k in ("tagPrefixList", "tagPatternList") if k in selection), None)
        mark = (key or selection["tagStatus"], frozenset(selection.get(key or "", [])))
        if mark in seen and mark[0] != "any":
            selection.pop(key or "", None)
            selection.update(tagStatus="tagged", tagPrefixList=[f"unused-{position}"])
        seen.add(mark)
    return rules


@st.composite
def policies(
    draw: st.DrawFn, count_types: Sequence[str] = STANDARD_COUNT_TYPES, archive: bool = True
) -> LifecyclePolicy:
    priorities = sorted(draw(st.lists(st.integers(1, 30), min_size=1, max_size=4, unique=True)))
    rules = made_valid(
        [
            draw(standard_rules(p, last=p == priorities[-1], count_types=count_types))
            for p in priorities
        ]
    )
    if archive and draw(st.booleans()):
        status = draw(st.sampled_from(("any", "untagged", "tagged")))
        selection: dict[str, Any] = {"tagStatus": status, "storageClass": "archive"}
        if status == "tagged":
            selection["tagPatternList"] = [draw(st.sampled_from(PATTERNS))]
        selection.update(countType="sinceImageTransitioned", countUnit="days")
        selection["countNumber"] = draw(st.integers(90, 92))
        priority = draw(st.sampled_from([p for p in range(1, 32) if p not in priorities]))
        rules.append(
            {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}
        )
    return parse_lifecycle_policy(json.dumps({"rules": rules}))


# --- the oracle -----------------------------------------------------------------------------


def tags_meet(rule: Rule, image: Image) -> bool:
    sel = rule.selection
    if sel.tag_status == "any":
        return True
    if sel.tag_status == "untagged":
        return image.tags == ()
    entries = [f"{prefix}*" for prefix in sel.tag_prefixes] or list(sel.tag_patterns)
    return bool(image.tags) and all(
        any(fnmatch.fnmatchcase(tag, entry) for tag in image.tags) for entry in entries
    )


def pushed_or_restored(image: Image) -> datetime:
    return max(image.pushed_at, image.last_activated_at or image.pushed_at)


def marks(rule: Rule, image: Image, selected: list[Image]) -> bool:
    sel = rule.selection
    if sel.count_type == "imageCountMoreThan":
        key = (pushed_or_restored(image), image.digest)
        newer = [i for i in selected if (pushed_or_restored(i), i.digest) > key]
        return len(newer) >= sel.count_number
    if sel.count_type == "sinceImageTransitioned":
        since = image.last_archived_at
    elif sel.count_type == "sinceImagePulled":
        since = max(pushed_or_restored(image), image.last_pulled_at or image.pushed_at)
    else:
        since = pushed_or_restored(image)
    return since is not None and (NOW - since).total_seconds() > sel.count_number * 86400


def oracle(policy: LifecyclePolicy, images: list[Image]) -> dict[str, tuple[int, str]]:
    """What ECR's rules do to the images that are neither index children nor referrers."""
    expected = {}
    for image in images:
        if image.parents or image.subject is not None:
            continue
        storage_class = "standard" if image.status == "ACTIVE" else "archive"
        rules = [r for r in policy.rules if r.selection.storage_class == storage_class]
        first = next((r for r in rules if tags_meet(r, image)), None)
        if first is None:
            continue
        selected = [  # referrers are never counted
            i
            for i in images
            if i.status == image.status and i.subject is None and tags_meet(first, i)
        ]
        if marks(first, image, selected):
            expected[image.digest] = (first.priority, first.action.upper())
    return expected


def apply(images: list[Image], actions: list[Action]) -> list[Image]:
    """The repository after `actions`: expired images gone, transitioned ones archived now."""
    by_digest = {a.digest: a for a in actions}
    gone = {a.digest for a in actions if a.action == "EXPIRE"}
    after = []
    for image in images:
        if image.digest in gone:
            continue
        if image.digest in by_digest:
            image = replace(image, status="ARCHIVED", last_archived_at=NOW)
        after.append(replace(image, parents=tuple(p for p in image.parents if p not in gone)))
    return after


# --- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "count_types", [STANDARD_COUNT_TYPES, *((c,) for c in STANDARD_COUNT_TYPES)], ids=str
)
@settings(max_examples=150)
@given(data=st.data())
def test_rules_act_where_the_first_matching_rule_marks(
    count_types: tuple[str, ...], data: st.DataObject
) -> None:
    policy = data.draw(policies(count_types), label="policy")
    images = data.draw(repositories(), label="images")
    plain = {i.digest for i in images if not i.parents and i.subject is None}
    actual = {
        a.digest: (a.rule_priority, a.action)
        for a in plan(policy, images, NOW)
        if a.digest in plain
    }
    assert actual == oracle(policy, images)


@given(policies(), repositories())
def test_one_action_per_image_and_only_on_given_images(
    policy: LifecyclePolicy, images: list[Image]
) -> None:
    digests = [a.digest for a in plan(policy, images, NOW)]
    assert len(digests) == len(set(digests))
    assert set(digests) <= {i.digest for i in images}


@settings(max_examples=150)
@given(policies(), repositories())
def test_no_rule_acts_on_an_image_a_higher_rule_selects(
    policy: LifecyclePolicy, images: list[Image]
) -> None:
    by_digest = {i.digest: i for i in images}
    by_priority = {r.priority: r for r in policy.rules}
    actions = {a.digest: a for a in plan(policy, images, NOW)}
    for action in actions.values():
        image = by_digest[action.digest]
        if image.subject is not None:
            continue  # referrers follow their subject, not rules
        if any(p in actions and actions[p].action == "TRANSITION" for p in image.parents):
            continue  # carried into the archive by its index, not by a rule
        rule = by_priority[action.rule_priority]
        assert tags_meet(rule, image)
        for higher in policy.rules:
            same_class = higher.selection.storage_class == rule.selection.storage_class
            if higher.priority < rule.priority and same_class:
                assert not tags_meet(higher, image)


@settings(max_examples=150)
@given(policies(), repositories())
def test_index_children_wait_for_their_indexes(
    policy: LifecyclePolicy, images: list[Image]
) -> None:
    by_digest = {i.digest: i for i in images}
    actions = plan(policy, images, NOW)
    expired = {a.digest for a in actions if a.action == "EXPIRE"}
    archiving = {a.digest for a in actions if a.action == "TRANSITION"}
    for action in actions:
        parents = by_digest[action.digest].parents
        if action.action == "EXPIRE":
            assert not [p for p in parents if p not in expired]  # the letter of the rule
            assert not parents  # and ours: never while an index exists
        else:  # archived already, or along with them now
            assert all(
                p in by_digest and (by_digest[p].status == "ARCHIVED" or p in archiving)
                for p in parents
            )


@settings(max_examples=150)
@given(policies(), repositories())
def test_referrers_follow_their_subject(policy: LifecyclePolicy, images: list[Image]) -> None:
    by_digest = {i.digest: i for i in images}
    actions = {a.digest: a for a in plan(policy, images, NOW)}
    lowest = policy.rules[-1].priority
    for image in images:
        if image.subject is None:
            continue
        subject_action = actions.get(image.subject)
        subject = by_digest.get(image.subject)
        if subject is None:  # deleted, or not pushed yet: a day's grace for it to arrive
            expected = "EXPIRE" if image.pushed_at < NOW - timedelta(days=1) else None
        elif subject_action is not None and subject_action.action == "EXPIRE":
            expected = "EXPIRE"
        elif image.status == "ACTIVE" and (subject_action or subject.status == "ARCHIVED"):
            expected = "TRANSITION"
        else:
            expected = None
        parents = [by_digest.get(p) for p in image.parents]
        indexes_allow = not parents or (
            expected == "TRANSITION" and all(p and p.status == "ARCHIVED" for p in parents)
        )
        action = actions.get(image.digest)
        if expected is None or not indexes_allow:
            assert action is None
            continue
        assert action is not None
        assert action.action == expected
        assert action.rule_priority == (subject_action.rule_priority if subject_action else lowest)


@settings(max_examples=150)
@given(policies(), repositories())
def test_a_plan_applied_leaves_nothing_to_redo(
    policy: LifecyclePolicy, images: list[Image]
) -> None:
    first = plan(policy, images, NOW)
    again = {a.digest: a for a in plan(policy, apply(images, first), NOW)}
    by_digest = {i.digest: i for i in images}
    for action in first:
        second = again.get(action.digest)
        if second is None:
            continue
        # The one thing a second run may do to an image the first acted on: expire a referrer
        # the first archived with its subject, once the subject itself expires (a subject an
        # expired index protected in the first run is free in the second).
        subject = by_digest[action.digest].subject
        assert (action.action, second.action) == ("TRANSITION", "EXPIRE"), (action, second)
        assert subject is not None, (action, second)
        assert subject in again, (action, second)
        assert again[subject].action == "EXPIRE", (action, second)


def test_a_referrer_archived_with_its_subject_expires_with_it_a_run_later() -> None:
    """The case hypothesis found: an archived index expires, its archived child is free only at
    the next run, and the child's referrer, archived with it now, expires with it then."""
    policy = parse_lifecycle_policy(
        json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 2,
                        "selection": {
                            "tagStatus": "any",
                            "storageClass": "archive",
                            "countType": "sinceImageTransitioned",
                            "countUnit": "days",
                            "countNumber": 90,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        )
    )
    archived_at = NOW - timedelta(days=91)
    images = [
        Image("sha256:index", (), NOW, None, "ARCHIVED", archived_at),
        Image("sha256:child", (), NOW, None, "ARCHIVED", archived_at, parents=("sha256:index",)),
        Image("sha256:sig", (), NOW, None, "ACTIVE", subject="sha256:child"),
    ]
    first = plan(policy, images, NOW)
    assert [(a.digest, a.action) for a in first] == [
        ("sha256:index", "EXPIRE"),
        ("sha256:sig", "TRANSITION"),
    ]
    again = plan(policy, apply(images, first), NOW)
    assert [(a.digest, a.action) for a in again] == [
        ("sha256:child", "EXPIRE"),
        ("sha256:sig", "EXPIRE"),
    ]


@settings(max_examples=200)
@given(policies(("imageCountMoreThan", "sinceImagePushed"), archive=False), repositories())
def test_count_and_push_age_policies_are_idempotent(
    policy: LifecyclePolicy, images: list[Image]
) -> None:
    """Applied once, such a policy has nothing left to do at the same time, but for the
    children an index acted on kept waiting (and the referrers hanging from them)."""
    first = plan(policy, images, NOW)
    acted = {a.digest for a in first}
    freed = {i.digest for i in images if set(i.parents) & acted}
    grew = True
    while grew:
        hanging = {i.digest for i in images if i.subject in freed}
        grew = not hanging <= freed
        freed |= hanging
    again = plan(policy, apply(images, first), NOW)
    assert {a.digest for a in again} <= freed
    if not any(i.parents for i in images):
        assert again == []


@given(policies(), repositories(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(
    policy: LifecyclePolicy, images: list[Image], random: Any
) -> None:
    shuffled = list(images)
    random.shuffle(shuffled)
    assert plan(policy, shuffled, NOW) == plan(policy, images, NOW)
