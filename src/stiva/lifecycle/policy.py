"""ECR lifecycle policies: the grammar, its validation with ECR's messages, its normal form.

A policy is ``{"rules": [rule, ...]}`` with 1 to 50 rules:

    {"rulePriority": 1,                        unique integer >= 1; lower runs first
     "description": "...",                     optional
     "selection": {"tagStatus": "tagged" | "untagged" | "any",
                   "tagPatternList": ["prod*"] | "tagPrefixList": ["prod"],   tagged only, one
                   "storageClass": "standard" | "archive",                    default standard
                   "countType": "imageCountMoreThan" | "sinceImagePushed"
                              | "sinceImagePulled" | "sinceImageTransitioned",
                   "countUnit": "days",                                       since* only
                   "countNumber": 14},                                        integer >= 1
     "action": {"type": "expire" | "transition", "targetStorageClass": "archive"}}

Validation runs in ECR's order and stops at the first failure, whose text is
`LifecyclePolicyError.detail` (what ECR puts after "Lifecycle policy validation failure: "):

1. the text is a JSON object, else "Could not map policyString into LifecyclePolicy.";
2. the JSON schema (`stiva.lifecycle.schema`), in the schema validator's words;
3. integers fit ECR's 32-bit fields, else "Could not map policyString into LifecyclePolicy.";
4. the policy's own rules, in ECR's words where they are known:
   unique rulePriority; tagged ⇒ exactly one non-empty tagPrefixList / tagPatternList,
   untagged and any ⇒ neither; at most 4 '*' in a pattern; sinceImagePulled only with
   transition; sinceImageTransitioned only with expire, storageClass archive and at least
   90 days (archived images stay 90 days); storageClass archive only with
   sinceImageTransitioned; and, among the rules selecting one storage class: the `any` rule
   comes last, at most one rule selects untagged images, no two rules share a prefix set
   (or a pattern set).

The length limits of the API (100 to 30,720 characters) belong to the API model and are
checked there, not here.

`normalize_lifecycle_policy` gives the text as ECR stores and returns it: compact JSON, rules
sorted by priority, keys in the order of ECR's template (rulePriority, description, selection
{tagStatus, tagPatternList, tagPrefixList, storageClass, countType, countUnit, countNumber},
action {type, targetStorageClass}), and only the keys the author wrote: ECR adds no defaults
(the aws CLI's documented put-lifecycle-policy output).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from stiva.jsontext import has_lone_surrogate
from stiva.lifecycle.schema import SchemaViolation, check_document

TagStatus = Literal["tagged", "untagged", "any"]
StorageClass = Literal["standard", "archive"]
CountType = Literal[
    "imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"
]
ActionType = Literal["expire", "transition"]

MAX_WILDCARDS = 4
MIN_ARCHIVE_DAYS = 90
_INT32_MAX = 2**31 - 1

COULD_NOT_MAP = "Could not map policyString into LifecyclePolicy."
# Texts seen in ECR's answers (quoted in public issues and notes):
TAGGED_NEEDS_LIST = "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."
ANY_NOT_LAST = "Rule for tagStatus=ANY must have the lowest priority per storage class."
TWO_UNTAGGED = "Only one rule can select Untagged images per storage class."
# Texts of our own, in the same style (ECR's wording not found in public sources):
DUPLICATE_PRIORITY = "Duplicate rulePriority {priority}: every rule needs a unique rulePriority."
BOTH_LISTS = "Cannot specify both tagPrefixList and tagPatternList in one rule."
LIST_NOT_TAGGED = "Cannot specify tagPrefixList or tagPatternList when tagStatus={status}."
TOO_MANY_WILDCARDS = "Tag pattern {pattern} has more than 4 wildcards (*)."
DUPLICATE_PREFIXES = "Rules selecting a storage class must contain a unique set of tag prefixes."
DUPLICATE_PATTERNS = "Rules selecting a storage class must contain a unique set of tag patterns."
PULLED_NOT_TRANSITION = "countType=sinceImagePulled can only be used with action type transition."
TRANSITIONED_SHAPE = (
    "countType=sinceImageTransitioned can only be used with storageClass=archive "
    "and action type expire."
)
ARCHIVE_CLASS_SHAPE = "storageClass=archive can only be used with countType=sinceImageTransitioned."
ARCHIVE_TOO_SHORT = "Archived images must stay archived for at least 90 days (countNumber >= 90)."


class LifecyclePolicyError(ValueError):
    """The policy text is not a valid lifecycle policy.

    `detail` is the text ECR puts after "Lifecycle policy validation failure: "; `message` is
    the whole InvalidParameterException message ECR answers with.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def message(self) -> str:
        return (
            "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
            f"'Lifecycle policy validation failure: {self.detail}'"
        )


@dataclass(frozen=True, slots=True)
class Selection:
    tag_status: TagStatus
    tag_prefixes: tuple[str, ...]
    tag_patterns: tuple[str, ...]
    storage_class: StorageClass
    count_type: CountType
    count_unit: str | None  # "days" for the since* count types, else None
    count_number: int


@dataclass(frozen=True, slots=True)
class Rule:
    priority: int
    description: str | None
    selection: Selection
    action: ActionType
    target_storage_class: str | None  # "archive" for transition, else None


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    rules: tuple[Rule, ...]  # sorted by priority

    def rules_for(self, storage_class: StorageClass) -> tuple[Rule, ...]:
        """The rules selecting images of `storage_class`, by priority."""
        return tuple(r for r in self.rules if r.selection.storage_class == storage_class)


def parse_lifecycle_policy(text: str) -> LifecyclePolicy:
    """The policy `text` holds; LifecyclePolicyError (with ECR's detail) if it is invalid."""
    return _validated(text)[1]


def normalize_lifecycle_policy(text: str) -> str:
    """`text` as ECR stores and returns it (validated first, like `parse_lifecycle_policy`)."""
    document, _ = _validated(text)
    rules = sorted(document["rules"], key=lambda rule: rule["rulePriority"])
    return json.dumps(
        {"rules": [_canonical_rule(rule) for rule in rules]},
        separators=(",", ":"),
        ensure_ascii=False,
    )


# --- stages ---------------------------------------------------------------------------------


def _validated(text: str) -> tuple[dict[str, Any], LifecyclePolicy]:
    document = _load(text)
    try:
        check_document(document)
    except SchemaViolation as exc:
        raise LifecyclePolicyError(exc.detail) from None
    raw_rules = cast(list[dict[str, Any]], document["rules"])
    for raw in raw_rules:
        if max(raw["rulePriority"], raw["selection"]["countNumber"]) > _INT32_MAX:
            raise LifecyclePolicyError(COULD_NOT_MAP)
    _check_unique_priorities([raw["rulePriority"] for raw in raw_rules])
    by_priority = sorted(raw_rules, key=lambda raw: int(raw["rulePriority"]))
    policy = LifecyclePolicy(tuple(_rule(raw) for raw in by_priority))
    for storage_class in ("standard", "archive"):
        _check_storage_class(policy.rules_for(storage_class))
    return document, policy


def _load(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        raise LifecyclePolicyError(COULD_NOT_MAP) from None
    if not isinstance(document, dict):
        raise LifecyclePolicyError(COULD_NOT_MAP)
    if has_lone_surrogate(document):
        raise LifecyclePolicyError(COULD_NOT_MAP)
    return document


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _rule(raw: Mapping[str, Any]) -> Rule:
    """A schema-valid rule as a Rule, after the checks that concern it alone."""
    selection = _selection(raw["selection"])
    action = cast(ActionType, raw["action"]["type"])
    _check_combination(selection, action)
    return Rule(
        priority=raw["rulePriority"],
        description=raw.get("description"),
        selection=selection,
        action=action,
        target_storage_class=raw["action"].get("targetStorageClass"),
    )


def _selection(raw: Mapping[str, Any]) -> Selection:
    status = cast(TagStatus, raw["tagStatus"])
    prefixes = tuple(cast(list[str], raw.get("tagPrefixList", [])))
    patterns = tuple(cast(list[str], raw.get("tagPatternList", [])))
    if status != "tagged" and ("tagPrefixList" in raw or "tagPatternList" in raw):
        raise LifecyclePolicyError(LIST_NOT_TAGGED.format(status=status.upper()))
    if status == "tagged" and "tagPrefixList" in raw and "tagPatternList" in raw:
        raise LifecyclePolicyError(BOTH_LISTS)
    if status == "tagged" and not (prefixes or patterns):
        raise LifecyclePolicyError(TAGGED_NEEDS_LIST)
    for pattern in patterns:
        if pattern.count("*") > MAX_WILDCARDS:
            raise LifecyclePolicyError(TOO_MANY_WILDCARDS.format(pattern=pattern))
    return Selection(
        tag_status=status,
        tag_prefixes=prefixes,
        tag_patterns=patterns,
        storage_class=cast(StorageClass, raw.get("storageClass", "standard")),
        count_type=cast(CountType, raw["countType"]),
        count_unit=raw.get("countUnit"),
        count_number=raw["countNumber"],
    )


# --- the policy's own rules -----------------------------------------------------------------


def _check_unique_priorities(priorities: Sequence[int]) -> None:
    seen: set[int] = set()
    for priority in sorted(priorities):
        if priority in seen:
            raise LifecyclePolicyError(DUPLICATE_PRIORITY.format(priority=priority))
        seen.add(priority)


def _check_combination(selection: Selection, action: ActionType) -> None:
    count_type = selection.count_type
    if count_type == "sinceImagePulled" and action != "transition":
        raise LifecyclePolicyError(PULLED_NOT_TRANSITION)
    if count_type == "sinceImageTransitioned":
        if selection.storage_class != "archive" or action != "expire":
            raise LifecyclePolicyError(TRANSITIONED_SHAPE)
        if selection.count_number < MIN_ARCHIVE_DAYS:
            raise LifecyclePolicyError(ARCHIVE_TOO_SHORT)
    elif selection.storage_class == "archive":
        raise LifecyclePolicyError(ARCHIVE_CLASS_SHAPE)


def _check_storage_class(rules: Sequence[Rule]) -> None:
    """ECR's rules among the rules selecting one storage class (sorted by priority)."""
    statuses = [rule.selection.tag_status for rule in rules]
    if "any" in statuses[:-1]:
        raise LifecyclePolicyError(ANY_NOT_LAST)
    if statuses.count("untagged") > 1:
        raise LifecyclePolicyError(TWO_UNTAGGED)
    prefix_sets = [frozenset(r.selection.tag_prefixes) for r in rules if r.selection.tag_prefixes]
    if len(set(prefix_sets)) < len(prefix_sets):
        raise LifecyclePolicyError(DUPLICATE_PREFIXES)
    pattern_sets = [frozenset(r.selection.tag_patterns) for r in rules if r.selection.tag_patterns]
    if len(set(pattern_sets)) < len(pattern_sets):
        raise LifecyclePolicyError(DUPLICATE_PATTERNS)


# --- normal form ----------------------------------------------------------------------------

_RULE_ORDER = ("rulePriority", "description", "selection", "action")
_SELECTION_ORDER = (
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
_ACTION_ORDER = ("type", "targetStorageClass")


def _canonical_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    canonical = _ordered(rule, _RULE_ORDER)
    canonical["selection"] = _ordered(rule["selection"], _SELECTION_ORDER)
    canonical["action"] = _ordered(rule["action"], _ACTION_ORDER)
    return canonical


def _ordered(value: Mapping[str, Any], order: Sequence[str]) -> dict[str, Any]:
    return {key: value[key] for key in order if key in value}
