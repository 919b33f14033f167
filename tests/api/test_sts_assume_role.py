"""STS: GetCallerIdentity, AssumeRole (trust policies, identity policies, durations) and the
temporary credentials on every surface, until they expire."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

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
    trust,
)
from tests.support.registry import InProcessRegistry


def ctx_of(registry: InProcessRegistry) -> RegistryContext:
    ctx: RegistryContext = registry.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def role_arn(registry: InProcessRegistry, name: str, account: str | None = None) -> str:
    return f"arn:aws:iam::{account or registry.account_id}:role/{name}"


def ecr_with(
    registry: InProcessRegistry, keys: Keys, operation: str
) -> tuple[int, dict[str, object]]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AmazonEC2ContainerRegistry_V20150921.{operation}",
        },
    )
    creds = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    SigV4Auth(creds, "ecr", "us-east-1").add_auth(request)
    response = registry.client.post("/", content=b"{}", headers=dict(request.headers.items()))
    return response.status_code, response.json()


def test_get_caller_identity(registry: InProcessRegistry) -> None:
    me = sts(registry).call("GetCallerIdentity")
    assert me["Account"] == registry.account_id
    assert me["Arn"] == f"arn:aws:iam::{registry.account_id}:user/admin"
    assert me["UserId"].startswith("AIDA")
    session = sts(registry, assume(registry, session="who")).call("GetCallerIdentity")
    assert session["Arn"] == f"arn:aws:sts::{registry.account_id}:assumed-role/deployer/who"
    assert session["UserId"].startswith("AROA")
    assert session["UserId"].endswith(":who")


def test_assume_role_answer(registry: InProcessRegistry) -> None:
    admin = f"arn:aws:iam::{registry.account_id}:user/admin"
    client = iam(registry)
    role = client.call("CreateRole", RoleName="pusher", AssumeRolePolicyDocument=trust(admin))[
        "Role"
    ]
    before = datetime.now(UTC)
    answer = sts(registry).call(
        "AssumeRole", RoleArn=role["Arn"], RoleSessionName="ci-42", DurationSeconds=900
    )
    creds = answer["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert len(creds["SessionToken"]) > 100
    expires = creds["Expiration"]
    assert timedelta(seconds=890) < expires - before < timedelta(seconds=910)
    assert answer["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:ci-42",
        "Arn": f"arn:aws:sts::{registry.account_id}:assumed-role/pusher/ci-42",
    }
    with ctx_of(registry).db.read() as session:
        stored = session.get(m.RoleSession, creds["AccessKeyId"])
        assert stored is not None
        assert creds["SecretAccessKey"] not in stored.secret_access_key
        assert (
            stored.session_token_sha256
            == hashlib.sha256(creds["SessionToken"].encode()).hexdigest()
        )
        assert stored.source_identity == admin


def test_temporary_credentials_on_every_surface(registry: InProcessRegistry) -> None:
    keys = assume(registry)
    assert iam(registry, keys).call("ListUsers")["Users"]
    status, body = ecr_with(registry, keys, "GetAuthorizationToken")
    assert status == 200, body
    data = body["authorizationData"][0]  # type: ignore[index]
    token = data["authorizationToken"]
    response = registry.client.get("/v2/", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_session_token_must_match(registry: InProcessRegistry, token: str | None) -> None:
    keys = assume(registry)
    bad = Keys(keys.access_key_id, keys.secret_access_key, token)
    failure = sts(registry, bad).fail("GetCallerIdentity")
    assert (failure.status, failure.code) == (403, "InvalidClientTokenId")
    _status, body = ecr_with(registry, bad, "DescribeRepositories")
    assert body["__type"] == "UnrecognizedClientException"


def test_expired_credentials(registry: InProcessRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = assume(registry, duration=900)
    later = datetime.now(UTC) + timedelta(seconds=905)
    monkeypatch.setattr(RegistryContext, "now", staticmethod(lambda: later))
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: later)
    for client, operation in (
        (sts(registry, keys), "GetCallerIdentity"),
        (iam(registry, keys), "ListUsers"),
    ):
        failure = client.fail(operation)
        assert (failure.status, failure.code) == (403, "ExpiredToken")
        assert failure.message == "The security token included in the request is expired"
    status, body = ecr_with(registry, keys, "DescribeRepositories")
    assert status == 403
    assert body == {
        "__type": "ExpiredTokenException",
        "message": "The security token included in the request is expired",
    }


def test_registry_token_does_not_outlive_the_session(registry: InProcessRegistry) -> None:
    keys = assume(registry, duration=900)
    _status, body = ecr_with(registry, keys, "GetAuthorizationToken")
    expires = body["authorizationData"][0]["expiresAt"]  # type: ignore[index]
    assert expires <= datetime.now(UTC).timestamp() + 901


def test_untrusted_callers_are_denied(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call(
        "CreateRole",
        RoleName="locked",
        AssumeRolePolicyDocument=trust("arn:aws:iam::999988887777:root"),
    )
    keys = new_user_keys(client, "quinn")
    caller = f"arn:aws:iam::{registry.account_id}:user/quinn"
    for name in ("locked", "missing"):
        failure = sts(registry, keys).fail(
            "AssumeRole", RoleArn=role_arn(registry, name), RoleSessionName="s1"
        )
        assert (failure.status, failure.code) == (403, "AccessDenied")
        assert failure.message == (
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn(registry, name)}"
        )
    invalid = sts(registry).fail(
        "AssumeRole", RoleArn="arn:aws:iam::123456789012:user/x", RoleSessionName="s1"
    )
    assert (invalid.status, invalid.code, invalid.message) == (
        400,
        "ValidationError",
        "Request ARN is invalid",
    )


def test_explicit_deny_in_the_trust_policy(registry: InProcessRegistry) -> None:
    admin = f"arn:aws:iam::{registry.account_id}:user/admin"
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": admin}, "Action": "sts:AssumeRole"},
    )
    iam(registry).call("CreateRole", RoleName="not-admin", AssumeRolePolicyDocument=document)
    failure = sts(registry).fail(
        "AssumeRole", RoleArn=role_arn(registry, "not-admin"), RoleSessionName="s1"
    )
    assert failure.code == "AccessDenied"


def test_account_trust_delegates_to_identity_policies(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateRole", RoleName="team", AssumeRolePolicyDocument=trust(registry.account_id))
    keys = new_user_keys(client, "rae")
    arn = role_arn(registry, "team")
    denied = sts(registry, keys).fail("AssumeRole", RoleArn=arn, RoleSessionName="s1")
    assert denied.code == "AccessDenied"
    client.call(
        "PutUserPolicy",
        UserName="rae",
        PolicyName="assume",
        PolicyDocument=policy(allow("sts:AssumeRole", arn)),
    )
    allowed = sts(registry, keys).call("AssumeRole", RoleArn=arn, RoleSessionName="s1")
    assert allowed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/team/s1")


def test_cross_account_needs_both_sides(registry: InProcessRegistry) -> None:
    ctx = ctx_of(registry)
    with ctx.db.write() as session:
        other = identity.create_account(
            session, ctx.secrets, account_id="444455556666", admin_user=False
        )
    other_keys = Keys(other.access_key_id, other.secret_access_key)
    arn = role_arn(registry, "shared", "444455556666")
    iam(registry, other_keys).call(
        "CreateRole", RoleName="shared", AssumeRolePolicyDocument=trust(registry.account_id)
    )
    client = iam(registry)
    keys = new_user_keys(client, "sam")
    assert (
        sts(registry, keys).fail("AssumeRole", RoleArn=arn, RoleSessionName="x1").code
        == "AccessDenied"
    )
    client.call(
        "PutUserPolicy",
        UserName="sam",
        PolicyName="assume",
        PolicyDocument=policy(allow("sts:AssumeRole", arn)),
    )
    answer = sts(registry, keys).call("AssumeRole", RoleArn=arn, RoleSessionName="x1")
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::444455556666:assumed-role/shared/x1"
    creds = answer["Credentials"]
    session_keys = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert sts(registry, session_keys).call("GetCallerIdentity")["Account"] == "444455556666"


def test_durations(registry: InProcessRegistry) -> None:
    keys = assume(registry)  # creates the role: MaxSessionDuration 3600
    arn = role_arn(registry, "deployer")
    failure = sts(registry).fail(
        "AssumeRole", RoleArn=arn, RoleSessionName="s1", DurationSeconds=7200
    )
    assert (failure.status, failure.code) == (400, "ValidationError")
    assert (
        failure.message
        == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    short = sts(registry).fail("AssumeRole", RoleArn=arn, RoleSessionName="s1", DurationSeconds=60)
    assert "Member must have value greater than or equal to 900" in short.message
    iam(registry).call("UpdateRole", RoleName="deployer", MaxSessionDuration=43200)
    iam(registry).call("UpdateAssumeRolePolicy", RoleName="deployer", PolicyDocument=trust("*"))
    chained = sts(registry, keys).fail(
        "AssumeRole", RoleArn=arn, RoleSessionName="s2", DurationSeconds=7200
    )
    assert chained.message == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining."
    )
    sts(registry, keys).call("AssumeRole", RoleArn=arn, RoleSessionName="s2")


def test_sessions_end_with_their_role(registry: InProcessRegistry) -> None:
    keys = assume(registry, role="temporary")
    iam(registry).call("DetachRolePolicy", RoleName="temporary", PolicyArn=ADMINISTRATOR)
    iam(registry).call("DeleteRole", RoleName="temporary")
    failure = sts(registry, keys).fail("GetCallerIdentity")
    assert failure.code == "InvalidClientTokenId"


def test_session_policies_are_not_supported(registry: InProcessRegistry) -> None:
    assume(registry)
    failure = sts(registry).fail(
        "AssumeRole",
        RoleArn=role_arn(registry, "deployer"),
        RoleSessionName="s1",
        Policy=policy(allow("ecr:*")),
    )
    assert (failure.status, failure.code) == (501, "NotImplemented")
    assert "Policy" in failure.message
