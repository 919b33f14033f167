"""IAM policy documents: the grammar, parsed into typed values an evaluator can use.

`parse_policy(text, resource_based=...)` checks a policy document against IAM's grammar and
returns a `Policy`; anything else raises `PolicyError` naming the first problem found. Pure: no
I/O, no framework, no knowledge of which service the policy is for (ECR's own rules on top of
the grammar live in `stiva.services.policies`).

The grammar enforced (IAM's JSON policy reference):

    Policy     {"Version"?: "2012-10-17" | "2008-10-17",  (absent means 2008-10-17)
                "Id"?: string,
                "Statement": Statement | [Statement, ...]}       (a list must not be empty)
    Statement  {"Sid"?: string                                    (unique within the policy),
                "Effect": "Allow" | "Deny",
                "Principal" | "NotPrincipal": Principal           (exactly one when the policy is
                                                                   resource-based, none otherwise),
                "Action" | "NotAction": Strings                   (exactly one),
                "Resource" | "NotResource": Strings               (at most one; exactly one in an
                                                                   identity policy),
                "Condition"?: {operator: {key: Values}}}
    Principal  "*" | {"AWS" | "Service" | "Federated" | "CanonicalUser": Strings, ...}
    Strings    string | [string, ...]                             (a list must not be empty)
    Values     scalar | [scalar, ...]                             (JSON strings, numbers, booleans)

Actions are `"*"` or `service:Name`, where the name may use the wildcards `*` and `?`. AWS
principals are `"*"`, a 12-digit account id, or an IAM/STS ARN (`:root`, `user/...`, `role/...`,
`assumed-role/...`, `federated-user/...`). Condition operators are IAM's (String*, Numeric*,
Date*, Bool, BinaryEquals, IpAddress, NotIpAddress, Arn*, Null), optionally suffixed `IfExists`
(not `Null`) and prefixed `ForAnyValue:` / `ForAllValues:`; numeric, boolean, date and IP values
are checked for their type. Unknown keys at either level are errors. Duplicate JSON keys: the last
wins, as in the JSON parsers AWS services use.

Matching helpers (`action_matches`, `Statement.applies_to_action`,
`Statement.applies_to_principal`) follow IAM: action names compare case-insensitively with
`*`/`?` wildcards; an account principal (id or `:root` ARN) stands for every identity of that
account.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from stiva.jsontext import LONE_SURROGATE, has_lone_surrogate

Effect = Literal["Allow", "Deny"]

VERSIONS: Final = ("2012-10-17", "2008-10-17")
DEFAULT_VERSION: Final = "2008-10-17"

_POLICY_KEYS: Final = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS: Final = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_PRINCIPAL_KEYS: Final = ("AWS", "Service", "Federated", "CanonicalUser")

_STRING_OPERATORS: Final = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
)
_NUMERIC_OPERATORS: Final = tuple(
    f"Numeric{s}"
    for s in (
        "Equals",
        "NotEquals",
        "LessThan",
        "LessThanEquals",
        "GreaterThan",
        "GreaterThanEquals",
    )
)
_DATE_OPERATORS: Final = tuple(op.replace("Numeric", "Date") for op in _NUMERIC_OPERATORS)
_ARN_OPERATORS: Final = ("ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike")
_IP_OPERATORS: Final = ("IpAddress", "NotIpAddress")
OPERATORS: Final = frozenset(
    (
        *_STRING_OPERATORS,
        *_NUMERIC_OPERATORS,
        *_DATE_OPERATORS,
        *_ARN_OPERATORS,
        *_IP_OPERATORS,
        "Bool",
        "BinaryEquals",
        "Null",
    )
)
SET_QUALIFIERS: Final = ("ForAnyValue", "ForAllValues")

_ACTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*:[A-Za-z0-9*?]+", re.ASCII)
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
_AWS_ARN = re.compile(
    r"arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:"
    r"(root|(user|role|assumed-role|federated-user)/\S+)",
    re.ASCII,
)
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?", re.ASCII)
_CANONICAL_USER = re.compile(r"[0-9a-f]{64}", re.ASCII)
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


class PolicyError(ValueError):
    """The text is not a valid policy document; the message says why."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A `Principal` / `NotPrincipal` element: `"*"` (`anyone`) or principals by type."""

    anyone: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()

    def matches(self, *, arn: str, account_id: str) -> bool:
        """Whether an IAM identity (`arn`, of account `account_id`) is one of these principals."""
        if self.anyone or "*" in self.aws:
            return True
        root = re.compile(rf"arn:aws[a-z-]*:iam::{re.escape(account_id)}:root")
        return any(
            value in (arn, account_id) or root.fullmatch(value) is not None for value in self.aws
        )


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition: `operator` as written (e.g. `ForAnyValue:StringLikeIfExists`), a key and
    its values (JSON numbers and booleans as IAM reads them: as strings)."""

    operator: str
    key: str
    values: tuple[str, ...]

    @property
    def qualifier(self) -> str | None:
        """`ForAnyValue`, `ForAllValues`, or None."""
        head, sep, _ = self.operator.partition(":")
        return head if sep else None

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")

    @property
    def base(self) -> str:
        """The operator without qualifier and `IfExists` (e.g. `StringLike`)."""
        name = self.operator.rpartition(":")[2]
        return name.removesuffix("IfExists")


@dataclass(frozen=True, slots=True)
class Statement:
    effect: Effect
    sid: str | None = None
    principal: Principal | None = None
    not_principal: Principal | None = None
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()

    @property
    def action_patterns(self) -> tuple[str, ...]:
        """The patterns of whichever of Action / NotAction the statement has."""
        return self.action if self.action is not None else (self.not_action or ())

    def applies_to_action(self, action: str) -> bool:
        if self.action is not None:
            return any(action_matches(p, action) for p in self.action)
        return not any(action_matches(p, action) for p in self.not_action or ())

    def applies_to_principal(self, *, arn: str, account_id: str) -> bool:
        """Whether the statement's principal element covers the identity (identity policies,
        which have none, cover their holder)."""
        if self.principal is not None:
            return self.principal.matches(arn=arn, account_id=account_id)
        if self.not_principal is not None:
            return not self.not_principal.matches(arn=arn, account_id=account_id)
        return True


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    id: str | None
    statements: tuple[Statement, ...]


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` any run of characters, `?` one character."""
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern.lower()
    )
    return re.fullmatch(regex, action.lower(), re.DOTALL) is not None


# --------------------------------------------------------------------------- parsing


def _reject_constant(name: str) -> Any:
    raise PolicyError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise PolicyError(f"{text} is out of range")
    return value


def load_json_object(text: str) -> dict[str, Any]:
    """The JSON object `text` holds (strict JSON: no NaN, no infinite numbers); PolicyError
    otherwise."""
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"the policy is not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise PolicyError("the policy must be a JSON object")
    if has_lone_surrogate(document):
        raise PolicyError(f"the policy is not valid Unicode: {LONE_SURROGATE}")
    return document


def parse_policy(text: str, *, resource_based: bool) -> Policy:
    """Parse and validate a policy document.

    `resource_based`: the policy is attached to a resource (Principal / NotPrincipal required)
    rather than to an identity (no principal; Resource / NotResource required).
    """
    document = load_json_object(text)
    _no_unknown_keys(document, _POLICY_KEYS, "policy")
    version = document.get("Version", DEFAULT_VERSION)
    if version not in VERSIONS:
        raise PolicyError(f"Version must be one of {', '.join(VERSIONS)}")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError("Id must be a string")
    if "Statement" not in document:
        raise PolicyError("the policy has no Statement")
    raw = document["Statement"]
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise PolicyError("Statement must be an object or a non-empty list of objects")
    statements = tuple(_statement(item, resource_based) for item in items)
    sids = [s.sid for s in statements if s.sid is not None]
    if len(set(sids)) != len(sids):
        raise PolicyError("statement ids (Sid) must be unique")
    return Policy(version=version, id=policy_id, statements=statements)


def _no_unknown_keys(element: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(element) - allowed)
    if unknown:
        raise PolicyError(f"unknown {where} element {unknown[0]!r}")


def _one_of(element: Mapping[str, Any], first: str, second: str) -> str | None:
    if first in element and second in element:
        raise PolicyError(f"a statement cannot have both {first} and {second}")
    return first if first in element else second if second in element else None


def _statement(element: object, resource_based: bool) -> Statement:
    if not isinstance(element, dict):
        raise PolicyError("each statement must be a JSON object")
    _no_unknown_keys(element, _STATEMENT_KEYS, "statement")
    sid = element.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError("Sid must be a string")
    effect = element.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError("Effect must be Allow or Deny")
    action_key = _one_of(element, "Action", "NotAction")
    if action_key is None:
        raise PolicyError("a statement needs Action or NotAction")
    actions = tuple(_action(a) for a in _strings(element[action_key], action_key))
    principal_key = _one_of(element, "Principal", "NotPrincipal")
    if resource_based and principal_key is None:
        raise PolicyError("a statement needs Principal or NotPrincipal")
    if not resource_based and principal_key is not None:
        raise PolicyError(f"an identity policy cannot have {principal_key}")
    principal = _principal(element[principal_key]) if principal_key else None
    resource_key = _one_of(element, "Resource", "NotResource")
    if not resource_based and resource_key is None:
        raise PolicyError("a statement needs Resource or NotResource")
    resources = _resources(element[resource_key], resource_key) if resource_key else None
    return Statement(
        effect=effect,
        sid=sid,
        principal=principal if principal_key == "Principal" else None,
        not_principal=principal if principal_key == "NotPrincipal" else None,
        action=actions if action_key == "Action" else None,
        not_action=actions if action_key == "NotAction" else None,
        resource=resources if resource_key == "Resource" else None,
        not_resource=resources if resource_key == "NotResource" else None,
        conditions=_conditions(element.get("Condition", {})),
    )


def _strings(value: object, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"{where} must be a non-empty string or a non-empty list of them")
    return tuple(items)


def _action(value: str) -> str:
    if value != "*" and _ACTION.fullmatch(value) is None:
        raise PolicyError(f"{value!r} is not an action (service:Action or *)")
    return value


def _resources(value: object, where: str) -> tuple[str, ...]:
    resources = _strings(value, where)
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise PolicyError(f"{resource!r} is not a resource (an ARN or *)")
    return resources


def _principal(value: object) -> Principal:
    if value == "*":
        return Principal(anyone=True)
    if not isinstance(value, dict) or not value:
        raise PolicyError('a principal must be "*" or an object of principal types')
    _no_unknown_keys(value, frozenset(_PRINCIPAL_KEYS), "principal")
    aws = _strings(value["AWS"], "AWS") if "AWS" in value else ()
    service = _strings(value["Service"], "Service") if "Service" in value else ()
    federated = _strings(value["Federated"], "Federated") if "Federated" in value else ()
    canonical = (
        _strings(value["CanonicalUser"], "CanonicalUser") if "CanonicalUser" in value else ()
    )
    for item in aws:
        if item != "*" and not (_ACCOUNT.fullmatch(item) or _AWS_ARN.fullmatch(item)):
            raise PolicyError(f"{item!r} is not an AWS principal (account id, IAM ARN or *)")
    for item in service:
        if item != "*" and _SERVICE.fullmatch(item) is None:
            raise PolicyError(f"{item!r} is not a service principal")
    for item in canonical:
        if _CANONICAL_USER.fullmatch(item) is None:
            raise PolicyError(f"{item!r} is not a canonical user id")
    return Principal(aws=aws, service=service, federated=federated, canonical_user=canonical)


# --------------------------------------------------------------------------- conditions


def check_operator(operator: str) -> str:
    """The base operator of `operator` (see `Condition.base`); PolicyError if IAM has none such."""
    qualifier, sep, name = operator.rpartition(":")
    if sep and qualifier not in SET_QUALIFIERS:
        raise PolicyError(f"{operator!r} has an unknown set qualifier")
    base = name.removesuffix("IfExists")
    if base not in OPERATORS or (base == "Null" and name != base):
        raise PolicyError(f"{operator!r} is not a condition operator")
    return base


def _conditions(value: object) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyError("Condition must be an object of operators")
    found: list[Condition] = []
    for operator, block in value.items():
        base = check_operator(operator)
        if not isinstance(block, dict) or not block:
            raise PolicyError(f"condition {operator} must map condition keys to values")
        for key, raw in block.items():
            if not key:
                raise PolicyError(f"condition {operator} has an empty key")
            values = _condition_values(raw, operator)
            for item in values:
                _check_value(base, item, operator)
            found.append(Condition(operator=operator, key=key, values=values))
    return tuple(found)


def _scalar(value: object, operator: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise PolicyError(f"condition {operator} values must be strings, numbers or booleans")


def _condition_values(raw: object, operator: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(f"condition {operator} has an empty list of values")
    return tuple(_scalar(item, operator) for item in items)


def _check_value(base: str, value: str, operator: str) -> None:
    if base.startswith("Numeric") and _NUMBER.fullmatch(value) is None:
        raise PolicyError(f"condition {operator}: {value!r} is not a number")
    if base in ("Bool", "Null") and value.lower() not in ("true", "false"):
        raise PolicyError(f"condition {operator}: {value!r} is not true or false")
    if base.startswith("Date") and not _is_date(value):
        raise PolicyError(f"condition {operator}: {value!r} is not a date")
    if base in _IP_OPERATORS:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise PolicyError(f"condition {operator}: {value!r} is not an IP range") from None


def _is_date(value: str) -> bool:
    if value.isdigit():  # epoch seconds
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
