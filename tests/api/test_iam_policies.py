"""Inline and managed policies: documents, quotas, versions, attachments, deletion rules."""

from __future__ import annotations

import json

from tests.api.test_iam_helpers import allow, iam, policy
from tests.support.registry import InProcessRegistry

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
PULL = allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])


def test_inline_user_policies(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="ivy")
    client.call("PutUserPolicy", UserName="ivy", PolicyName="pull", PolicyDocument=policy(PULL))
    client.call(
        "PutUserPolicy",
        UserName="ivy",
        PolicyName="auth",
        PolicyDocument=policy(allow("ecr:GetAuthorizationToken")),
    )
    got = client.call("GetUserPolicy", UserName="ivy", PolicyName="pull")
    assert got["UserName"] == "ivy"
    assert got["PolicyName"] == "pull"
    assert got["PolicyDocument"]["Statement"][0]["Action"] == PULL["Action"]
    assert client.call("ListUserPolicies", UserName="ivy")["PolicyNames"] == ["auth", "pull"]
    page = client.call("ListUserPolicies", UserName="ivy", MaxItems=1)
    assert page["PolicyNames"] == ["auth"]
    assert page["IsTruncated"]
    rest = client.call("ListUserPolicies", UserName="ivy", Marker=page["Marker"])
    assert rest["PolicyNames"] == ["pull"]
    assert not rest["IsTruncated"]
    replaced = policy(allow("ecr:*"))
    client.call("PutUserPolicy", UserName="ivy", PolicyName="pull", PolicyDocument=replaced)
    again = client.call("GetUserPolicy", UserName="ivy", PolicyName="pull")["PolicyDocument"]
    assert again == json.loads(replaced)
    client.call("DeleteUserPolicy", UserName="ivy", PolicyName="pull")
    missing = client.fail("GetUserPolicy", UserName="ivy", PolicyName="pull")
    assert (missing.status, missing.code) == (404, "NoSuchEntity")
    assert missing.message == "The user policy with name pull cannot be found."
    nobody = client.fail(
        "PutUserPolicy", UserName="ghost", PolicyName="p", PolicyDocument=policy(PULL)
    )
    assert nobody.message == "The user with name ghost cannot be found."


def test_malformed_documents(registry: InProcessRegistry) -> None:
    client = iam(registry)
    cases = {
        "{not json": "Syntax errors in policy.",
        "[]": "Syntax errors in policy.",
        policy({**PULL, "Principal": "*"}): "Policy document should not specify a principal.",
    }
    for document, message in cases.items():
        failure = client.fail(
            "PutUserPolicy", UserName="admin", PolicyName="p", PolicyDocument=document
        )
        assert (failure.status, failure.code, failure.message) == (
            400,
            "MalformedPolicyDocument",
            message,
        )
    no_resource = client.fail(
        "CreatePolicy",
        PolicyName="x",
        PolicyDocument=policy({"Effect": "Allow", "Action": "ecr:*"}),
    )
    assert no_resource.code == "MalformedPolicyDocument"
    bad_action = client.fail("CreatePolicy", PolicyName="x", PolicyDocument=policy(allow("ecr")))
    assert bad_action.code == "MalformedPolicyDocument"


def test_inline_size_quota(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="jack")
    actions = [f"ecr:Action{index:04d}" for index in range(120)]
    failure = client.fail(
        "PutUserPolicy", UserName="jack", PolicyName="big", PolicyDocument=policy(allow(actions))
    )
    assert (failure.status, failure.code) == (409, "LimitExceeded")
    assert failure.message == "Maximum policy size of 2048 bytes exceeded for user jack"
    client.call(
        "CreateRole",
        RoleName="roomy",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                }
            }
        ),
    )
    client.call(
        "PutRolePolicy", RoleName="roomy", PolicyName="big", PolicyDocument=policy(allow(actions))
    )


def test_customer_managed_policy_lifecycle(registry: InProcessRegistry) -> None:
    client = iam(registry)
    created = client.call(
        "CreatePolicy",
        PolicyName="pullers",
        Path="/ci/",
        PolicyDocument=policy(PULL),
        Description="pull images",
    )["Policy"]
    arn = f"arn:aws:iam::{registry.account_id}:policy/ci/pullers"
    assert created["Arn"] == arn
    assert created["PolicyId"].startswith("ANPA")
    assert created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0
    assert created["IsAttachable"] is True
    assert "Description" not in created
    got = client.call("GetPolicy", PolicyArn=arn)["Policy"]
    assert got["Description"] == "pull images"
    assert got["Path"] == "/ci/"
    version = client.call("GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["IsDefaultVersion"] is True
    assert version["Document"] == json.loads(policy(PULL))
    assert client.fail("GetPolicyVersion", PolicyArn=arn, VersionId="v2").code == "NoSuchEntity"
    versions = client.call("ListPolicyVersions", PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v1"]
    duplicate = client.fail("CreatePolicy", PolicyName="Pullers", PolicyDocument=policy(PULL))
    assert (duplicate.status, duplicate.code) == (409, "EntityAlreadyExists")
    assert (
        duplicate.message
        == "A policy called Pullers already exists. Duplicate names are not allowed."
    )

    client.call("CreateUser", UserName="kim")
    client.call("AttachUserPolicy", UserName="kim", PolicyArn=arn)
    client.call("AttachUserPolicy", UserName="kim", PolicyArn=arn)  # idempotent
    assert client.call("GetPolicy", PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    conflict = client.fail("DeletePolicy", PolicyArn=arn)
    assert (conflict.status, conflict.code) == (409, "DeleteConflict")
    assert conflict.message == "Cannot delete a policy attached to entities."
    client.call("DetachUserPolicy", UserName="kim", PolicyArn=arn)
    not_attached = client.fail("DetachUserPolicy", UserName="kim", PolicyArn=arn)
    assert (not_attached.code, not_attached.message) == (
        "NoSuchEntity",
        f"Policy {arn} was not found.",
    )
    client.call("DeletePolicy", PolicyArn=arn)
    gone = client.fail("GetPolicy", PolicyArn=arn)
    assert (gone.status, gone.code, gone.message) == (
        404,
        "NoSuchEntity",
        f"Policy {arn} was not found.",
    )


def test_aws_managed_policies(registry: InProcessRegistry) -> None:
    client = iam(registry)
    got = client.call("GetPolicy", PolicyArn=READ_ONLY)["Policy"]
    assert got["PolicyName"] == "AmazonEC2ContainerRegistryReadOnly"
    assert got["Path"] == "/"
    assert got["PolicyId"].startswith("ANPA")
    document = client.call("GetPolicyVersion", PolicyArn=READ_ONLY, VersionId="v1")
    assert "ecr:BatchGetImage" in json.dumps(document["PolicyVersion"]["Document"])
    aws = client.call("ListPolicies", Scope="AWS")["Policies"]
    assert READ_ONLY in {p["Arn"] for p in aws}
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws)
    denied = client.fail("DeletePolicy", PolicyArn=READ_ONLY)
    assert (denied.status, denied.code) == (403, "AccessDenied")
    unknown = client.fail(
        "AttachUserPolicy", UserName="admin", PolicyArn="arn:aws:iam::aws:policy/NoSuchThing"
    )
    assert (
        unknown.message
        == "Policy arn:aws:iam::aws:policy/NoSuchThing does not exist or is not attachable."
    )
    invalid = client.fail("GetPolicy", PolicyArn="arn:aws:iam::aws:role/Nope")
    assert (invalid.status, invalid.code) == (400, "InvalidInput")
    assert invalid.message == "ARN arn:aws:iam::aws:role/Nope is not valid."
    other = client.fail("GetPolicy", PolicyArn="arn:aws:iam::999988887777:policy/theirs")
    assert other.code == "NoSuchEntity"


def test_list_policies_filters_and_pages(registry: InProcessRegistry) -> None:
    client = iam(registry)
    for name in ("alpha", "beta", "gamma"):
        client.call("CreatePolicy", PolicyName=name, PolicyDocument=policy(PULL))
    local = client.call("ListPolicies", Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["alpha", "beta", "gamma"]
    attached = client.call("ListPolicies", OnlyAttached=True)["Policies"]
    assert [p["PolicyName"] for p in attached] == ["AdministratorAccess"]  # the bootstrap admin's
    names: list[str] = []
    params: dict[str, object] = {"MaxItems": 2}
    while True:
        page = client.call("ListPolicies", **params)
        names += [p["PolicyName"] for p in page["Policies"]]
        if not page["IsTruncated"]:
            break
        params["Marker"] = page["Marker"]
    assert names == sorted(names, key=str.lower)
    assert {"alpha", "beta", "gamma", "AdministratorAccess"} <= set(names)


def test_attachments_on_users_groups_and_roles(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateGroup", GroupName="ops")
    client.call(
        "CreateRole",
        RoleName="svc",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                }
            }
        ),
    )
    custom = client.call("CreatePolicy", PolicyName="c", PolicyDocument=policy(PULL))["Policy"][
        "Arn"
    ]
    for noun, member, name in (
        ("User", "UserName", "admin"),
        ("Group", "GroupName", "ops"),
        ("Role", "RoleName", "svc"),
    ):
        client.call(f"Attach{noun}Policy", **{member: name, "PolicyArn": READ_ONLY})
        client.call(f"Attach{noun}Policy", **{member: name, "PolicyArn": custom})
        listed = client.call(f"ListAttached{noun}Policies", **{member: name})["AttachedPolicies"]
        assert {
            "PolicyName": "AmazonEC2ContainerRegistryReadOnly",
            "PolicyArn": READ_ONLY,
        } in listed
        assert {"PolicyName": "c", "PolicyArn": custom} in listed
        client.call(f"Detach{noun}Policy", **{member: name, "PolicyArn": custom})
    assert client.call("GetPolicy", PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 3
    assert client.call("GetPolicy", PolicyArn=custom)["Policy"]["AttachmentCount"] == 0


def test_attachment_quota(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="lou")
    for index in range(10):
        arn = client.call("CreatePolicy", PolicyName=f"p{index}", PolicyDocument=policy(PULL))[
            "Policy"
        ]["Arn"]
        client.call("AttachUserPolicy", UserName="lou", PolicyArn=arn)
    failure = client.fail("AttachUserPolicy", UserName="lou", PolicyArn=READ_ONLY)
    assert (failure.status, failure.code) == (409, "LimitExceeded")
    assert failure.message == "Cannot exceed quota for PoliciesPerUser: 10"
