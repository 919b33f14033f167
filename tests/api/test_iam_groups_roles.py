"""IAM groups (members, group policies) and roles (trust policies, role policies)."""

from __future__ import annotations

import json

from tests.api.test_iam_helpers import allow, iam, policy, trust
from tests.support.registry import InProcessRegistry

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def test_groups_members_and_policies(registry: InProcessRegistry) -> None:
    client = iam(registry)
    group = client.call("CreateGroup", GroupName="devs", Path="/eng/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{registry.account_id}:group/eng/devs"
    assert group["GroupId"].startswith("AGPA")
    duplicate = client.fail("CreateGroup", GroupName="DEVS")
    assert (duplicate.code, duplicate.message) == (
        "EntityAlreadyExists",
        "Group with name DEVS already exists.",
    )
    for name in ("mia", "ned", "oli"):
        client.call("CreateUser", UserName=name)
        client.call("AddUserToGroup", GroupName="devs", UserName=name)
    client.call("AddUserToGroup", GroupName="devs", UserName="mia")  # already a member
    got = client.call("GetGroup", GroupName="devs", MaxItems=2)
    assert got["Group"]["GroupName"] == "devs"
    assert [u["UserName"] for u in got["Users"]] == ["mia", "ned"]
    assert got["IsTruncated"]
    rest = client.call("GetGroup", GroupName="devs", Marker=got["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["oli"]
    assert [g["GroupName"] for g in client.call("ListGroupsForUser", UserName="ned")["Groups"]] == [
        "devs"
    ]
    assert [g["GroupName"] for g in client.call("ListGroups", PathPrefix="/eng/")["Groups"]] == [
        "devs"
    ]

    client.call(
        "PutGroupPolicy",
        GroupName="devs",
        PolicyName="pull",
        PolicyDocument=policy(allow("ecr:BatchGetImage")),
    )
    assert client.call("ListGroupPolicies", GroupName="devs")["PolicyNames"] == ["pull"]
    got_policy = client.call("GetGroupPolicy", GroupName="devs", PolicyName="pull")
    assert got_policy["GroupName"] == "devs"
    client.call("AttachGroupPolicy", GroupName="devs", PolicyArn=READ_ONLY)

    members = client.fail("DeleteGroup", GroupName="devs")
    assert (members.status, members.code) == (409, "DeleteConflict")
    assert members.message == "Cannot delete entity, must remove users from group first."
    for name in ("mia", "ned", "oli"):
        client.call("RemoveUserFromGroup", GroupName="devs", UserName=name)
    not_member = client.fail("RemoveUserFromGroup", GroupName="devs", UserName="mia")
    assert not_member.code == "NoSuchEntity"
    assert client.fail("DeleteGroup", GroupName="devs").message == (
        "Cannot delete entity, must delete policies first."
    )
    client.call("DeleteGroupPolicy", GroupName="devs", PolicyName="pull")
    assert client.fail("DeleteGroup", GroupName="devs").message == (
        "Cannot delete entity, must detach all policies first."
    )
    client.call("DetachGroupPolicy", GroupName="devs", PolicyArn=READ_ONLY)
    client.call("DeleteGroup", GroupName="devs")
    gone = client.fail("GetGroup", GroupName="devs")
    assert (gone.status, gone.message) == (404, "The group with name devs cannot be found.")


def test_group_quota_per_user(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="pat")
    for index in range(10):
        client.call("CreateGroup", GroupName=f"g{index}")
        client.call("AddUserToGroup", GroupName=f"g{index}", UserName="pat")
    client.call("CreateGroup", GroupName="g10")
    failure = client.fail("AddUserToGroup", GroupName="g10", UserName="pat")
    assert (failure.status, failure.code) == (409, "LimitExceeded")
    assert failure.message == "Cannot exceed quota for GroupsPerUser: 10"


def test_roles_and_trust_policies(registry: InProcessRegistry) -> None:
    client = iam(registry)
    admin = f"arn:aws:iam::{registry.account_id}:user/admin"
    role = client.call(
        "CreateRole",
        RoleName="builder",
        Path="/ci/",
        AssumeRolePolicyDocument=trust(admin),
        Description="CI pushes",
        MaxSessionDuration=7200,
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{registry.account_id}:role/ci/builder"
    assert role["RoleId"].startswith("AROA")
    assert role["MaxSessionDuration"] == 7200
    assert role["AssumeRolePolicyDocument"] == json.loads(trust(admin))
    got = client.call("GetRole", RoleName="BUILDER")["Role"]
    assert got["Description"] == "CI pushes"
    assert got["RoleName"] == "builder"
    assert [r["RoleName"] for r in client.call("ListRoles")["Roles"]] == ["builder"]
    duplicate = client.fail("CreateRole", RoleName="builder", AssumeRolePolicyDocument=trust(admin))
    assert (duplicate.status, duplicate.message) == (409, "Role with name builder already exists.")

    client.call(
        "PutRolePolicy",
        RoleName="builder",
        PolicyName="push",
        PolicyDocument=policy(allow("ecr:PutImage")),
    )
    assert (
        client.call("GetRolePolicy", RoleName="builder", PolicyName="push")["RoleName"] == "builder"
    )
    assert client.call("ListRolePolicies", RoleName="builder")["PolicyNames"] == ["push"]
    client.call("AttachRolePolicy", RoleName="builder", PolicyArn=READ_ONLY)
    assert client.fail("DeleteRole", RoleName="builder").message == (
        "Cannot delete entity, must delete policies first."
    )
    client.call("DeleteRolePolicy", RoleName="builder", PolicyName="push")
    assert client.fail("DeleteRole", RoleName="builder").message == (
        "Cannot delete entity, must detach all policies first."
    )
    client.call("DetachRolePolicy", RoleName="builder", PolicyArn=READ_ONLY)
    client.call("UpdateRole", RoleName="builder", Description="new", MaxSessionDuration=3600)
    client.call("UpdateAssumeRolePolicy", RoleName="builder", PolicyDocument=trust("*"))
    updated = client.call("GetRole", RoleName="builder")["Role"]
    assert updated["Description"] == "new"
    assert updated["MaxSessionDuration"] == 3600
    assert updated["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": ["*"]}
    client.call("DeleteRole", RoleName="builder")
    gone = client.fail("GetRole", RoleName="builder")
    assert (gone.status, gone.message) == (404, "The role with name builder cannot be found.")


def test_trust_policies_need_a_principal(registry: InProcessRegistry) -> None:
    client = iam(registry)
    no_principal = policy({"Effect": "Allow", "Action": "sts:AssumeRole"})
    failure = client.fail("CreateRole", RoleName="r", AssumeRolePolicyDocument=no_principal)
    assert (failure.status, failure.code) == (400, "MalformedPolicyDocument")
    assert failure.message == "Missing required field Principal"
    too_long = client.fail(
        "CreateRole", RoleName="r", AssumeRolePolicyDocument=trust("*"), MaxSessionDuration=50000
    )
    assert too_long.code == "ValidationError"
    assert "Member must have value less than or equal to 43200" in too_long.message
    client.call("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust("*"))
    bad_update = client.fail(
        "UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=policy(allow("sts:AssumeRole"))
    )
    assert bad_update.code == "MalformedPolicyDocument"
    tags = client.fail(
        "CreateRole",
        RoleName="r2",
        AssumeRolePolicyDocument=trust("*"),
        Tags=[{"Key": "a", "Value": "b"}],
    )
    assert (tags.status, tags.code) == (501, "NotImplemented")
