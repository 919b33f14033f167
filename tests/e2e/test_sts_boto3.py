"""boto3's STS client against a live server: caller identity, AssumeRole, and the temporary
credentials used for ECR (GetAuthorizationToken, then the registry on /v2/)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_iam_boto3 import client
from tests.support.live import LiveServer


def test_caller_identity_of_the_administrator(server: LiveServer) -> None:
    me = client(server, "sts").get_caller_identity()
    assert me["Account"] == server.account_id
    assert me["Arn"] == f"arn:aws:iam::{server.account_id}:user/admin"


def test_assume_role_and_use_the_session_for_ecr(server: LiveServer) -> None:
    iam = client(server)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:user/admin"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="e2e-pusher", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(
        RoleName="e2e-pusher",
        PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
    )
    answer = client(server, "sts").assume_role(
        RoleArn=role["Role"]["Arn"], RoleSessionName="e2e", DurationSeconds=900
    )
    creds = answer["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert answer["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{server.account_id}:assumed-role/e2e-pusher/e2e"
    )
    session = {
        "key": creds["AccessKeyId"],
        "secret": creds["SecretAccessKey"],
        "token": creds["SessionToken"],
    }
    who = client(server, "sts", **session).get_caller_identity()
    assert who["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert who["UserId"] == answer["AssumedRoleUser"]["AssumedRoleId"]

    ecr = client(server, "ecr", **session)
    ecr.create_repository(repositoryName="e2e/assumed")
    data = ecr.get_authorization_token()["authorizationData"][0]
    assert data["expiresAt"] <= creds["Expiration"]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    pinged = httpx.get(f"{server.url}/v2/", auth=(user, password))
    assert pinged.status_code == 200
    tags = httpx.get(f"{server.url}/v2/e2e/assumed/tags/list", auth=(user, password))
    assert tags.status_code in (200, 404)  # authorized: an empty repository has no tags yet


def test_denied_and_invalid(server: LiveServer) -> None:
    sts = client(server, "sts")
    with pytest.raises(ClientError) as denied:
        sts.assume_role(
            RoleArn=f"arn:aws:iam::{server.account_id}:role/no-such-role", RoleSessionName="x1"
        )
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:iam::{server.account_id}:user/admin is not authorized to perform: "
        f"sts:AssumeRole on resource: arn:aws:iam::{server.account_id}:role/no-such-role"
    )
    forged = client(server, "sts", key="ASIAFORGEDFORGED0000", secret="x", token="y")
    with pytest.raises(ClientError) as invalid:
        forged.get_caller_identity()
    assert invalid.value.response["Error"]["Code"] == "InvalidClientTokenId"
