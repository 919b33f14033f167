"""boto3's IAM client against a live server: every served operation, errors as
`client.exceptions.X`, paginators over Marker / IsTruncated."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.live import REGION, LiveServer

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
PULL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}],
}


def client(server: LiveServer, service: str = "iam", **keys: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=keys.get("key", server.access_key_id),
        aws_secret_access_key=keys.get("secret", server.secret_access_key),
        aws_session_token=keys.get("token"),
    )


def test_users_and_access_keys(server: LiveServer) -> None:
    iam = client(server)
    user = iam.create_user(UserName="e2e-alice", Path="/e2e/")["User"]
    assert user["Arn"] == f"arn:aws:iam::{server.account_id}:user/e2e/e2e-alice"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="E2E-ALICE")
    assert iam.get_user(UserName="e2e-alice")["User"]["UserId"] == user["UserId"]
    own = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
           "Resource": user["Arn"]}]}  # fmt: skip
    iam.put_user_policy(UserName="e2e-alice", PolicyName="self", PolicyDocument=json.dumps(own))
    key = iam.create_access_key(UserName="e2e-alice")["AccessKey"]
    iam.create_access_key(UserName="e2e-alice")
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.create_access_key(UserName="e2e-alice")
    alice = client(server, key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert alice.get_user()["User"]["UserName"] == "e2e-alice"
    iam.update_access_key(UserName="e2e-alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as inactive:
        alice.get_user()
    assert inactive.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="e2e-alice")
    for listed in iam.list_access_keys(UserName="e2e-alice")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="e2e-alice", AccessKeyId=listed["AccessKeyId"])
    iam.delete_user_policy(UserName="e2e-alice", PolicyName="self")
    iam.delete_user(UserName="e2e-alice")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as missing:
        iam.get_user(UserName="e2e-alice")
    assert missing.value.response["Error"]["Message"] == (
        "The user with name e2e-alice cannot be found."
    )
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_paginators(server: LiveServer) -> None:
    iam = client(server)
    for index in range(7):
        iam.create_user(UserName=f"page-{index}", Path="/pages/")
    pages = list(
        iam.get_paginator("list_users").paginate(
            PathPrefix="/pages/", PaginationConfig={"PageSize": 3}
        )
    )
    assert [len(page["Users"]) for page in pages] == [3, 3, 1]
    assert [page["IsTruncated"] for page in pages] == [True, True, False]
    names = [user["UserName"] for page in pages for user in page["Users"]]
    assert names == [f"page-{index}" for index in range(7)]
    policies = iam.get_paginator("list_policies").paginate(
        Scope="AWS", PaginationConfig={"PageSize": 2}
    )
    arns = [p["Arn"] for page in policies for p in page["Policies"]]
    assert READ_ONLY in arns
    assert len(arns) == len(set(arns))
    keys = iam.get_paginator("list_access_keys").paginate(PaginationConfig={"PageSize": 1})
    assert [k["AccessKeyId"] for page in keys for k in page["AccessKeyMetadata"]] == [
        server.access_key_id
    ]


def test_policies_groups_and_roles(server: LiveServer) -> None:
    iam = client(server)
    iam.create_user(UserName="e2e-bob")
    iam.put_user_policy(UserName="e2e-bob", PolicyName="pull", PolicyDocument=json.dumps(PULL))
    assert iam.get_user_policy(UserName="e2e-bob", PolicyName="pull")["PolicyDocument"] == PULL
    assert iam.list_user_policies(UserName="e2e-bob")["PolicyNames"] == ["pull"]
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.put_user_policy(UserName="e2e-bob", PolicyName="bad", PolicyDocument="{")
    iam.delete_user_policy(UserName="e2e-bob", PolicyName="pull")

    arn = iam.create_policy(PolicyName="e2e-pull", PolicyDocument=json.dumps(PULL))["Policy"]["Arn"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == PULL
    iam.attach_user_policy(UserName="e2e-bob", PolicyArn=arn)
    iam.attach_user_policy(UserName="e2e-bob", PolicyArn=READ_ONLY)
    attached = iam.list_attached_user_policies(UserName="e2e-bob")["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == {arn, READ_ONLY}
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy(PolicyArn=arn)
    iam.detach_user_policy(UserName="e2e-bob", PolicyArn=arn)
    iam.detach_user_policy(UserName="e2e-bob", PolicyArn=READ_ONLY)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=arn)

    iam.create_group(GroupName="e2e-devs")
    iam.add_user_to_group(GroupName="e2e-devs", UserName="e2e-bob")
    iam.put_group_policy(GroupName="e2e-devs", PolicyName="pull", PolicyDocument=json.dumps(PULL))
    iam.attach_group_policy(GroupName="e2e-devs", PolicyArn=READ_ONLY)
    group = iam.get_group(GroupName="e2e-devs")
    assert [u["UserName"] for u in group["Users"]] == ["e2e-bob"]
    assert iam.list_groups_for_user(UserName="e2e-bob")["Groups"][0]["GroupName"] == "e2e-devs"
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_group(GroupName="e2e-devs")
    iam.remove_user_from_group(GroupName="e2e-devs", UserName="e2e-bob")
    iam.delete_group_policy(GroupName="e2e-devs", PolicyName="pull")
    iam.detach_group_policy(GroupName="e2e-devs", PolicyArn=READ_ONLY)
    iam.delete_group(GroupName="e2e-devs")

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="e2e-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert iam.get_role(RoleName="e2e-role")["Role"]["AssumeRolePolicyDocument"] == trust
    iam.put_role_policy(RoleName="e2e-role", PolicyName="pull", PolicyDocument=json.dumps(PULL))
    iam.attach_role_policy(RoleName="e2e-role", PolicyArn=READ_ONLY)
    assert iam.list_role_policies(RoleName="e2e-role")["PolicyNames"] == ["pull"]
    assert (
        iam.list_attached_role_policies(RoleName="e2e-role")["AttachedPolicies"][0]["PolicyArn"]
        == READ_ONLY
    )
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_role(RoleName="e2e-role")
    iam.delete_role_policy(RoleName="e2e-role", PolicyName="pull")
    iam.detach_role_policy(RoleName="e2e-role", PolicyArn=READ_ONLY)
    iam.delete_role(RoleName="e2e-role")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role["RoleName"])
    iam.delete_user(UserName="e2e-bob")


def test_not_supported_operations(server: LiveServer) -> None:
    iam = client(server)
    with pytest.raises(ClientError) as raised:
        iam.list_mfa_devices()
    error = raised.value.response["Error"]
    assert error["Code"] == "NotImplemented"
    assert "ListMFADevices" in error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 0
