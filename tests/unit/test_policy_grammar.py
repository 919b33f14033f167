"""The IAM policy grammar (`stiva.iam.policy`) and ECR's pure rules on top of it."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from stiva.iam.policy import (
    Condition,
    Policy,
    PolicyError,
    Principal,
    Statement,
    action_matches,
    check_operator,
    parse_policy,
)
from stiva.services import policies

ACCOUNT = "123456789012"
USER = f"arn:aws:iam::{ACCOUNT}:user/admin"


def stmt(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def doc(*statements: dict[str, Any], **top: Any) -> str:
    body: dict[str, Any] = {"Version": "2012-10-17", "Statement": list(statements)}
    body.update(top)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def parse(text: str, resource_based: bool = True) -> Policy:
    return parse_policy(text, resource_based=resource_based)


# --- what is accepted, and how it is parsed -----------------------------------------------


def test_full_statement_parses_into_typed_values() -> None:
    policy = parse(
        doc(
            stmt(
                Sid="pull",
                Principal={"AWS": [USER, ACCOUNT], "Service": "codebuild.amazonaws.com"},
                Action=["ecr:BatchGetImage", "ecr:Get*"],
                Condition={
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["team-*", "env"]},
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"s3:max-keys": 10},
                },
            ),
            Id="policy-1",
        )
    )
    assert policy.version == "2012-10-17"
    assert policy.id == "policy-1"
    (statement,) = policy.statements
    assert statement == Statement(
        effect="Allow",
        sid="pull",
        principal=Principal(aws=(USER, ACCOUNT), service=("codebuild.amazonaws.com",)),
        action=("ecr:BatchGetImage", "ecr:Get*"),
        conditions=(
            Condition("StringEquals", "aws:SourceAccount", (ACCOUNT,)),
            Condition("ForAnyValue:StringLikeIfExists", "aws:TagKeys", ("team-*", "env")),
            Condition("Bool", "aws:SecureTransport", ("true",)),
            Condition("NumericLessThan", "s3:max-keys", ("10",)),
        ),
    )
    like = statement.conditions[1]
    assert (like.qualifier, like.base, like.if_exists) == ("ForAnyValue", "StringLike", True)
    plain = statement.conditions[0]
    assert (plain.qualifier, plain.base, plain.if_exists) == (None, "StringEquals", False)


def test_single_statement_object_and_defaults() -> None:
    policy = parse(json.dumps({"Statement": stmt(NotAction="ecr:Delete*", Action=None)}))
    assert policy.version == "2008-10-17"  # IAM's default when Version is absent
    assert policy.id is None
    (statement,) = policy.statements
    assert statement.action is None
    assert statement.not_action == ("ecr:Delete*",)
    assert statement.principal == Principal(anyone=True)


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17"])
def test_both_versions(version: str) -> None:
    assert parse(doc(stmt(), Version=version)).version == version


def test_not_principal_and_resources() -> None:
    policy = parse(
        doc(
            stmt(
                Effect="Deny",
                Principal=None,
                NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                NotResource=["arn:aws:ecr:us-east-1:123456789012:repository/prod-*"],
            )
        )
    )
    (statement,) = policy.statements
    assert statement.principal is None
    assert statement.not_principal == Principal(aws=(f"arn:aws:iam::{ACCOUNT}:root",))
    assert statement.resource is None
    assert statement.not_resource == ("arn:aws:ecr:us-east-1:123456789012:repository/prod-*",)


def test_identity_policy_has_no_principal_but_needs_a_resource() -> None:
    policy = parse(doc(stmt(Principal=None, Resource="*")), resource_based=False)
    assert policy.statements[0].resource == ("*",)
    with pytest.raises(PolicyError, match="Resource"):
        parse(doc(stmt(Principal=None)), resource_based=False)
    with pytest.raises(PolicyError, match="identity policy"):
        parse(doc(stmt(Resource="*")), resource_based=False)


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ACCOUNT},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:role/path/deploy"},
        {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/session"},
        {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:user/u"},
        {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]},
        {"Federated": "cognito-identity.amazonaws.com"},
        {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ],
)
def test_principal_forms(principal: object) -> None:
    parse(doc(stmt(Principal=principal)))


@pytest.mark.parametrize(
    "action", ["*", "ecr:*", "ecr:Get*", "ecr:Batch?etImage", "s3:GetObject", "execute-api:Invoke"]
)
def test_action_forms(action: str) -> None:
    parse(doc(stmt(Action=action)))


@pytest.mark.parametrize(
    "operator",
    [
        "StringEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "ArnLike",
        "ArnNotEquals",
        "BinaryEquals",
        "ForAllValues:StringEquals",
        "ForAnyValue:ArnLikeIfExists",
        "StringEqualsIfExists",
    ],
)
def test_string_like_operators(operator: str) -> None:
    parse(doc(stmt(Condition={operator: {"aws:PrincipalTag/team": ["a", "b"]}})))


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("NumericGreaterThanEquals", "3.5"),
        ("NumericNotEquals", -2),
        ("DateGreaterThan", "2024-01-01T00:00:00Z"),
        ("DateLessThanEquals", "1700000000"),
        ("DateEqualsIfExists", "2024-06-30"),
        ("Bool", "false"),
        ("Null", "true"),
        ("IpAddress", "203.0.113.0/24"),
        ("NotIpAddress", "2001:db8::/32"),
        ("IpAddress", "198.51.100.7"),
    ],
)
def test_typed_condition_values(operator: str, value: object) -> None:
    parse(doc(stmt(Condition={operator: {"aws:Key": value}})))


# --- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ('{"Statement": NaN}', "not valid JSON"),
        ('{"Statement": {"Condition": {"NumericEquals": {"k": 1e400}}}}', "out of range"),
        ("[]", "JSON object"),
        ('"policy"', "JSON object"),
        ("{}", "no Statement"),
        (doc(stmt(), Version="2020-01-01"), "Version"),
        (doc(stmt(), Version=20121017), "Version"),
        (doc(stmt(), Id=7), "Id"),
        (json.dumps({"Version": "2012-10-17", "Statement": []}), "non-empty list"),
        (json.dumps({"Statement": "x"}), "non-empty list"),
        (json.dumps({"Statement": ["x"]}), "JSON object"),
        (doc(stmt(), Extra=1), "unknown policy element 'Extra'"),
        (doc(stmt(Resources="*")), "unknown statement element 'Resources'"),
        (doc(stmt(Sid=1)), "Sid"),
        (doc(stmt(Sid="a"), stmt(Sid="a")), "unique"),
        (doc(stmt(Effect="allow")), "Effect"),
        (doc(stmt(Effect=None)), "Effect"),
        (doc(stmt(Action=None)), "Action or NotAction"),
        (doc(stmt(NotAction="ecr:*")), "both Action and NotAction"),
        (doc(stmt(Action=[])), "non-empty"),
        (doc(stmt(Action="")), "non-empty"),
        (doc(stmt(Action=["ecr:GetImage", 5])), "non-empty"),
        (doc(stmt(Action="BatchGetImage")), "not an action"),
        (doc(stmt(Action="ecr:Batch Get")), "not an action"),
        (doc(stmt(Action="ecr:")), "not an action"),
        (doc(stmt(Principal=None)), "Principal or NotPrincipal"),
        (doc(stmt(NotPrincipal="*")), "both Principal and NotPrincipal"),
        (doc(stmt(Resource="*", NotResource="*")), "both Resource and NotResource"),
        (doc(stmt(Resource="repository/x")), "not a resource"),
        (doc(stmt(Resource=[])), "non-empty"),
    ],
)
def test_grammar_refusals(text: str, why: str) -> None:
    with pytest.raises(PolicyError, match=why):
        parse(text)


@pytest.mark.parametrize(
    ("principal", "why"),
    [
        ("any", "principal must be"),
        ({}, "principal must be"),
        ([ACCOUNT], "principal must be"),
        ({"User": ACCOUNT}, "unknown principal element 'User'"),
        ({"AWS": []}, "non-empty"),
        ({"AWS": "12345"}, "not an AWS principal"),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:*"}, "not an AWS principal"),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:group/devs"}, "not an AWS principal"),
        ({"AWS": "arn:aws:s3:::bucket"}, "not an AWS principal"),
        ({"Service": "lambda"}, "not a service principal"),
        ({"CanonicalUser": "abc"}, "canonical user"),
    ],
)
def test_principal_refusals(principal: object, why: str) -> None:
    with pytest.raises(PolicyError, match=why):
        parse(doc(stmt(Principal=principal)))


@pytest.mark.parametrize(
    ("condition", "why"),
    [
        ("StringEquals", "Condition must be an object"),
        ({"StringMatches": {"k": "v"}}, "not a condition operator"),
        ({"stringequals": {"k": "v"}}, "not a condition operator"),
        ({"NullIfExists": {"k": "true"}}, "not a condition operator"),
        ({"ForSomeValues:StringEquals": {"k": "v"}}, "set qualifier"),
        ({"ForAnyValue:ForAllValues:StringEquals": {"k": "v"}}, "set qualifier"),
        ({"StringEquals": {}}, "map condition keys"),
        ({"StringEquals": "v"}, "map condition keys"),
        ({"StringEquals": {"": "v"}}, "empty key"),
        ({"StringEquals": {"k": []}}, "empty list"),
        ({"StringEquals": {"k": {"nested": 1}}}, "strings, numbers or booleans"),
        ({"StringEquals": {"k": [None]}}, "strings, numbers or booleans"),
        ({"NumericEquals": {"k": "ten"}}, "not a number"),
        ({"Bool": {"k": "yes"}}, "not true or false"),
        ({"Null": {"k": 1}}, "not true or false"),
        ({"DateLessThan": {"k": "yesterday"}}, "not a date"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}, "not an IP range"),
    ],
)
def test_condition_refusals(condition: object, why: str) -> None:
    with pytest.raises(PolicyError, match=why):
        parse(doc(stmt(Condition=condition)))


def test_check_operator_returns_the_base() -> None:
    assert check_operator("ForAllValues:NumericLessThanIfExists") == "NumericLessThan"
    assert check_operator("Null") == "Null"


# --- matching helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", "ecr:SetRepositoryPolicy", True),
        ("ecr:*", "ecr:SetRepositoryPolicy", True),
        ("ECR:setrepositorypolicy", "ecr:SetRepositoryPolicy", True),
        ("ecr:Set*", "ecr:SetRepositoryPolicy", True),
        ("ecr:Set?epositoryPolicy", "ecr:SetRepositoryPolicy", True),
        ("ecr:Get*", "ecr:SetRepositoryPolicy", False),
        ("ecr:SetRepository", "ecr:SetRepositoryPolicy", False),
        ("s3:*", "ecr:SetRepositoryPolicy", False),
        ("ecr:Set.*", "ecr:SetRepositoryPolicy", False),  # `.` is literal
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_statement_action_and_principal_coverage() -> None:
    allow = Statement(effect="Allow", action=("ecr:Get*",), principal=Principal(aws=(ACCOUNT,)))
    assert allow.applies_to_action("ecr:GetRepositoryPolicy")
    assert not allow.applies_to_action("ecr:SetRepositoryPolicy")
    assert allow.applies_to_principal(arn=USER, account_id=ACCOUNT)
    assert not allow.applies_to_principal(arn="arn:aws:iam::999999999999:user/x", account_id="9")

    inverse = Statement(
        effect="Deny",
        not_action=("ecr:Get*",),
        not_principal=Principal(aws=(f"arn:aws:iam::{ACCOUNT}:user/other",)),
    )
    assert inverse.applies_to_action("ecr:SetRepositoryPolicy")
    assert not inverse.applies_to_action("ecr:GetImage")
    assert inverse.applies_to_principal(arn=USER, account_id=ACCOUNT)
    assert not inverse.applies_to_principal(
        arn=f"arn:aws:iam::{ACCOUNT}:user/other", account_id=ACCOUNT
    )
    identity = Statement(effect="Allow", action=("*",), resource=("*",))
    assert identity.applies_to_principal(arn=USER, account_id=ACCOUNT)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (Principal(anyone=True), True),
        (Principal(aws=("*",)), True),
        (Principal(aws=(USER,)), True),
        (Principal(aws=(ACCOUNT,)), True),
        (Principal(aws=(f"arn:aws:iam::{ACCOUNT}:root",)), True),
        (Principal(aws=(f"arn:aws:iam::{ACCOUNT}:user/someone-else",)), False),
        (Principal(aws=("arn:aws:iam::999999999999:root",)), False),
        (Principal(service=("codebuild.amazonaws.com",)), False),
    ],
)
def test_principal_matches_an_iam_user(principal: Principal, expected: bool) -> None:
    assert principal.matches(arn=USER, account_id=ACCOUNT) is expected


# --- ECR's rules (pure parts of stiva.services.policies) ---------------------------------------


def test_ecr_action_list_covers_every_operation_of_the_model() -> None:
    model = botocore.session.get_session().get_service_model("ecr")
    missing = {f"ecr:{op}".lower() for op in model.operation_names} - policies.ECR_ACTIONS
    assert not missing


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", True),
        ("ecr:*", True),
        ("ecr:BatchGetImage", True),
        ("ECR:batchgetimage", True),
        ("ecr:ReplicateImage", True),
        ("ecr:Batch*", True),
        ("ecr:NoSuchAction", False),
        ("ecr:Nope*", False),
        ("s3:GetObject", False),
        ("ecr:GetAuthorizationToken", False),
        ("ecr:GetAuthorization*", True),  # a pattern that also covers repository actions
    ],
)
def test_repository_policy_actions(pattern: str, expected: bool) -> None:
    excluded = policies.NOT_IN_REPOSITORY_POLICY
    assert policies.is_ecr_action(pattern, excluded=excluded) is expected


def test_pretty_json_is_jacksons_default_printer() -> None:
    document = {
        "a": [],
        "b": {},
        "c": [1, 2.5, True, None],
        "d": [{"x": 'q"uote\\', "y": [{"z": "\u0001\n\t\u00e9"}]}, {}],
    }
    assert policies.pretty_json(document) == (
        "{\n"
        '  "a" : [ ],\n'
        '  "b" : { },\n'
        '  "c" : [ 1, 2.5, true, null ],\n'
        '  "d" : [ {\n'
        '    "x" : "q\\"uote\\\\",\n'
        '    "y" : [ {\n'
        '      "z" : "\\u0001\\n\\t\u00e9"\n'
        "    } ]\n"
        "  }, { } ]\n"
        "}"
    )
