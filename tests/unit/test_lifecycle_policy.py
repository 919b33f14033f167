"""Lifecycle policy grammar (`stiva.lifecycle.policy`): parsing, every validation rule with the
text ECR answers, and the normal form ECR stores and returns.

Evidence for the texts (what ECR itself answered, as quoted in public sources):

    Could not map policyString into LifecyclePolicy.        moto's ECR (and its tests)
    object has missing required properties (["rules"])      moto; the reference, §3.3
    object instance has properties which are not allowed ... moto; the reference, §3.3
    instance value (bad) not found in enum :(possible ...   moto; the reference, §3.3
    numeric instance is lower than the required minimum ... moto; the reference, §3.3
    instance type (null) does not match any allowed primitive type (allowed: ["array"])
        ECR's answer to `"tagPatternList": null` (simple-container-com/api#34)
    instance failed to match exactly one schema (matched 0 out of 2)
        ECR's answer to `"countUnit": null` (cloudposse/terraform-aws-ecr#132) and to
        `"targetStorageClass": null` on an expire action (cloudposse/terraform-aws-ecr#158);
        moto's answer to an unknown countType
    Only one rule can select Untagged images per storage class.
        ECR's answer quoted whole in a public deployment note (before archive classes:
        "Only one rule can select Untagged images.")
    Rule for tagStatus=ANY must have the lowest priority per storage class
        ECR's answer quoted in a public troubleshooting note (final period added, as in the
        untagged text)
    Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.
        ECR's answer quoted in a public deployment note
    array is too long / too short: the schema validator's wording for maxItems / minItems

The other texts (duplicate priority, both lists, lists on untagged/any, wildcards, prefix sets,
action/count/storage class combinations, the 90-day minimum) are ours, in the same style: no
public source quotes ECR's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stiva.lifecycle import policy as p
from stiva.lifecycle.policy import (
    LifecyclePolicyError,
    Rule,
    Selection,
    normalize_lifecycle_policy,
    parse_lifecycle_policy,
)

ONE_OF = "instance failed to match exactly one schema (matched 0 out of 2)"


def selection(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tagStatus": "untagged",
        "countType": "imageCountMoreThan",
        "countNumber": 1,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def rule(priority: Any = 1, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rulePriority": priority,
        "selection": selection(),
        "action": {"type": "expire"},
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def tagged(priority: int, *prefixes: str) -> dict[str, Any]:
    return rule(priority, selection=selection(tagStatus="tagged", tagPrefixList=list(prefixes)))


def policy_text(*rules: Any) -> str:
    return json.dumps({"rules": list(rules)})


def detail(text: str) -> str:
    with pytest.raises(LifecyclePolicyError) as excinfo:
        parse_lifecycle_policy(text)
    with pytest.raises(LifecyclePolicyError) as again:
        normalize_lifecycle_policy(text)
    assert again.value.detail == excinfo.value.detail
    return excinfo.value.detail


ARCHIVE_EXPIRE = rule(
    9,
    selection=selection(
        tagStatus="any",
        storageClass="archive",
        countType="sinceImageTransitioned",
        countUnit="days",
        countNumber=365,
    ),
)


# --- parsing --------------------------------------------------------------------------------


def test_parse_gives_typed_rules_sorted_by_priority() -> None:
    text = policy_text(
        rule(
            5,
            description="archive idle",
            selection=selection(
                tagStatus="any", countType="sinceImagePulled", countUnit="days", countNumber=90
            ),
            action={"type": "transition", "targetStorageClass": "archive"},
        ),
        rule(2, selection=selection(tagStatus="tagged", tagPatternList=["prod*", "*-rc*"])),
        ARCHIVE_EXPIRE,
    )
    policy = parse_lifecycle_policy(text)
    assert [r.priority for r in policy.rules] == [2, 5, 9]
    assert policy.rules[0] == Rule(
        priority=2,
        description=None,
        selection=Selection(
            tag_status="tagged",
            tag_prefixes=(),
            tag_patterns=("prod*", "*-rc*"),
            storage_class="standard",
            count_type="imageCountMoreThan",
            count_unit=None,
            count_number=1,
        ),
        action="expire",
        target_storage_class=None,
    )
    assert policy.rules[1].description == "archive idle"
    assert policy.rules[1].action == "transition"
    assert policy.rules[1].target_storage_class == "archive"
    assert policy.rules[1].selection.count_unit == "days"
    assert policy.rules[2].selection.storage_class == "archive"
    assert policy.rules_for("archive") == (policy.rules[2],)


def test_error_message_is_ecrs_invalid_parameter_text() -> None:
    with pytest.raises(LifecyclePolicyError) as excinfo:
        parse_lifecycle_policy("{}")
    assert isinstance(excinfo.value, ValueError)
    assert excinfo.value.message == (
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: object has missing required properties "
        '(["rules"])\''
    )


def test_fifty_rules_are_allowed() -> None:
    rules = [tagged(i, f"p{i}") for i in range(1, 51)]
    assert len(parse_lifecycle_policy(policy_text(*rules)).rules) == 50


@pytest.mark.parametrize(
    "patterns", [["*test*1*2*3", "test*1*2*3*"], ["****"], ["*"], [""]], ids=str
)
def test_up_to_four_wildcards(patterns: list[str]) -> None:
    text = policy_text(rule(1, selection=selection(tagStatus="tagged", tagPatternList=patterns)))
    assert parse_lifecycle_policy(text).rules[0].selection.tag_patterns == tuple(patterns)


def test_any_rule_is_last_per_storage_class() -> None:
    """AWS's own combined archive example: `any` transition at 1, `any` archive expire at 2."""
    transition = rule(
        1,
        selection=selection(
            tagStatus="any", countType="sinceImagePushed", countUnit="days", countNumber=30
        ),
        action={"type": "transition", "targetStorageClass": "archive"},
    )
    archive = {**ARCHIVE_EXPIRE, "rulePriority": 2}
    assert len(parse_lifecycle_policy(policy_text(transition, archive)).rules) == 2


def test_one_untagged_rule_per_storage_class() -> None:
    archive = {
        **ARCHIVE_EXPIRE,
        "selection": {**ARCHIVE_EXPIRE["selection"], "tagStatus": "untagged"},
    }
    assert len(parse_lifecycle_policy(policy_text(rule(1), archive)).rules) == 2


def test_same_prefixes_in_different_storage_classes() -> None:
    archive = {
        **ARCHIVE_EXPIRE,
        "selection": {**ARCHIVE_EXPIRE["selection"], "tagStatus": "tagged", "tagPrefixList": ["a"]},
    }
    assert len(parse_lifecycle_policy(policy_text(tagged(1, "a"), archive)).rules) == 2


# --- validation: every rule with its text ---------------------------------------------------

_VALID_RULE = rule(1)

INVALID: list[tuple[str, str, str]] = [
    # JSON
    ("not-json", "some invalid input", p.COULD_NOT_MAP),
    ("top-level-array", json.dumps([_VALID_RULE]), p.COULD_NOT_MAP),
    ("top-level-string", '"rules"', p.COULD_NOT_MAP),
    ("nan", '{"rules": NaN}', p.COULD_NOT_MAP),
    ("int32-priority", policy_text(rule(2**31)), p.COULD_NOT_MAP),
    ("int32-count", policy_text(rule(1, selection=selection(countNumber=2**31))), p.COULD_NOT_MAP),
    (
        "lone-surrogate",  # JSON escapes may name half a character: no text can hold it
        policy_text(rule(1, description="\ud800 half a character")),
        p.COULD_NOT_MAP,
    ),
    # the document
    ("no-rules", "{}", 'object has missing required properties (["rules"])'),
    (
        "unknown-top-level",
        json.dumps({"rules": [_VALID_RULE], "foo": 1, "bar": 2}),
        'object instance has properties which are not allowed by the schema: (["bar","foo"])',
    ),
    (
        "rules-null",
        '{"rules": null}',
        'instance type (null) does not match any allowed primitive type (allowed: ["array"])',
    ),
    (
        "rules-object",
        json.dumps({"rules": _VALID_RULE}),
        'instance type (object) does not match any allowed primitive type (allowed: ["array"])',
    ),
    (
        "no-rule",
        '{"rules": []}',
        "array is too short: must have at least 1 elements but instance has 0 elements",
    ),
    (
        "51-rules",
        policy_text(*[tagged(i, f"p{i}") for i in range(1, 52)]),
        "array is too long: must have at most 50 elements but instance has 51 elements",
    ),
    # a rule
    (
        "rule-not-object",
        policy_text("rule"),
        'instance type (string) does not match any allowed primitive type (allowed: ["object"])',
    ),
    (
        "rule-missing",
        policy_text({"rulePriority": 1}),
        'object has missing required properties (["action","selection"])',
    ),
    (
        "rule-unknown",
        policy_text(rule(1, unknown=123)),
        'object instance has properties which are not allowed by the schema: (["unknown"])',
    ),
    (
        "priority-zero",
        policy_text(rule(0)),
        "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
    ),
    (
        "priority-string",
        policy_text(rule("1")),
        'instance type (string) does not match any allowed primitive type (allowed: ["integer"])',
    ),
    (
        "priority-fraction",
        policy_text(rule(1.5)),
        'instance type (number) does not match any allowed primitive type (allowed: ["integer"])',
    ),
    (
        "priority-bool",
        policy_text(rule(True)),
        'instance type (boolean) does not match any allowed primitive type (allowed: ["integer"])',
    ),
    (
        "description-number",
        policy_text(rule(1, description=5)),
        'instance type (integer) does not match any allowed primitive type (allowed: ["string"])',
    ),
    # the selection
    (
        "selection-missing",
        policy_text(rule(1, selection={})),
        'object has missing required properties (["countNumber","countType","tagStatus"])',
    ),
    (
        "selection-unknown",
        policy_text(rule(1, selection=selection(unknown=1))),
        'object instance has properties which are not allowed by the schema: (["unknown"])',
    ),
    (
        "tag-status-enum",
        policy_text(rule(1, selection=selection(tagStatus="bad"))),
        'instance value (bad) not found in enum :(possible values: ["any","tagged","untagged"])',
    ),
    (
        "pattern-list-null",
        policy_text(rule(1, selection=selection(tagStatus="tagged", tagPatternList=None))),
        'instance type (null) does not match any allowed primitive type (allowed: ["array"])',
    ),
    (
        "prefix-not-string",
        policy_text(rule(1, selection=selection(tagStatus="tagged", tagPrefixList=[1]))),
        'instance type (integer) does not match any allowed primitive type (allowed: ["string"])',
    ),
    (
        "storage-class-enum",
        policy_text(rule(1, selection=selection(storageClass="glacier"))),
        'instance value (glacier) not found in enum :(possible values: ["archive","standard"])',
    ),
    ("count-type-enum", policy_text(rule(1, selection=selection(countType="bad"))), ONE_OF),
    (
        "count-unit-with-count",
        policy_text(rule(1, selection=selection(countUnit="days"))),
        ONE_OF,
    ),
    (
        "since-without-unit",
        policy_text(rule(1, selection=selection(countType="sinceImagePushed"))),
        ONE_OF,
    ),
    (
        "count-unit-null",
        policy_text(rule(1, selection=selection(countType="sinceImagePushed", countUnit=None))),
        ONE_OF,
    ),
    (
        "count-unit-enum",
        policy_text(rule(1, selection=selection(countType="sinceImagePushed", countUnit="hours"))),
        'instance value (hours) not found in enum :(possible values: ["days"])',
    ),
    (
        "count-zero",
        policy_text(rule(1, selection=selection(countNumber=0))),
        "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
    ),
    (
        "count-negative",
        policy_text(rule(1, selection=selection(countNumber=-1))),
        "numeric instance is lower than the required minimum (minimum: 1, found: -1)",
    ),
    (
        "count-string",
        policy_text(rule(1, selection=selection(countNumber="5"))),
        'instance type (string) does not match any allowed primitive type (allowed: ["integer"])',
    ),
    # the action
    (
        "action-not-object",
        policy_text(rule(1, action="expire")),
        'instance type (string) does not match any allowed primitive type (allowed: ["object"])',
    ),
    (
        "action-missing-type",
        policy_text(rule(1, action={})),
        'object has missing required properties (["type"])',
    ),
    (
        "action-unknown",
        policy_text(rule(1, action={"type": "expire", "unknown": 1})),
        'object instance has properties which are not allowed by the schema: (["unknown"])',
    ),
    ("action-type-enum", policy_text(rule(1, action={"type": "keep"})), ONE_OF),
    (
        "expire-with-target-null",
        policy_text(rule(1, action={"type": "expire", "targetStorageClass": None})),
        ONE_OF,
    ),
    (
        "expire-with-target",
        policy_text(rule(1, action={"type": "expire", "targetStorageClass": "archive"})),
        ONE_OF,
    ),
    ("transition-no-target", policy_text(rule(1, action={"type": "transition"})), ONE_OF),
    (
        "transition-to-standard",
        policy_text(rule(1, action={"type": "transition", "targetStorageClass": "standard"})),
        ONE_OF,
    ),
    # the policy's own rules
    (
        "duplicate-priority",
        policy_text(tagged(3, "a"), tagged(1, "b"), tagged(3, "c")),
        p.DUPLICATE_PRIORITY.format(priority=3),
    ),
    (
        "tagged-no-list",
        policy_text(rule(1, selection=selection(tagStatus="tagged"))),
        p.TAGGED_NEEDS_LIST,
    ),
    (
        "tagged-empty-list",
        policy_text(rule(1, selection=selection(tagStatus="tagged", tagPrefixList=[]))),
        p.TAGGED_NEEDS_LIST,
    ),
    (
        "tagged-both-lists",
        policy_text(
            rule(
                1,
                selection=selection(tagStatus="tagged", tagPrefixList=["a"], tagPatternList=["b*"]),
            )
        ),
        p.BOTH_LISTS,
    ),
    (
        "untagged-with-list",
        policy_text(rule(1, selection=selection(tagPrefixList=["a"]))),
        p.LIST_NOT_TAGGED.format(status="UNTAGGED"),
    ),
    (
        "any-with-empty-list",
        policy_text(rule(1, selection=selection(tagStatus="any", tagPatternList=[]))),
        p.LIST_NOT_TAGGED.format(status="ANY"),
    ),
    (
        "five-wildcards",
        policy_text(
            rule(1, selection=selection(tagStatus="tagged", tagPatternList=["test*1*2*3*4*5*6"]))
        ),
        p.TOO_MANY_WILDCARDS.format(pattern="test*1*2*3*4*5*6"),
    ),
    (
        "any-not-last",
        policy_text(rule(1, selection=selection(tagStatus="any")), tagged(2, "a")),
        p.ANY_NOT_LAST,
    ),
    (
        "two-any",
        policy_text(
            rule(1, selection=selection(tagStatus="any")),
            rule(2, selection=selection(tagStatus="any", countNumber=5)),
        ),
        p.ANY_NOT_LAST,
    ),
    (
        "two-untagged",
        policy_text(rule(1), rule(2, selection=selection(countNumber=5))),
        p.TWO_UNTAGGED,
    ),
    (
        "same-prefix-set",
        policy_text(tagged(1, "a", "b"), tagged(2, "b", "a")),
        p.DUPLICATE_PREFIXES,
    ),
    (
        "same-pattern-set",
        policy_text(
            rule(1, selection=selection(tagStatus="tagged", tagPatternList=["a*"])),
            rule(2, selection=selection(tagStatus="tagged", tagPatternList=["a*"], countNumber=3)),
        ),
        p.DUPLICATE_PATTERNS,
    ),
    (
        "pulled-expire",
        policy_text(
            rule(
                1,
                selection=selection(
                    tagStatus="any", countType="sinceImagePulled", countUnit="days", countNumber=9
                ),
            )
        ),
        p.PULLED_NOT_TRANSITION,
    ),
    (
        "transitioned-standard",
        policy_text(
            rule(
                1,
                selection=selection(
                    countType="sinceImageTransitioned", countUnit="days", countNumber=90
                ),
            )
        ),
        p.TRANSITIONED_SHAPE,
    ),
    (
        "transitioned-transition",
        policy_text(
            {
                **ARCHIVE_EXPIRE,
                "action": {"type": "transition", "targetStorageClass": "archive"},
            }
        ),
        p.TRANSITIONED_SHAPE,
    ),
    (
        "archive-count",
        policy_text(rule(1, selection=selection(storageClass="archive"))),
        p.ARCHIVE_CLASS_SHAPE,
    ),
    (
        "archive-pushed",
        policy_text(
            rule(
                1,
                selection=selection(
                    storageClass="archive",
                    countType="sinceImagePushed",
                    countUnit="days",
                    countNumber=90,
                ),
            )
        ),
        p.ARCHIVE_CLASS_SHAPE,
    ),
    (
        "archive-under-90-days",
        policy_text(
            {**ARCHIVE_EXPIRE, "selection": {**ARCHIVE_EXPIRE["selection"], "countNumber": 89}}
        ),
        p.ARCHIVE_TOO_SHORT,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_policy(text: str, expected: str) -> None:
    assert detail(text) == expected


def test_first_violation_wins() -> None:
    """Schema problems come before the policy's own rules; rules in array order."""
    text = policy_text(tagged(1, "a"), tagged(1, "a"), rule(2, selection={}))
    assert (
        detail(text)
        == 'object has missing required properties (["countNumber","countType","tagStatus"])'
    )


# --- the normal form ------------------------------------------------------------------------


def test_normal_form_of_the_aws_cli_example() -> None:
    """aws CLI's put-lifecycle-policy example: pretty JSON in, ECR's compact text out."""
    submitted = """{
       "rules": [
           {
               "rulePriority": 1,
               "description": "Expire images older than 14 days",
               "selection": {
                   "tagStatus": "untagged",
                   "countType": "sinceImagePushed",
                   "countUnit": "days",
                   "countNumber": 14
               },
               "action": {
                   "type": "expire"
               }
           }
       ]
    }"""
    assert normalize_lifecycle_policy(submitted) == (
        '{"rules":[{"rulePriority":1,"description":"Expire images older than 14 days",'
        '"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",'
        '"countNumber":14},"action":{"type":"expire"}}]}'
    )


def test_normal_form_orders_rules_and_keys_and_adds_nothing() -> None:
    """Terraform's jsonencode sorts keys; ECR answers in its template's order, by priority."""
    alphabetical = json.dumps(
        {
            "rules": [
                {
                    "action": {"targetStorageClass": "archive", "type": "transition"},
                    "rulePriority": 2,
                    "selection": {
                        "countNumber": 30,
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "storageClass": "standard",
                        "tagPatternList": ["prod*"],
                        "tagStatus": "tagged",
                    },
                },
                {
                    "action": {"type": "expire"},
                    "description": "untagged",
                    "rulePriority": 1,
                    "selection": {
                        "countNumber": 2,
                        "countType": "imageCountMoreThan",
                        "tagStatus": "untagged",
                    },
                },
            ]
        },
        sort_keys=True,
    )
    assert normalize_lifecycle_policy(alphabetical) == (
        '{"rules":['
        '{"rulePriority":1,"description":"untagged","selection":{"tagStatus":"untagged",'
        '"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}},'
        '{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],'
        '"storageClass":"standard","countType":"sinceImagePushed","countUnit":"days",'
        '"countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}]}'
    )


def test_normal_form_keeps_text_and_list_order() -> None:
    text = policy_text(
        rule(
            1,
            description='Bilder älter als 14 Tage / "quoted"',
            selection=selection(tagStatus="tagged", tagPrefixList=["third", "first"]),
        )
    )
    normal = normalize_lifecycle_policy(text)
    assert '"description":"Bilder älter als 14 Tage / \\"quoted\\""' in normal
    assert '"tagPrefixList":["third","first"]' in normal
    assert normalize_lifecycle_policy(normal) == normal
    assert parse_lifecycle_policy(normal) == parse_lifecycle_policy(text)
