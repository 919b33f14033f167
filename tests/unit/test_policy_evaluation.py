"""The evaluation engine (`stiva.iam.evaluate`): matching of actions, resources and principals,
and IAM's evaluation order (explicit deny; same account either side; cross account both; root;
registry policy scope)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stiva.iam.evaluate import (
    Decision,
    RequestContext,
    Verdict,
    access_denied_message,
    decide,
    registry_policy_applies,
)
from stiva.iam.policy import Policy, parse_policy
from stiva.iam.statements import compile_policy
from stiva.services import policies as ecr_policies

A = "111122223333"  # owns the repository
B = "444455556666"  # another account
REPO = f"arn:aws:ecr:us-east-1:{A}:repository/app"
OTHER_REPO = f"arn:aws:ecr:us-east-1:{A}:repository/other"
USER = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/deploy"
SESSION = f"arn:aws:sts::{A}:assumed-role/deploy/ci-42"
B_USER = f"arn:aws:iam::{B}:user/bob"
B_ROLE = f"arn:aws:iam::{B}:role/puller"
B_SESSION = f"arn:aws:sts::{B}:assumed-role/puller/s1"
PULL = "ecr:BatchGetImage"


def policy(*statements: dict[str, Any], version: str = "2012-10-17", **top: Any) -> Policy:
    resource_based = any("Principal" in s or "NotPrincipal" in s for s in statements)
    text = json.dumps({"Version": version, "Statement": list(statements), **top})
    return parse_policy(text, resource_based=resource_based)


def allow(action: Any = PULL, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """An identity statement (no principal) unless `Principal` / `NotPrincipal` is given."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, **extra}
    if resource is not None:
        statement["Resource"] = resource
    return statement


def deny(action: Any = PULL, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {**allow(action, resource, **extra), "Effect": "Deny"}


def grant(principal: Any, action: Any = PULL, **extra: Any) -> dict[str, Any]:
    """A repository-policy statement: no Resource (the repository is implied)."""
    return allow(action, None, Principal=principal, **extra)


def ctx(
    principal: str = USER,
    *,
    action: str = PULL,
    resource: str = REPO,
    resource_account: str = A,
    keys: dict[str, Any] | None = None,
) -> RequestContext:
    account = principal.split(":")[4]
    if principal.endswith(":root"):
        kind, role = "root", None
    elif ":assumed-role/" in principal:
        name = principal.split("/")[1]
        kind, role = "assumed-role", f"arn:aws:iam::{account}:role/{name}"
    else:
        kind, role = "user", None
    return RequestContext(
        principal_arn=principal,
        principal_account=account,
        principal_kind=kind,
        role_arn=role,
        action=action,
        resource=resource,
        resource_account=resource_account,
        keys=keys or {},
    )


def verdict(
    context: RequestContext,
    identity: list[Policy] | None = None,
    resource: list[Policy] | None = None,
) -> Verdict:
    return decide(context, identity_policies=identity or [], resource_policies=resource or [])


def decision(context: RequestContext, identity: Any = None, resource: Any = None) -> Decision:
    return verdict(context, identity, resource).decision


ALLOW, DENY, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
CAN_PULL = policy(allow(PULL))


# --- actions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("*", PULL, True),
        ("ecr:*", PULL, True),
        ("ECR:batchgetimage", PULL, True),  # case-insensitive
        ("ecr:BatchGetImage", "ECR:BATCHGETIMAGE", True),
        ("ecr:Batch*", PULL, True),
        ("ecr:Batch?etImage", PULL, True),
        ("ecr:Batch?Image", PULL, False),
        ("ecr:Get*", PULL, False),
        ("ecr:BatchGet", PULL, False),  # whole names only
        ("s3:*", PULL, False),
        ("ecr-public:*", PULL, False),
        (["s3:GetObject", "ecr:BatchGetImage"], PULL, True),
    ],
)
def test_action_matching(pattern: Any, action: str, allowed: bool) -> None:
    expected = ALLOW if allowed else IMPLICIT
    assert decision(ctx(action=action), [policy(allow(pattern))]) is expected


def test_not_action() -> None:
    everything_but_deletes = policy(
        {"Effect": "Allow", "NotAction": "ecr:Delete*", "Resource": "*"}
    )
    assert decision(ctx(action=PULL), [everything_but_deletes]) is ALLOW
    assert decision(ctx(action="ecr:DeleteRepository"), [everything_but_deletes]) is IMPLICIT
    assert decision(ctx(action="s3:GetObject"), [everything_but_deletes]) is ALLOW
    no_deletes = policy(
        {"Effect": "Deny", "NotAction": ["ecr:Get*", "ecr:Batch*"], "Resource": "*"}
    )
    admin = policy(allow("*"))
    assert decision(ctx(action=PULL), [admin, no_deletes]) is ALLOW
    assert decision(ctx(action="ecr:DeleteRepository"), [admin, no_deletes]) is DENY


# --- resources -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        ("*", REPO, True),
        (REPO, REPO, True),
        (REPO, OTHER_REPO, False),
        (f"arn:aws:ecr:us-east-1:{A}:repository/*", REPO, True),
        (f"arn:aws:ecr:*:{A}:repository/a*", REPO, True),
        (f"arn:aws:ecr:*:{A}:repository/a*", OTHER_REPO, False),
        ([OTHER_REPO, REPO], REPO, True),
        (REPO, "*", False),  # actions without a resource need Resource "*"
        ("arn:aws:ecr:*", "*", False),
    ],
)
def test_resource_matching(pattern: Any, resource: str, allowed: bool) -> None:
    expected = ALLOW if allowed else IMPLICIT
    assert decision(ctx(resource=resource), [policy(allow(PULL, pattern))]) is expected


def test_not_resource() -> None:
    not_app = policy({"Effect": "Allow", "Action": PULL, "NotResource": REPO})
    assert decision(ctx(resource=OTHER_REPO), [not_app]) is ALLOW
    assert decision(ctx(resource=REPO), [not_app]) is IMPLICIT
    assert decision(ctx(resource="*"), [not_app]) is ALLOW
    protect = policy(allow("*"), {"Effect": "Deny", "Action": "ecr:*", "NotResource": OTHER_REPO})
    assert decision(ctx(resource=REPO), [protect]) is DENY
    assert decision(ctx(resource=OTHER_REPO), [protect]) is ALLOW


def test_resource_policy_without_resource_covers_its_repository() -> None:
    repository_policy = policy(grant({"AWS": USER}))
    assert decision(ctx(resource=REPO), resource=[repository_policy]) is ALLOW
    with_resource = policy(allow(PULL, OTHER_REPO, Principal={"AWS": USER}))
    assert decision(ctx(resource=REPO), resource=[with_resource]) is IMPLICIT


def test_policy_variables_in_resources() -> None:
    own = policy(allow(PULL, f"arn:aws:ecr:*:{A}:repository/${{aws:username}}/*"))
    mine = f"arn:aws:ecr:us-east-1:{A}:repository/alice/web"
    theirs = f"arn:aws:ecr:us-east-1:{A}:repository/bob/web"
    assert decision(ctx(resource=mine), [own]) is ALLOW
    assert decision(ctx(resource=theirs), [own]) is IMPLICIT
    assert decision(ctx(SESSION, resource=mine), [own]) is IMPLICIT  # sessions have no username
    literal = policy(
        allow(PULL, f"arn:aws:ecr:*:{A}:repository/${{aws:username}}/*"), version="2008-10-17"
    )
    assert decision(ctx(resource=mine), [literal]) is IMPLICIT
    dollars = f"arn:aws:ecr:us-east-1:{A}:repository/${{aws:username}}/web"
    assert decision(ctx(resource=dollars), [literal]) is ALLOW


# --- principals (resource policies) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "caller", "allowed"),
    [
        ("*", USER, True),
        ({"AWS": "*"}, USER, True),
        ({"AWS": USER}, USER, True),
        ({"AWS": f"arn:aws:iam::{A}:user/mallory"}, USER, False),
        ({"AWS": f"arn:aws:iam::{A}:user/path/alice"}, USER, False),  # exact ARNs only
        ({"AWS": ROLE}, SESSION, True),  # a role ARN covers its sessions
        ({"AWS": SESSION}, SESSION, True),
        ({"AWS": f"arn:aws:sts::{A}:assumed-role/deploy/other"}, SESSION, False),
        ({"AWS": f"arn:aws:iam::{A}:role/build"}, SESSION, False),
        ({"AWS": ROLE}, USER, False),
        ({"Service": "codebuild.amazonaws.com"}, USER, False),
        ({"Service": "codebuild.amazonaws.com", "AWS": USER}, USER, True),
        # same account, named through the account: delegated to identity policies
        ({"AWS": A}, USER, False),
        ({"AWS": f"arn:aws:iam::{A}:root"}, USER, False),
        ({"AWS": f"arn:aws:iam::{A}:root"}, SESSION, False),
    ],
)
def test_principal_matching_same_account(principal: Any, caller: str, allowed: bool) -> None:
    expected = ALLOW if allowed else IMPLICIT
    assert decision(ctx(caller), resource=[policy(grant(principal))]) is expected


def test_account_principal_delegates_to_identity_policies_in_the_same_account() -> None:
    by_account = policy(grant({"AWS": f"arn:aws:iam::{A}:root"}))
    assert decision(ctx(USER), [], [by_account]) is IMPLICIT
    assert decision(ctx(USER), [CAN_PULL], [by_account]) is ALLOW
    account_deny = policy(deny(PULL, None, Principal={"AWS": A}))
    assert decision(ctx(USER), [CAN_PULL], [account_deny]) is DENY  # ... but binds in a Deny
    assert decision(ctx(SESSION), [CAN_PULL], [account_deny]) is DENY


@pytest.mark.parametrize(
    ("principal", "caller", "allowed"),
    [
        ("*", B_USER, True),
        ({"AWS": B}, B_USER, True),  # across accounts an account principal stands for all
        ({"AWS": f"arn:aws:iam::{B}:root"}, B_USER, True),
        ({"AWS": f"arn:aws:iam::{B}:root"}, B_SESSION, True),
        ({"AWS": B_USER}, B_USER, True),
        ({"AWS": B_ROLE}, B_SESSION, True),
        ({"AWS": B_ROLE}, B_USER, False),
        ({"AWS": f"arn:aws:iam::{A}:root"}, B_USER, False),
        ({"AWS": "999999999999"}, B_USER, False),
    ],
)
def test_principal_matching_across_accounts(principal: Any, caller: str, allowed: bool) -> None:
    expected = ALLOW if allowed else IMPLICIT
    assert decision(ctx(caller), [CAN_PULL], [policy(grant(principal))]) is expected


def test_not_principal() -> None:
    everyone_but_alice = policy(
        {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "ecr:*"}
    )
    admin = policy(allow("*"))
    assert decision(ctx(USER), [admin], [everyone_but_alice]) is ALLOW
    assert decision(ctx(SESSION), [admin], [everyone_but_alice]) is DENY
    assert decision(ctx(B_USER), [admin], [everyone_but_alice]) is DENY
    not_the_account = policy({"Effect": "Deny", "NotPrincipal": {"AWS": A}, "Action": "ecr:*"})
    assert decision(ctx(SESSION), [admin], [not_the_account]) is ALLOW
    assert decision(ctx(B_USER), [admin], [not_the_account]) is DENY
    allow_all_but_mallory = policy(
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{A}:user/mallory"},
            "Action": PULL,
        }
    )
    assert decision(ctx(USER), [], [allow_all_but_mallory]) is ALLOW
    assert decision(ctx(f"arn:aws:iam::{A}:user/mallory"), [], [allow_all_but_mallory]) is IMPLICIT


# --- evaluation order --------------------------------------------------------------------------


def test_default_is_implicit_deny() -> None:
    result = verdict(ctx())
    assert result.decision is IMPLICIT
    assert not result.allowed
    assert result.side == "identity"


def test_same_account_either_side_allows() -> None:
    repository_allows = policy(grant({"AWS": USER}))
    assert decision(ctx(), [CAN_PULL], []) is ALLOW
    assert decision(ctx(), [], [repository_allows]) is ALLOW
    assert decision(ctx(), [CAN_PULL], [repository_allows]) is ALLOW
    assert decision(ctx(action="ecr:PutImage"), [CAN_PULL], [repository_allows]) is IMPLICIT


def test_explicit_deny_wins_everywhere() -> None:
    admin = policy(allow("*"))
    repository_allows = policy(grant("*", "ecr:*"))
    identity_deny = policy(deny(PULL))
    resource_deny = policy(deny(PULL, None, Principal="*"))
    assert decision(ctx(), [admin, identity_deny], [repository_allows]) is DENY
    assert decision(ctx(), [identity_deny, admin], []) is DENY  # order does not matter
    assert decision(ctx(), [admin], [resource_deny]) is DENY
    assert decision(ctx(), [admin], [repository_allows, resource_deny]) is DENY
    assert decision(ctx(B_USER), [admin], [repository_allows, resource_deny]) is DENY
    assert decision(ctx(f"arn:aws:iam::{A}:root"), [], [resource_deny]) is DENY
    same_statement_list = policy(allow("*"), deny(PULL))
    assert decision(ctx(), [same_statement_list]) is DENY
    assert decision(ctx(action="ecr:PutImage"), [same_statement_list]) is ALLOW


def test_a_deny_for_someone_else_does_not_apply() -> None:
    mallory_denied = policy(deny(PULL, None, Principal={"AWS": f"arn:aws:iam::{A}:user/mallory"}))
    assert decision(ctx(), [CAN_PULL], [mallory_denied]) is ALLOW
    conditional = policy(deny(PULL, Condition={"Bool": {"aws:SecureTransport": "false"}}))
    assert decision(ctx(keys={"aws:SecureTransport": "true"}), [CAN_PULL, conditional]) is ALLOW
    assert decision(ctx(keys={"aws:SecureTransport": "false"}), [CAN_PULL, conditional]) is DENY


def test_cross_account_needs_both_sides() -> None:
    repository_allows_b = policy(grant({"AWS": B}))
    context = ctx(B_USER)
    assert decision(context, [CAN_PULL], [repository_allows_b]) is ALLOW
    no_identity = verdict(context, [], [repository_allows_b])
    assert (no_identity.decision, no_identity.side) == (IMPLICIT, "identity")
    no_resource = verdict(context, [CAN_PULL], [])
    assert (no_resource.decision, no_resource.side) == (IMPLICIT, "resource")
    assert decision(context, [policy(allow("*"))], [policy(grant({"AWS": A}))]) is IMPLICIT


def test_cross_account_identity_policy_must_cover_the_foreign_resource() -> None:
    only_own = policy(allow(PULL, f"arn:aws:ecr:*:{B}:repository/*"))
    foreign = policy(allow(PULL, f"arn:aws:ecr:*:{A}:repository/*"))
    repository_allows_b = policy(grant({"AWS": B}))
    assert decision(ctx(B_USER), [only_own], [repository_allows_b]) is IMPLICIT
    assert decision(ctx(B_USER), [foreign], [repository_allows_b]) is ALLOW


def test_root_in_its_own_account() -> None:
    root = ctx(f"arn:aws:iam::{A}:root")
    result = verdict(root)
    assert result.decision is ALLOW
    assert "root" in result.reason
    assert decision(root, [], [policy(deny("ecr:*", None, Principal="*"))]) is DENY
    assert decision(root, [], [policy(deny(PULL, None, Principal={"AWS": A}))]) is DENY
    unrelated = policy(deny(PULL, None, Principal={"AWS": USER}))
    assert decision(root, [], [unrelated]) is ALLOW


def test_root_of_another_account() -> None:
    foreign_root = ctx(f"arn:aws:iam::{B}:root")
    assert decision(foreign_root) is IMPLICIT  # no implicit allow outside its account
    assert decision(foreign_root, [], [policy(grant({"AWS": B}))]) is ALLOW
    assert decision(foreign_root, [], [policy(grant({"AWS": f"arn:aws:iam::{B}:root"}))]) is ALLOW
    assert decision(foreign_root, [], [policy(grant("*"))]) is ALLOW
    assert decision(foreign_root, [], [policy(grant({"AWS": B_USER}))]) is IMPLICIT
    denied = policy(grant({"AWS": B}), deny(PULL, None, Principal={"AWS": B}))
    assert decision(foreign_root, [], [denied]) is DENY


def test_registry_and_repository_policies_together() -> None:
    registry = policy(allow(PULL, f"arn:aws:ecr:us-east-1:{A}:repository/*", Principal={"AWS": B}))
    repository_deny = policy(deny(PULL, None, Principal={"AWS": B_USER}))
    assert decision(ctx(B_USER), [CAN_PULL], [registry]) is ALLOW
    assert decision(ctx(B_USER), [CAN_PULL], [registry, repository_deny]) is DENY
    assert (
        decision(
            ctx(B_USER, resource=f"arn:aws:ecr:eu-west-1:{A}:repository/app"),
            [CAN_PULL],
            [registry],
        )
        is IMPLICIT
    )


@pytest.mark.parametrize(
    ("scope", "action", "applies"),
    [
        ("V2", PULL, True),
        ("V2", "ecr:GetAuthorizationToken", True),
        ("V2", "ECR:PutImage", True),
        ("V2", "s3:GetObject", False),
        ("V1", "ecr:ReplicateImage", True),
        ("V1", "ecr:replicateimage", True),
        ("V1", "ecr:BatchImportUpstreamImage", True),
        ("V1", "ecr:CreateRepository", True),
        ("V1", PULL, False),
        ("V1", "ecr:PutImage", False),
    ],
)
def test_registry_policy_scope(scope: str, action: str, applies: bool) -> None:
    assert registry_policy_applies(scope, action) is applies


def test_registry_policy_scope_covers_every_ecr_action() -> None:
    v1 = {a for a in ecr_policies.ECR_ACTIONS if registry_policy_applies("V1", a)}
    assert v1 == {"ecr:replicateimage", "ecr:batchimportupstreamimage", "ecr:createrepository"}
    assert all(registry_policy_applies("V2", action) for action in ecr_policies.ECR_ACTIONS)
    with pytest.raises(ValueError, match="REGISTRY_POLICY_SCOPE"):
        registry_policy_applies("V3", PULL)


# --- conditions in context ------------------------------------------------------------------------


def test_conditions_are_anded_across_operators_and_keys() -> None:
    conditional = policy(
        allow(
            PULL,
            Condition={
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": {"aws:RequestTag/env": "prod", "aws:RequestTag/team": "web"},
            },
        )
    )
    good = {
        "aws:SourceIp": "10.1.2.3",
        "aws:SecureTransport": "true",
        "aws:RequestTag/env": "prod",
        "aws:RequestTag/team": "web",
    }
    assert decision(ctx(keys=good), [conditional]) is ALLOW
    for key, bad in [
        ("aws:SourceIp", "192.0.2.1"),
        ("aws:SecureTransport", "false"),
        ("aws:RequestTag/env", "dev"),
        ("aws:RequestTag/team", "db"),
    ]:
        assert decision(ctx(keys={**good, key: bad}), [conditional]) is IMPLICIT, key
        missing = {k: v for k, v in good.items() if k != key}
        assert decision(ctx(keys=missing), [conditional]) is IMPLICIT, key


def test_resource_and_ecr_tags() -> None:
    tagged = policy(
        allow(
            PULL,
            Condition={
                "StringEquals": {"ecr:ResourceTag/team": "web", "aws:ResourceTag/env": "prod"}
            },
        )
    )
    keys = {"ecr:ResourceTag/team": "web", "aws:ResourceTag/env": "prod"}
    assert decision(ctx(keys=keys), [tagged]) is ALLOW
    assert decision(ctx(keys={**keys, "ecr:ResourceTag/team": "db"}), [tagged]) is IMPLICIT


def test_request_tags_and_tag_keys() -> None:
    tagging = policy(
        allow(
            "ecr:TagResource",
            Condition={
                "StringEquals": {"aws:RequestTag/env": ["dev", "prod"]},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]},
            },
        )
    )
    ok = {"aws:RequestTag/env": "dev", "aws:TagKeys": ["env"]}
    extra_key = {"aws:RequestTag/env": "dev", "aws:TagKeys": ["env", "cost"]}
    assert decision(ctx(action="ecr:TagResource", keys=ok), [tagging]) is ALLOW
    assert decision(ctx(action="ecr:TagResource", keys=extra_key), [tagging]) is IMPLICIT


def test_current_time_window() -> None:
    window = policy(
        allow(
            PULL,
            Condition={
                "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2024-12-31T23:59:59Z"},
            },
        )
    )
    assert decision(ctx(keys={"aws:CurrentTime": "2024-06-01T12:00:00Z"}), [window]) is ALLOW
    assert decision(ctx(keys={"aws:CurrentTime": "2025-06-01T12:00:00Z"}), [window]) is IMPLICIT
    assert decision(ctx(keys={"aws:CurrentTime": "1717243200"}), [window]) is ALLOW  # epoch
    assert decision(ctx(), [window]) is IMPLICIT


def test_principal_condition_keys_come_from_the_context() -> None:
    by_account = policy(allow(PULL, Condition={"StringEquals": {"aws:PrincipalAccount": A}}))
    assert decision(ctx(USER), [by_account]) is ALLOW
    by_role = policy(allow(PULL, Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}))
    assert decision(ctx(SESSION), [by_role]) is ALLOW  # a session's aws:PrincipalArn is its role
    assert decision(ctx(USER), [by_role]) is IMPLICIT
    by_type = policy(allow(PULL, Condition={"StringEquals": {"aws:PrincipalType": "AssumedRole"}}))
    assert decision(ctx(SESSION), [by_type]) is ALLOW
    assert decision(ctx(USER), [by_type]) is IMPLICIT
    by_id = policy(allow(PULL, Condition={"StringLike": {"aws:userid": "AIDA*"}}))
    assert decision(ctx(USER, keys={"aws:userid": "AIDAEXAMPLE"}), [by_id]) is ALLOW
    assert decision(ctx(USER), [by_id]) is IMPLICIT


# --- the context, verdicts, caching ---------------------------------------------------------------


def test_request_context_keys() -> None:
    context = ctx(USER, keys={"AWS:SourceIp": "10.0.0.1", "aws:TagKeys": ["a", "b"]})
    values = context.key_values
    assert values["aws:sourceip"] == ("10.0.0.1",)
    assert values["aws:tagkeys"] == ("a", "b")
    assert values["aws:username"] == ("alice",)
    assert values["aws:principalarn"] == (USER,)
    assert values["aws:principalaccount"] == (A,)
    assert values["aws:principaltype"] == ("User",)
    assert "aws:userid" not in values
    session = ctx(SESSION).key_values
    assert session["aws:principalarn"] == (ROLE,)
    assert "aws:username" not in session
    root = ctx(f"arn:aws:iam::{A}:root").key_values
    assert (root["aws:userid"], root["aws:principaltype"]) == ((A,), ("Account",))
    overridden = ctx(USER, keys={"aws:username": "other", "aws:PrincipalType": []}).key_values
    assert overridden["aws:username"] == ("other",)
    assert "aws:principaltype" not in overridden  # an empty list removes the key


def test_request_context_rejects_unknown_principal_kinds() -> None:
    with pytest.raises(ValueError, match="principal_kind"):
        RequestContext(
            principal_arn=USER,
            principal_account=A,
            principal_kind="group",
            role_arn=None,
            action=PULL,
            resource=REPO,
            resource_account=A,
            keys={},
        )


def test_verdict_reasons_name_the_policy_and_statement() -> None:
    identity = policy({**allow(PULL), "Sid": "Pull"}, Id="team-pull")
    result = verdict(ctx(), [policy(allow("s3:*")), identity])
    assert result.decision is ALLOW
    assert result.reason == "allowed by identity-based policy 2 ('team-pull'), statement 'Pull'"
    assert result.statement == identity.statements[0]
    denied = verdict(
        ctx(), [CAN_PULL], [policy(grant("*", "ecr:*"), deny(PULL, None, Principal="*"))]
    )
    assert denied.reason == "explicit deny in resource-based policy 1, statement 2"
    assert denied.side == "resource"


@pytest.mark.parametrize(
    ("context", "identity", "resource", "message"),
    [
        (
            ctx(),
            [],
            [],
            f"User: {USER} is not authorized to perform: {PULL} on resource: {REPO}"
            f" because no identity-based policy allows the {PULL} action",
        ),
        (
            ctx(),
            [policy(deny(PULL))],
            [],
            f"User: {USER} is not authorized to perform: {PULL} on resource: {REPO}"
            " with an explicit deny in an identity-based policy",
        ),
        (
            ctx(B_USER),
            [CAN_PULL, policy(allow("*"))],
            [policy(deny(PULL, None, Principal="*"))],
            f"User: {B_USER} is not authorized to perform: {PULL} on resource: {REPO}"
            " with an explicit deny in a resource-based policy",
        ),
        (
            ctx(B_USER),
            [CAN_PULL],
            [],
            f"User: {B_USER} is not authorized to perform: {PULL} on resource: {REPO}"
            f" because no resource-based policy allows the {PULL} action",
        ),
    ],
)
def test_access_denied_messages(
    context: RequestContext, identity: list[Policy], resource: list[Policy], message: str
) -> None:
    result = verdict(context, identity, resource)
    assert result.decision is not ALLOW
    assert access_denied_message(context, result) == message


def test_compiled_policies_are_cached() -> None:
    first = policy(allow(PULL, Condition={"StringLike": {"aws:RequestTag/env": "p*"}}))
    again = policy(allow(PULL, Condition={"StringLike": {"aws:RequestTag/env": "p*"}}))
    assert compile_policy(first) is compile_policy(first)
    assert compile_policy(again) is not compile_policy(first)
    assert compile_policy(again).statements[0] is compile_policy(first).statements[0]
