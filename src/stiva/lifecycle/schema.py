"""The JSON-schema stage of lifecycle policy validation, in the words ECR uses.

ECR checks a policy text against a JSON schema before it reads it, and puts the schema
validator's message (the wording of java-json-tools' json-schema-validator) after "Lifecycle
policy validation failure: ". This module is that schema written out as code:

    policy        object; required: rules; nothing else
      rules       array of 1..50 rules
    rule          object; required: rulePriority, selection, action; optional: description
      rulePriority  integer >= 1            description  string
    selection     object; required: tagStatus, countType, countNumber;
                  optional: tagPatternList, tagPrefixList, storageClass, countUnit
      tagStatus     enum any | tagged | untagged
      tagPatternList, tagPrefixList   arrays of strings
      storageClass  enum archive | standard
      countUnit     enum days
      countNumber   integer >= 1
      oneOf         {countType imageCountMoreThan, no countUnit}
                  | {countType sinceImagePushed | sinceImagePulled | sinceImageTransitioned,
                     countUnit days}
    action        object; required: type; optional: targetStorageClass
      oneOf         {type expire, no targetStorageClass}
                  | {type transition, targetStorageClass archive}

The messages (evidence and confidence are listed in tests/unit/test_lifecycle_policy.py):

    instance type (null) does not match any allowed primitive type (allowed: ["array"])
    object has missing required properties (["rules"])
    object instance has properties which are not allowed by the schema: (["foo"])
    instance value (bad) not found in enum :(possible values: ["any","tagged","untagged"])
    numeric instance is lower than the required minimum (minimum: 1, found: 0)
    instance failed to match exactly one schema (matched 0 out of 2)
    array is too long: must have at most 50 elements but instance has 51 elements

The first violation is reported (ECR may join several with newlines; one is enough to act
on). Checks go top-down, rules in array order; within an object: its type, missing
properties, unknown properties, then each property, then the oneOf.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

MAX_RULES = 50
SINCE_COUNT_TYPES = ("sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
TAG_STATUSES = ("any", "tagged", "untagged")
STORAGE_CLASSES = ("archive", "standard")
COUNT_UNITS = ("days",)
ONE_OF = "instance failed to match exactly one schema (matched 0 out of 2)"

_RULE_KEYS = ("rulePriority", "description", "selection", "action")
_SELECTION_REQUIRED = ("tagStatus", "countType", "countNumber")
_SELECTION_KEYS = (
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
_ACTION_KEYS = ("type", "targetStorageClass")


class SchemaViolation(Exception):
    """The policy document breaks the schema; `detail` is the validator's message."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def check_document(document: Mapping[str, object]) -> None:
    """Raise SchemaViolation for the first way `document` (a JSON object) breaks the schema."""
    _check_keys(document, required=("rules",), allowed=("rules",))
    rules = _array(document["rules"])
    if len(rules) > MAX_RULES:
        raise SchemaViolation(
            f"array is too long: must have at most {MAX_RULES} elements "
            f"but instance has {len(rules)} elements"
        )
    if not rules:
        raise SchemaViolation(
            "array is too short: must have at least 1 elements but instance has 0 elements"
        )
    for rule in rules:
        _check_rule(rule)


def _check_rule(value: object) -> None:
    rule = _object(value)
    _check_keys(rule, required=("rulePriority", "selection", "action"), allowed=_RULE_KEYS)
    _integer(rule["rulePriority"], minimum=1)
    if "description" in rule:
        _string(rule["description"])
    _check_action(rule["action"])
    _check_selection(rule["selection"])


def _check_selection(value: object) -> None:
    selection = _object(value)
    _check_keys(selection, required=_SELECTION_REQUIRED, allowed=_SELECTION_KEYS)
    _enum(selection["tagStatus"], TAG_STATUSES)
    for key in ("tagPatternList", "tagPrefixList"):
        if key in selection:
            for item in _array(selection[key]):
                _string(item)
    if "storageClass" in selection:
        _enum(selection["storageClass"], STORAGE_CLASSES)
    unit = selection.get("countUnit")
    if isinstance(unit, str):
        _enum(unit, COUNT_UNITS)
    count_type = selection["countType"]
    by_count = count_type == "imageCountMoreThan" and "countUnit" not in selection
    by_age = count_type in SINCE_COUNT_TYPES and unit == "days"
    if not (by_count or by_age):
        raise SchemaViolation(ONE_OF)
    _integer(selection["countNumber"], minimum=1)


def _check_action(value: object) -> None:
    action = _object(value)
    _check_keys(action, required=("type",), allowed=_ACTION_KEYS)
    kind = action["type"]
    expire = kind == "expire" and "targetStorageClass" not in action
    transition = kind == "transition" and action.get("targetStorageClass") == "archive"
    if not (expire or transition):
        raise SchemaViolation(ONE_OF)


# --- the validator's keywords ---------------------------------------------------------------


def type_name(value: object) -> str:
    """The JSON-schema primitive type of a value `json.loads` produced."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _require_type(value: object, expected: str) -> None:
    found = type_name(value)
    if found != expected:
        raise SchemaViolation(
            f"instance type ({found}) does not match any allowed primitive type "
            f"(allowed: {_json_list([expected])})"
        )


def _object(value: object) -> Mapping[str, object]:
    _require_type(value, "object")
    assert isinstance(value, dict)
    return value


def _array(value: object) -> Sequence[object]:
    _require_type(value, "array")
    assert isinstance(value, list)
    return value


def _string(value: object) -> str:
    _require_type(value, "string")
    assert isinstance(value, str)
    return value


def _integer(value: object, *, minimum: int) -> None:
    _require_type(value, "integer")
    assert isinstance(value, int)
    if value < minimum:
        raise SchemaViolation(
            "numeric instance is lower than the required minimum "
            f"(minimum: {minimum}, found: {value})"
        )


def _enum(value: object, allowed: Sequence[str]) -> None:
    text = _string(value)
    if text not in allowed:
        raise SchemaViolation(
            f"instance value ({text}) not found in enum "
            f":(possible values: {_json_list(sorted(allowed))})"
        )


def _check_keys(
    value: Mapping[str, object], *, required: Sequence[str], allowed: Sequence[str]
) -> None:
    missing = sorted(set(required) - value.keys())
    if missing:
        raise SchemaViolation(f"object has missing required properties ({_json_list(missing)})")
    unwanted = sorted(value.keys() - set(allowed))
    if unwanted:
        raise SchemaViolation(
            "object instance has properties which are not allowed by the schema: "
            f"({_json_list(unwanted)})"
        )


def _json_list(items: Iterable[str]) -> str:
    return json.dumps(list(items), separators=(",", ":"), ensure_ascii=False)
