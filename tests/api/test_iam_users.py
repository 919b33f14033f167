"""IAM users and access keys: names, paths, conflicts, quotas, pagination, key status."""

from __future__ import annotations

from typing import Any

import pytest

from stiva.metadata import models as m
from stiva.services import identity
from stiva.services.context import RegistryContext
from tests.api.test_iam_helpers import (
    ADMINISTRATOR,
    Keys,
    allow,
    assume,
    iam,
    new_user_keys,
    policy,
    sts,
)
from tests.support.registry import InProcessRegistry


def ctx_of(registry: InProcessRegistry) -> RegistryContext:
    ctx: RegistryContext = registry.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def root_keys(registry: InProcessRegistry, account_id: str = "111122223333") -> Keys:
    ctx = ctx_of(registry)
    with ctx.db.write() as session:
        made = identity.create_account(
            session, ctx.secrets, account_id=account_id, admin_user=False
        )
    return Keys(made.access_key_id, made.secret_access_key)


def test_create_get_list_delete(registry: InProcessRegistry) -> None:
    client = iam(registry)
    user = client.call("CreateUser", UserName="alice", Path="/dev/team/")["User"]
    assert user["Arn"] == f"arn:aws:iam::{registry.account_id}:user/dev/team/alice"
    assert user["UserId"].startswith("AIDA")
    assert len(user["UserId"]) == 21
    assert client.call("GetUser", UserName="ALICE")["User"]["UserName"] == "alice"
    names = [u["UserName"] for u in client.call("ListUsers")["Users"]]
    assert names == ["admin", "alice"]
    prefixed = client.call("ListUsers", PathPrefix="/dev/")["Users"]
    assert [u["UserName"] for u in prefixed] == ["alice"]
    client.call("DeleteUser", UserName="alice")
    failure = client.fail("GetUser", UserName="alice")
    assert (failure.status, failure.code) == (404, "NoSuchEntity")
    assert failure.message == "The user with name alice cannot be found."


def test_names_are_unique_regardless_of_case(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="Bob")
    failure = client.fail("CreateUser", UserName="bob")
    assert (failure.status, failure.code) == (409, "EntityAlreadyExists")
    assert failure.message == "User with name bob already exists."


def test_get_user_without_name_is_the_caller(registry: InProcessRegistry) -> None:
    client = iam(registry)
    me = client.call("GetUser")["User"]
    assert me["UserName"] == "admin"
    root = client.as_(root_keys(registry)).call("GetUser")["User"]
    assert root == {
        "UserId": "111122223333",
        "Arn": "arn:aws:iam::111122223333:root",
        "CreateDate": root["CreateDate"],
    }


def test_root_is_not_a_listed_user(registry: InProcessRegistry) -> None:
    keys = root_keys(registry)
    assert iam(registry, keys).call("ListUsers")["Users"] == []
    assert sts(registry, keys).call("GetCallerIdentity")["Arn"] == (
        "arn:aws:iam::111122223333:root"
    )


def test_list_users_paginates(registry: InProcessRegistry) -> None:
    client = iam(registry)
    for index in range(5):
        client.call("CreateUser", UserName=f"user{index}")
    seen: list[str] = []
    params: dict[str, Any] = {"MaxItems": 2}
    pages = 0
    while True:
        page = client.call("ListUsers", **params)
        pages += 1
        seen += [u["UserName"] for u in page["Users"]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        params["Marker"] = page["Marker"]
    assert pages == 3
    assert seen == ["admin", "user0", "user1", "user2", "user3", "user4"]
    bad = client.fail("ListUsers", Marker="forged")
    assert (bad.status, bad.code) == (400, "InvalidInput")


def test_delete_user_refuses_while_it_has_dependents(registry: InProcessRegistry) -> None:
    client = iam(registry)
    keys = new_user_keys(client, "dora")
    conflict = client.fail("DeleteUser", UserName="dora")
    assert (conflict.status, conflict.code) == (409, "DeleteConflict")
    assert conflict.message == "Cannot delete entity, must delete access keys first."
    client.call("DeleteAccessKey", UserName="dora", AccessKeyId=keys.access_key_id)
    client.call(
        "PutUserPolicy", UserName="dora", PolicyName="p", PolicyDocument=policy(allow("ecr:*"))
    )
    assert client.fail("DeleteUser", UserName="dora").message == (
        "Cannot delete entity, must delete policies first."
    )
    client.call("DeleteUserPolicy", UserName="dora", PolicyName="p")
    arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    client.call("AttachUserPolicy", UserName="dora", PolicyArn=arn)
    assert client.fail("DeleteUser", UserName="dora").message == (
        "Cannot delete entity, must detach all policies first."
    )
    client.call("DetachUserPolicy", UserName="dora", PolicyArn=arn)
    client.call("CreateGroup", GroupName="devs")
    client.call("AddUserToGroup", GroupName="devs", UserName="dora")
    assert client.fail("DeleteUser", UserName="dora").message == (
        "Cannot delete entity, must remove users from group first."
    )
    client.call("RemoveUserFromGroup", GroupName="devs", UserName="dora")
    client.call("DeleteUser", UserName="dora")


def test_access_keys_at_most_two_secret_once(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="erin")
    first = client.call("CreateAccessKey", UserName="erin")["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA")
    assert len(first["AccessKeyId"]) == 20
    assert first["Status"] == "Active"
    assert first["UserName"] == "erin"
    assert len(first["SecretAccessKey"]) == 40
    client.call("CreateAccessKey", UserName="erin")
    limit = client.fail("CreateAccessKey", UserName="erin")
    assert (limit.status, limit.code) == (409, "LimitExceeded")
    assert limit.message == "Cannot exceed quota for AccessKeysPerUser: 2"
    listed = client.call("ListAccessKeys", UserName="erin")["AccessKeyMetadata"]
    assert len(listed) == 2
    assert all("SecretAccessKey" not in key for key in listed)
    with ctx_of(registry).db.read() as session:
        stored = session.get(m.AccessKey, first["AccessKeyId"])
        assert stored is not None
        assert first["SecretAccessKey"] not in stored.secret_access_key


def test_access_keys_of_the_caller_by_default(registry: InProcessRegistry) -> None:
    client = iam(registry)
    own = client.call("ListAccessKeys")["AccessKeyMetadata"]
    assert [key["AccessKeyId"] for key in own] == [registry.access_key_id]
    root = root_keys(registry)
    root_client = client.as_(root)
    created = root_client.call("CreateAccessKey")["AccessKey"]
    assert "UserName" not in created
    listed = root_client.call("ListAccessKeys")["AccessKeyMetadata"]
    assert {key["AccessKeyId"] for key in listed} == {root.access_key_id, created["AccessKeyId"]}


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_inactive_key_is_an_invalid_client_token(registry: InProcessRegistry, service: str) -> None:
    client = iam(registry)
    keys = new_user_keys(client, "frank", attach=ADMINISTRATOR)
    user_client = (iam if service == "iam" else sts)(registry, keys)
    operation = "GetUser" if service == "iam" else "GetCallerIdentity"
    user_client.call(operation)
    client.call(
        "UpdateAccessKey", UserName="frank", AccessKeyId=keys.access_key_id, Status="Inactive"
    )
    failure = user_client.fail(operation)
    assert (failure.status, failure.code) == (403, "InvalidClientTokenId")
    assert failure.message == "The security token included in the request is invalid."
    client.call(
        "UpdateAccessKey", UserName="frank", AccessKeyId=keys.access_key_id, Status="Active"
    )
    user_client.call(operation)


def test_inactive_key_on_ecr(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("UpdateAccessKey", AccessKeyId=registry.access_key_id, Status="Inactive")
    response = registry.ecr("DescribeRepositories")
    assert response.status_code == 400
    assert response.json()["__type"] == "UnrecognizedClientException"


def test_key_operations_check_the_owner(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="gina")
    failure = client.fail("DeleteAccessKey", UserName="gina", AccessKeyId=registry.access_key_id)
    assert (failure.status, failure.code) == (404, "NoSuchEntity")
    assert failure.message == f"The Access Key with id {registry.access_key_id} cannot be found."
    status = client.fail("UpdateAccessKey", AccessKeyId=registry.access_key_id, Status="Paused")
    assert status.code == "ValidationError"
    assert "Member must satisfy enum value set: [Active, Inactive, Expired]" in status.message


def test_access_key_last_used(registry: InProcessRegistry) -> None:
    client = iam(registry)
    keys = new_user_keys(client, "hank")
    never = client.call("GetAccessKeyLastUsed", AccessKeyId=keys.access_key_id)
    assert never["UserName"] == "hank"
    assert never["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    sts(registry, keys).call("GetCallerIdentity")
    ctx_of(registry).flush()
    used = client.call("GetAccessKeyLastUsed", AccessKeyId=keys.access_key_id)
    assert used["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert used["AccessKeyLastUsed"]["Region"] == "us-east-1"
    assert "LastUsedDate" in used["AccessKeyLastUsed"]


def test_role_sessions_have_no_user(registry: InProcessRegistry) -> None:
    creds = assume(registry)
    failure = iam(registry, creds).fail("GetUser")
    assert (failure.status, failure.code) == (400, "ValidationError")
    assert failure.message == "Must specify userName when calling with non-User credentials"


def test_a_lost_race_for_a_name_is_entity_already_exists(registry: InProcessRegistry) -> None:
    from stiva.services.iam.entities import add_unique
    from stiva.services.iam.errors import EntityAlreadyExists

    ctx = ctx_of(registry)
    with ctx.db.write() as session:
        twin = m.IamUser(
            account_id=registry.account_id, name="admin", user_id="AIDATWINTWINTWINTWIN0"
        )
        with pytest.raises(EntityAlreadyExists):
            add_unique(session, twin, EntityAlreadyExists("taken"))
        assert identity.default_account(session) == registry.account_id  # still usable
