"""Condition operators (`stiva.iam.conditions`): each operator, IfExists, set qualifiers, Null,
missing keys and policy variables, with IAM's semantics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from stiva.iam.conditions import compile_condition, parse_instant, parse_number
from stiva.iam.evaluate import RequestContext
from stiva.iam.policy import parse_policy

ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/dev/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci"
MISSING = None  # the request has no such key

Request = str | Sequence[str] | None


def holds(
    operator: str,
    key: str,
    policy_values: Any,
    request: Request,
    *,
    version: str = "2012-10-17",
    principal: str = "user",
    extra: dict[str, str | Sequence[str]] | None = None,
) -> bool:
    """Whether `{operator: {key: policy_values}}` holds when the request has `key` = `request`
    (MISSING: no such key), for alice (an IAM user) or the deploy role's session."""
    document = {
        "Version": version,
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ecr:*",
                "Resource": "*",
                "Condition": {operator: {key: policy_values}},
            }
        ],
    }
    policy = parse_policy(json.dumps(document), resource_based=False)
    (condition,) = policy.statements[0].conditions
    keys: dict[str, str | Sequence[str]] = dict(extra or {})
    if request is not MISSING:
        keys[key] = request
    context = RequestContext(
        principal_arn=ALICE if principal == "user" else SESSION,
        principal_account=ACCOUNT,
        principal_kind=principal,
        role_arn=None if principal == "user" else ROLE,
        action="ecr:BatchGetImage",
        resource="*",
        resource_account=ACCOUNT,
        keys=keys,
    )
    compiled = compile_condition(condition, variables=version == "2012-10-17")
    return compiled.holds(context.key_values)


# --- strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("StringEquals", "prod", "prod", True),
        ("StringEquals", "prod", "Prod", False),  # case-sensitive
        ("StringEquals", "prod", "prod ", False),
        ("StringEquals", ["dev", "prod"], "prod", True),  # policy values OR'ed
        ("StringEquals", ["dev", "prod"], "test", False),
        ("StringEquals", "prod", MISSING, False),
        ("StringEquals", "prod-*", "prod-eu", False),  # no wildcards in StringEquals
        ("StringEquals", "prod-*", "prod-*", True),
        ("StringNotEquals", "prod", "prod", False),
        ("StringNotEquals", "prod", "dev", True),
        ("StringNotEquals", ["dev", "prod"], "dev", False),  # NOR over the policy values
        ("StringNotEquals", ["dev", "prod"], "test", True),
        ("StringNotEquals", "prod", MISSING, True),  # negated operators hold on absent keys
        ("StringEqualsIgnoreCase", "prod", "PROD", True),
        ("StringEqualsIgnoreCase", "Prod", "prod", True),
        ("StringEqualsIgnoreCase", "prod", "prd", False),
        ("StringEqualsIgnoreCase", "prod", MISSING, False),
        ("StringNotEqualsIgnoreCase", "prod", "PROD", False),
        ("StringNotEqualsIgnoreCase", "prod", "dev", True),
        ("StringNotEqualsIgnoreCase", "prod", MISSING, True),
        ("StringLike", "prod-*", "prod-eu", True),
        ("StringLike", "prod-*", "prod-", True),  # `*` matches the empty run
        ("StringLike", "prod-*", "dev-eu", False),
        ("StringLike", "Prod-*", "prod-eu", False),  # case-sensitive
        ("StringLike", "?rod", "prod", True),
        ("StringLike", "?rod", "rod", False),  # `?` is exactly one character
        ("StringLike", "?rod", "pprod", False),
        ("StringLike", "team/*", "team/a/b:c", True),  # `*` spans `/` and `:`
        ("StringLike", "*-eu-*", "prod-eu-west", True),
        ("StringLike", "a.c", "abc", False),  # `.` is literal
        ("StringLike", ["dev-*", "prod-*"], "prod-1", True),
        ("StringLike", "prod-*", MISSING, False),
        ("StringNotLike", "prod-*", "prod-eu", False),
        ("StringNotLike", "prod-*", "dev-eu", True),
        ("StringNotLike", ["dev-*", "prod-*"], "prod-1", False),
        ("StringNotLike", "prod-*", MISSING, True),
    ],
)
def test_string_operators(
    operator: str, policy: Any, request_value: Request, expected: bool
) -> None:
    assert holds(operator, "aws:RequestTag/env", policy, request_value) is expected


def test_binary_equals_compares_the_base64_text() -> None:
    assert holds("BinaryEquals", "app:blob", "QmluYXJ5", "QmluYXJ5")
    assert not holds("BinaryEquals", "app:blob", "QmluYXJ5", "qmluyxj5")
    assert not holds("BinaryEquals", "app:blob", "QmluYXJ5", MISSING)


# --- numbers, dates, booleans ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", "10", "10.0", True),  # compared as numbers, not text
        ("NumericEquals", 10, "11", False),
        ("NumericEquals", "10", "ten", False),  # unreadable request value matches nothing
        ("NumericEquals", "10", MISSING, False),
        ("NumericEquals", ["5", "10"], "5", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericNotEquals", ["10", "100"], "100", False),
        ("NumericNotEquals", "10", MISSING, True),
        ("NumericLessThan", "10", "9", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThan", "10", "-1", True),
        ("NumericLessThan", "2.5", "2.25", True),
        ("NumericLessThan", "10", "11", False),
        ("NumericLessThan", "10", MISSING, False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericLessThanEquals", "10", "10.01", False),
        ("NumericGreaterThan", "10", "11", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericGreaterThanEquals", "10", "9.99", False),
        ("NumericGreaterThanEquals", "10", MISSING, False),
    ],
)
def test_numeric_operators(
    operator: str, policy: Any, request_value: Request, expected: bool
) -> None:
    assert holds(operator, "ecr:MaxResults", policy, request_value) is expected


NEW_YEAR = "2024-01-01T00:00:00Z"  # 1704067200


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("DateLessThan", "2025-01-01T00:00:00Z", "2024-12-31T23:59:59Z", True),
        ("DateLessThan", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", False),
        ("DateLessThan", "2025-01-01T00:00:00Z", MISSING, False),
        ("DateLessThanEquals", NEW_YEAR, NEW_YEAR, True),
        ("DateLessThanEquals", NEW_YEAR, "2024-01-01T00:00:01Z", False),
        ("DateGreaterThan", "1700000000", NEW_YEAR, True),  # epoch policy, ISO request
        ("DateGreaterThan", NEW_YEAR, "1704067200", False),  # ISO policy, epoch request
        ("DateGreaterThan", NEW_YEAR, "1704067201", True),
        ("DateGreaterThanEquals", NEW_YEAR, "1704067200", True),
        ("DateGreaterThanEquals", NEW_YEAR, "2023-12-31T23:59:59Z", False),
        ("DateEquals", "2024-06-30", "2024-06-30T00:00:00Z", True),  # date only: midnight UTC
        ("DateEquals", NEW_YEAR, "2024-01-01T01:00:00+01:00", True),  # offsets honoured
        ("DateEquals", NEW_YEAR, "2024-01-01T00:00:00", True),  # no offset: UTC
        ("DateEquals", NEW_YEAR, "yesterday", False),
        ("DateNotEquals", NEW_YEAR, NEW_YEAR, False),
        ("DateNotEquals", NEW_YEAR, "2024-01-02T00:00:00Z", True),
        ("DateNotEquals", NEW_YEAR, MISSING, True),
    ],
)
def test_date_operators(operator: str, policy: Any, request_value: Request, expected: bool) -> None:
    assert holds(operator, "aws:CurrentTime", policy, request_value) is expected


@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [
        ("true", "true", True),
        (True, "true", True),  # a JSON boolean in the policy
        ("true", "TRUE", True),
        ("true", "false", False),
        ("false", "false", True),
        ("false", "true", False),
        ("true", "yes", False),
        ("true", MISSING, False),
        ("false", MISSING, False),
    ],
)
def test_bool(policy: Any, request_value: Request, expected: bool) -> None:
    assert holds("Bool", "aws:SecureTransport", policy, request_value) is expected


# --- IP addresses and ARNs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
        ("IpAddress", "203.0.113.0/24", "203.0.114.1", False),
        ("IpAddress", "203.0.113.0/24", "not-an-ip", False),
        ("IpAddress", "203.0.113.0/24", MISSING, False),
        ("IpAddress", "198.51.100.7", "198.51.100.7", True),  # a bare address is a /32
        ("IpAddress", "198.51.100.7", "198.51.100.8", False),
        ("IpAddress", ["10.0.0.0/8", "192.0.2.0/24"], "192.0.2.200", True),
        ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
        ("IpAddress", "2001:db8::/32", "2001:db9::1", False),
        ("IpAddress", "2001:db8::/32", "32.1.13.184", False),  # IPv4 never in an IPv6 range
        ("IpAddress", "0.0.0.0/0", "2001:db8::1", False),
        ("NotIpAddress", "203.0.113.0/24", "203.0.113.7", False),
        ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
        ("NotIpAddress", ["10.0.0.0/8", "203.0.113.0/24"], "10.1.2.3", False),
        ("NotIpAddress", "203.0.113.0/24", MISSING, True),
    ],
)
def test_ip_operators(operator: str, policy: Any, request_value: Request, expected: bool) -> None:
    assert holds(operator, "aws:SourceIp", policy, request_value) is expected


DEPLOY_ROLES = f"arn:aws:iam::{ACCOUNT}:role/deploy-*"


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("ArnLike", DEPLOY_ROLES, f"arn:aws:iam::{ACCOUNT}:role/deploy-prod", True),
        ("ArnLike", DEPLOY_ROLES, "arn:aws:iam::999999999999:role/deploy-prod", False),
        ("ArnLike", DEPLOY_ROLES, f"arn:aws:iam::{ACCOUNT}:role/build", False),
        ("ArnLike", DEPLOY_ROLES, "deploy-prod", False),  # not an ARN
        ("ArnLike", DEPLOY_ROLES, MISSING, False),
        ("ArnLike", "arn:aws:iam::*:role/deploy", f"arn:aws:iam::{ACCOUNT}:role/deploy", True),
        ("ArnLike", "arn:*:iam::1111?2223333:*", f"arn:aws:iam::{ACCOUNT}:user/x", True),
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:*", f"arn:aws:iam::{ACCOUNT}:role/a/b", True),
        # wildcards stay inside their component; a pattern of fewer than six never matches
        ("ArnLike", "arn:aws:*:role/deploy", f"arn:aws:iam::{ACCOUNT}:role/deploy", False),
        ("ArnLike", "arn:aws:iam:*:role/deploy", f"arn:aws:iam::{ACCOUNT}:role/deploy", False),
        ("ArnLike", "arn:aws:logs:*:*:log-group:a:*", "arn:aws:logs:eu:1:log-group:a:b:c", True),
        ("ArnEquals", DEPLOY_ROLES, f"arn:aws:iam::{ACCOUNT}:role/deploy-prod", True),
        ("ArnEquals", ROLE, ROLE, True),
        ("ArnEquals", ROLE, ROLE.upper(), False),  # case-sensitive
        ("ArnNotLike", DEPLOY_ROLES, f"arn:aws:iam::{ACCOUNT}:role/deploy-prod", False),
        ("ArnNotLike", DEPLOY_ROLES, f"arn:aws:iam::{ACCOUNT}:role/build", True),
        ("ArnNotLike", DEPLOY_ROLES, MISSING, True),
        ("ArnNotEquals", ROLE, ROLE, False),
        ("ArnNotEquals", ROLE, MISSING, True),
    ],
)
def test_arn_operators(operator: str, policy: Any, request_value: Request, expected: bool) -> None:
    assert holds(operator, "aws:SourceArn", policy, request_value) is expected


# --- Null and IfExists -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [
        ("true", MISSING, True),  # "true": the key is absent
        ("true", "prod", False),
        ("false", "prod", True),  # "false": the key is present
        ("false", MISSING, False),
        (True, MISSING, True),
        ("true", [], True),  # no values is no key
        (["true", "false"], "prod", True),  # values OR'ed
    ],
)
def test_null(policy: Any, request_value: Request, expected: bool) -> None:
    assert holds("Null", "aws:RequestTag/env", policy, request_value) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "present", "absent_holds"),
    [
        ("StringEqualsIfExists", "prod", "prod", True),
        ("StringLikeIfExists", "p*", "prod", True),
        ("NumericLessThanIfExists", "10", "5", True),
        ("DateGreaterThanIfExists", NEW_YEAR, "2024-02-01T00:00:00Z", True),
        ("BoolIfExists", "true", "true", True),
        ("IpAddressIfExists", "10.0.0.0/8", "10.0.0.1", True),
        ("ArnLikeIfExists", DEPLOY_ROLES, f"arn:aws:iam::{ACCOUNT}:role/deploy-x", True),
        ("StringNotEqualsIfExists", "prod", "dev", True),
    ],
)
def test_if_exists_holds_when_absent_and_tests_when_present(
    operator: str, policy: str, present: str, absent_holds: bool
) -> None:
    key = "test:Key"
    assert holds(operator, key, policy, MISSING) is absent_holds
    assert holds(operator, key, policy, present) is True
    assert holds(operator.removesuffix("IfExists"), key, policy, present) is True
    mismatch = "zzz-no-match" if "Not" not in operator else policy
    assert holds(operator, key, policy, mismatch) is False


def test_if_exists_changes_only_the_absent_case() -> None:
    assert not holds("StringEquals", "aws:RequestTag/env", "prod", MISSING)
    assert holds("StringEqualsIfExists", "aws:RequestTag/env", "prod", MISSING)
    assert not holds("StringEqualsIfExists", "aws:RequestTag/env", "prod", "dev")


# --- set qualifiers on multi-valued keys ----------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("ForAllValues:StringEquals", ["env", "team"], ["env"], True),
        ("ForAllValues:StringEquals", ["env", "team"], ["env", "team"], True),
        ("ForAllValues:StringEquals", ["env", "team"], ["env", "cost"], False),
        ("ForAllValues:StringEquals", ["env", "team"], MISSING, True),  # vacuously true
        ("ForAllValues:StringEquals", ["env", "team"], [], True),
        ("ForAllValues:StringEqualsIfExists", ["env"], MISSING, True),
        ("ForAllValues:StringEqualsIgnoreCase", ["env", "team"], ["ENV", "Team"], True),
        ("ForAllValues:StringLike", ["team-*"], ["team-a", "team-b"], True),
        ("ForAllValues:StringLike", ["team-*"], ["team-a", "cost"], False),
        ("ForAllValues:StringNotEquals", ["env", "team"], ["cost", "owner"], True),
        ("ForAllValues:StringNotEquals", ["env", "team"], ["cost", "env"], False),
        ("ForAllValues:StringNotEquals", ["env", "team"], MISSING, True),
        ("ForAnyValue:StringEquals", ["env", "team"], ["cost", "env"], True),
        ("ForAnyValue:StringEquals", ["env", "team"], ["cost"], False),
        ("ForAnyValue:StringEquals", ["env", "team"], MISSING, False),
        ("ForAnyValue:StringEquals", ["env", "team"], [], False),
        ("ForAnyValue:StringEqualsIfExists", ["env"], MISSING, True),
        ("ForAnyValue:StringLike", ["team-*"], ["cost", "team-x"], True),
        ("ForAnyValue:StringNotEquals", ["env"], ["env"], False),
        ("ForAnyValue:StringNotEquals", ["env"], ["env", "cost"], True),
        ("ForAnyValue:StringNotEquals", ["env"], MISSING, False),
        ("ForAnyValue:StringNotLike", ["team-*"], ["team-a", "team-b"], False),
        # a plain operator on a multi-valued key: any value (negated: none)
        ("StringEquals", "env", ["cost", "env"], True),
        ("StringEquals", "env", ["cost", "owner"], False),
        ("StringNotEquals", "env", ["cost", "env"], False),
        ("StringNotEquals", "env", ["cost", "owner"], True),
    ],
)
def test_set_qualifiers(operator: str, policy: Any, request_value: Request, expected: bool) -> None:
    assert holds(operator, "aws:TagKeys", policy, request_value) is expected


def test_set_qualifier_on_a_single_valued_key_treats_it_as_a_one_element_set() -> None:
    assert holds("ForAnyValue:StringEquals", "aws:RequestTag/env", ["prod"], "prod")
    assert holds("ForAllValues:StringEquals", "aws:RequestTag/env", ["prod"], "prod")
    assert not holds("ForAllValues:StringEquals", "aws:RequestTag/env", ["prod"], "dev")


def test_condition_key_names_are_case_insensitive() -> None:
    assert holds(
        "IpAddress", "AWS:SOURCEIP", "10.0.0.0/8", MISSING, extra={"aws:sourceip": "10.1.1.1"}
    )
    assert holds(
        "StringEquals", "aws:sourceip", "10.1.1.1", MISSING, extra={"AWS:SourceIP": "10.1.1.1"}
    )


# --- policy variables in condition values ---------------------------------------------------------


def test_variable_in_string_equals() -> None:
    key = "aws:RequestTag/owner"
    assert holds("StringEquals", key, "${aws:username}", "alice")
    assert not holds("StringEquals", key, "${aws:username}", "bob")
    assert holds("StringEquals", key, "team-${aws:username}", "team-alice")
    assert holds("StringEqualsIgnoreCase", key, "${aws:username}", "ALICE")
    # a role session has no aws:username: the value cannot be resolved and matches nothing
    assert not holds("StringEquals", key, "${aws:username}", "alice", principal="assumed-role")
    assert holds("StringNotEquals", key, "${aws:username}", "alice", principal="assumed-role")


def test_variable_defaults_and_case_insensitive_names() -> None:
    key = "aws:RequestTag/owner"
    value = "${aws:username, 'nobody'}"
    assert holds("StringEquals", key, value, "nobody", principal="assumed-role")
    assert holds("StringEquals", key, value, "alice")  # the key wins over the default
    assert holds("StringEquals", key, "${AWS:UserName}", "alice")
    assert holds("StringEquals", key, "${aws:username, 'it''s'}", "it's", principal="assumed-role")


def test_variables_in_like_and_arn_operators() -> None:
    assert holds("StringLike", "aws:RequestTag/path", "home/${aws:username}/*", "home/alice/x")
    assert not holds("StringLike", "aws:RequestTag/path", "home/${aws:username}/*", "home/bob/x")
    arn = "arn:aws:iam::${aws:PrincipalAccount}:role/deploy"
    assert holds("ArnEquals", "aws:SourceArn", arn, ROLE)
    assert not holds("ArnEquals", "aws:SourceArn", arn, "arn:aws:iam::999999999999:role/deploy")


def test_substituted_text_is_literal_not_a_wildcard() -> None:
    extra = {"aws:RequestTag/pattern": "*"}
    value = "${aws:RequestTag/pattern}"
    assert holds("StringLike", "aws:RequestTag/env", value, "*", extra=extra)
    assert not holds("StringLike", "aws:RequestTag/env", value, "prod", extra=extra)


def test_multi_valued_keys_do_not_resolve_as_variables() -> None:
    extra = {"aws:TagKeys": ["a", "b"]}
    assert not holds("StringEquals", "aws:RequestTag/env", "${aws:TagKeys}", "a", extra=extra)
    assert holds("StringEquals", "aws:RequestTag/env", "${aws:TagKeys, 'x'}", "x", extra=extra)


@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [
        ("${*}prod", "*prod", True),
        ("${*}prod", "xprod", False),
        ("what${?}", "what?", True),
        ("what${?}", "whats", False),
        ("cost${$}", "cost$", True),
        ("${$}{aws:username}", "${aws:username}", True),  # `${$}` stops substitution
    ],
)
def test_escapes(policy: str, request_value: str, expected: bool) -> None:
    assert holds("StringLike", "aws:RequestTag/env", policy, request_value) is expected


def test_version_2008_has_no_variables() -> None:
    key = "aws:RequestTag/owner"
    old = "2008-10-17"
    assert not holds("StringEquals", key, "${aws:username}", "alice", version=old)
    assert holds("StringEquals", key, "${aws:username}", "${aws:username}", version=old)
    assert holds("StringLike", key, "${*}", "${anything}", version=old)  # `*` is still a wildcard


# --- value parsing --------------------------------------------------------------------------------


def test_parse_number_and_instant() -> None:
    assert parse_number(" 10.50 ") == parse_number("10.5")
    assert parse_number("NaN") is None
    assert parse_number("Infinity") is None
    assert parse_number("1e3") == 1000
    assert parse_instant("1704067200") == parse_instant(NEW_YEAR)
    assert parse_instant("2024-01-01T00:00:00.000Z") == parse_instant(NEW_YEAR)
    assert parse_instant("99999999999999999999") is None
    assert parse_instant("") is None
