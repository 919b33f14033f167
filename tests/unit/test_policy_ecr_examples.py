"""The situations of AWS's documented ECR repository and registry policy examples, evaluated
end to end: policy text parsed as ECR stores it, then decided for callers inside and outside.

Accounts: 111122223333 owns the registry; 444455556666 is the other account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stiva.iam.evaluate import Decision, RequestContext, decide, registry_policy_applies
from stiva.iam.managed import AWS_MANAGED
from stiva.iam.policy import Policy, parse_policy

OWNER = "111122223333"
OTHER = "444455556666"
REGION = "us-west-2"
REPO = f"arn:aws:ecr:{REGION}:{OWNER}:repository/app"
PROD_REPO = f"arn:aws:ecr:{REGION}:{OWNER}:repository/prod-web"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]
ALLOW, DENY, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
ADMIN = AWS_MANAGED["arn:aws:iam::aws:policy/AdministratorAccess"].policy
POWER_USER = AWS_MANAGED["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"].policy
READ_ONLY = AWS_MANAGED["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"].policy


def user(name: str, account: str = OWNER) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def repository_policy(*statements: dict[str, Any], version: str = "2012-10-17") -> Policy:
    return parse_policy(
        json.dumps({"Version": version, "Statement": list(statements)}), resource_based=True
    )


def request(
    principal: str, action: str, *, resource: str = REPO, keys: dict[str, Any] | None = None
) -> RequestContext:
    account = principal.split(":")[4]
    kind, role = "user", None
    if principal.endswith(":root"):
        kind = "root"
    elif ":assumed-role/" in principal:
        kind, role = "assumed-role", f"arn:aws:iam::{account}:role/{principal.split('/')[1]}"
    return RequestContext(
        principal_arn=principal,
        principal_account=account,
        principal_kind=kind,
        role_arn=role,
        action=action,
        resource=resource,
        resource_account=OWNER,
        keys=keys or {},
    )


def outcome(
    context: RequestContext, *, identity: list[Policy] | None = None, resource: list[Policy]
) -> Decision:
    return decide(context, identity_policies=identity or [], resource_policies=resource).decision


# --- "Allow one or more users" -----------------------------------------------------------------

PUSH_PULL_USERS = repository_policy(
    {
        "Sid": "AllowPushPull",
        "Effect": "Allow",
        "Principal": {"AWS": [user("push-pull-user-1"), user("push-pull-user-2")]},
        "Action": sorted(set(PULL + PUSH)),
    }
)


@pytest.mark.parametrize("action", PULL + PUSH)
def test_named_users_push_and_pull_without_identity_policies(action: str) -> None:
    for name in ("push-pull-user-1", "push-pull-user-2"):
        assert outcome(request(user(name), action), resource=[PUSH_PULL_USERS]) is ALLOW
    assert outcome(request(user("someone-else"), action), resource=[PUSH_PULL_USERS]) is IMPLICIT


def test_named_users_get_nothing_beyond_the_listed_actions() -> None:
    for action in ("ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:BatchDeleteImage"):
        context = request(user("push-pull-user-1"), action)
        assert outcome(context, resource=[PUSH_PULL_USERS]) is IMPLICIT


# --- "Allow another account" -------------------------------------------------------------------

CROSS_ACCOUNT_PUSH = repository_policy(
    {
        "Sid": "AllowCrossAccountPush",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": PUSH,
    }
)


def test_another_account_pushes_when_its_own_iam_allows() -> None:
    pusher = request(user("ci", OTHER), "ecr:PutImage")
    assert outcome(pusher, identity=[POWER_USER], resource=[CROSS_ACCOUNT_PUSH]) is ALLOW
    assert outcome(pusher, identity=[ADMIN], resource=[CROSS_ACCOUNT_PUSH]) is ALLOW


def test_another_account_without_its_identity_side_is_refused() -> None:
    pusher = request(user("ci", OTHER), "ecr:PutImage")
    assert outcome(pusher, resource=[CROSS_ACCOUNT_PUSH]) is IMPLICIT
    assert outcome(pusher, identity=[READ_ONLY], resource=[CROSS_ACCOUNT_PUSH]) is IMPLICIT


def test_another_account_gets_only_what_the_repository_policy_grants() -> None:
    puller = request(user("ci", OTHER), "ecr:BatchGetImage")  # not in the push list
    assert outcome(puller, identity=[ADMIN], resource=[CROSS_ACCOUNT_PUSH]) is IMPLICIT
    outsider = request(user("ci", "999988887777"), "ecr:PutImage")
    assert outcome(outsider, identity=[ADMIN], resource=[CROSS_ACCOUNT_PUSH]) is IMPLICIT


def test_the_other_accounts_root_and_role_sessions_are_covered() -> None:
    root = request(f"arn:aws:iam::{OTHER}:root", "ecr:PutImage")
    assert outcome(root, resource=[CROSS_ACCOUNT_PUSH]) is ALLOW
    session = request(f"arn:aws:sts::{OTHER}:assumed-role/builder/job-7", "ecr:PutImage")
    assert outcome(session, identity=[POWER_USER], resource=[CROSS_ACCOUNT_PUSH]) is ALLOW
    assert outcome(session, resource=[CROSS_ACCOUNT_PUSH]) is IMPLICIT


# --- "Allow pull for some users, full access for an administrator" --------------------------------

PULL_AND_ADMIN = repository_policy(
    {
        "Sid": "AllowPull",
        "Effect": "Allow",
        "Principal": {"AWS": [user("pull-user-1"), user("pull-user-2")]},
        "Action": PULL,
    },
    {
        "Sid": "AllowAll",
        "Effect": "Allow",
        "Principal": {"AWS": user("admin-user")},
        "Action": ["ecr:*"],
    },
)


@pytest.mark.parametrize(
    ("name", "action", "expected"),
    [
        ("pull-user-1", "ecr:BatchGetImage", ALLOW),
        ("pull-user-2", "ecr:GetDownloadUrlForLayer", ALLOW),
        ("pull-user-1", "ecr:PutImage", IMPLICIT),
        ("pull-user-1", "ecr:DeleteRepository", IMPLICIT),
        ("admin-user", "ecr:PutImage", ALLOW),
        ("admin-user", "ecr:DeleteRepository", ALLOW),
        ("admin-user", "s3:GetObject", IMPLICIT),
        ("intern", "ecr:BatchGetImage", IMPLICIT),
    ],
)
def test_pull_users_and_admin(name: str, action: str, expected: Decision) -> None:
    assert outcome(request(user(name), action), resource=[PULL_AND_ADMIN]) is expected


# --- "Deny all" --------------------------------------------------------------------------------

DENY_PULL = repository_policy(
    {
        "Sid": "DenyPull",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    }
)


def test_deny_all_pulls_overrides_even_administrators() -> None:
    for principal in (user("admin"), f"arn:aws:iam::{OWNER}:root", user("ci", OTHER)):
        for action in PULL:
            context = request(principal, action)
            assert outcome(context, identity=[ADMIN], resource=[DENY_PULL]) is DENY, principal
    describe = request(user("admin"), "ecr:DescribeImages")
    assert outcome(describe, identity=[ADMIN], resource=[DENY_PULL]) is ALLOW


# --- "Restrict access to specific IP addresses" ---------------------------------------------------

IP_FENCE = repository_policy(
    {
        "Sid": "DenyOutsideRange",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "ecr:*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}},
    }
)


@pytest.mark.parametrize(
    ("source_ip", "expected"),
    [
        ("54.240.143.1", ALLOW),
        ("54.240.143.254", ALLOW),
        ("54.240.144.1", DENY),
        ("2001:db8::1", DENY),
        (None, DENY),  # no source address: NotIpAddress holds, the Deny applies
    ],
)
def test_ip_fence(source_ip: str | None, expected: Decision) -> None:
    keys = {} if source_ip is None else {"aws:SourceIp": source_ip}
    context = request(user("dev"), "ecr:BatchGetImage", keys=keys)
    assert outcome(context, identity=[READ_ONLY], resource=[IP_FENCE]) is expected


def test_an_allow_limited_to_an_ip_range() -> None:
    office_only = repository_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": PULL,
            "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}},
        }
    )
    inside = request(user("ci", OTHER), "ecr:BatchGetImage", keys={"aws:SourceIp": "2001:db8::7"})
    outside = request(user("ci", OTHER), "ecr:BatchGetImage", keys={"aws:SourceIp": "203.0.113.9"})
    assert outcome(inside, identity=[READ_ONLY], resource=[office_only]) is ALLOW
    assert outcome(outside, identity=[READ_ONLY], resource=[office_only]) is IMPLICIT


# --- "Allow an AWS service" --------------------------------------------------------------------

CODEBUILD = repository_policy(
    {
        "Sid": "CodeBuildAccess",
        "Effect": "Allow",
        "Principal": {"Service": "codebuild.amazonaws.com"},
        "Action": PULL,
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:{REGION}:{OWNER}:project/build"},
            "StringEquals": {"aws:SourceAccount": OWNER},
        },
    }
)


def test_service_principals_never_grant_an_iam_caller() -> None:
    keys = {
        "aws:SourceArn": f"arn:aws:codebuild:{REGION}:{OWNER}:project/build",
        "aws:SourceAccount": OWNER,
    }
    caller = request(user("dev"), "ecr:BatchGetImage", keys=keys)
    assert outcome(caller, resource=[CODEBUILD]) is IMPLICIT
    assert outcome(caller, identity=[READ_ONLY], resource=[CODEBUILD]) is ALLOW


# --- deny everyone except a deployment role -------------------------------------------------------

ONLY_DEPLOY_PUSHES = repository_policy(
    {
        "Sid": "OnlyDeployRolePushes",
        "Effect": "Deny",
        "Principal": "*",
        "Action": PUSH,
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/deploy"}},
    },
    {
        "Sid": "DeployRolePushes",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/deploy"},
        "Action": PUSH,
    },
)


def test_only_the_deploy_role_may_push() -> None:
    deploy = request(f"arn:aws:sts::{OWNER}:assumed-role/deploy/pipeline", "ecr:PutImage")
    assert outcome(deploy, resource=[ONLY_DEPLOY_PUSHES]) is ALLOW
    admin = request(user("admin"), "ecr:PutImage")
    assert outcome(admin, identity=[ADMIN], resource=[ONLY_DEPLOY_PUSHES]) is DENY
    other_role = request(f"arn:aws:sts::{OWNER}:assumed-role/build/x", "ecr:PutImage")
    assert outcome(other_role, identity=[ADMIN], resource=[ONLY_DEPLOY_PUSHES]) is DENY
    root = request(f"arn:aws:iam::{OWNER}:root", "ecr:PutImage")
    assert outcome(root, resource=[ONLY_DEPLOY_PUSHES]) is DENY
    pull = request(user("admin"), "ecr:BatchGetImage")
    assert outcome(pull, identity=[ADMIN], resource=[ONLY_DEPLOY_PUSHES]) is ALLOW


# --- registry policies: replication and registry-wide pulls ---------------------------------------

REPLICATION = repository_policy(
    {
        "Sid": "ReplicationAccessCrossAccount",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": f"arn:aws:ecr:{REGION}:{OWNER}:repository/prod-*",
    }
)


@pytest.mark.parametrize("scope", ["V1", "V2"])
def test_replication_registry_policy(scope: str) -> None:
    for action in ("ecr:ReplicateImage", "ecr:CreateRepository"):
        assert registry_policy_applies(scope, action)
        source = request(f"arn:aws:iam::{OTHER}:root", action, resource=PROD_REPO)
        assert outcome(source, resource=[REPLICATION]) is ALLOW
        elsewhere = request(f"arn:aws:iam::{OTHER}:root", action, resource=REPO)
        assert outcome(elsewhere, resource=[REPLICATION]) is IMPLICIT
        stranger = request("arn:aws:iam::999988887777:root", action, resource=PROD_REPO)
        assert outcome(stranger, resource=[REPLICATION]) is IMPLICIT


REGISTRY_PULL = repository_policy(
    {
        "Sid": "OrgWidePull",
        "Effect": "Allow",
        "Principal": {"AWS": OTHER},
        "Action": PULL,
        "Resource": f"arn:aws:ecr:{REGION}:{OWNER}:repository/*",
    }
)


@pytest.mark.parametrize(("scope", "expected"), [("V2", ALLOW), ("V1", IMPLICIT)])
def test_registry_wide_pull_needs_scope_v2(scope: str, expected: Decision) -> None:
    context = request(user("ci", OTHER), "ecr:BatchGetImage")
    applicable = [REGISTRY_PULL] if registry_policy_applies(scope, context.action) else []
    assert outcome(context, identity=[READ_ONLY], resource=applicable) is expected


def test_repository_deny_beats_registry_allow() -> None:
    context = request(user("ci", OTHER), "ecr:BatchGetImage")
    assert outcome(context, identity=[READ_ONLY], resource=[REGISTRY_PULL, DENY_PULL]) is DENY


def test_version_2008_repository_policies_behave_alike() -> None:
    legacy = repository_policy(
        {
            "Sid": "new statement",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": [*PULL, "ecr:BatchCheckLayerAvailability"],
        },
        version="2008-10-17",
    )
    context = request(user("ci", OTHER), "ecr:GetDownloadUrlForLayer")
    assert outcome(context, identity=[READ_ONLY], resource=[legacy]) is ALLOW
    assert outcome(context, resource=[legacy]) is IMPLICIT
