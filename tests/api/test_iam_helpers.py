"""Helpers for the IAM / STS API tests: requests serialised and responses parsed by botocore's
own query-protocol code (what boto3 does), sent to the in-process app. No tests here."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.handlers import json_decode_policies
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from tests.support.registry import REGION, InProcessRegistry

FORM = "application/x-www-form-urlencoded; charset=utf-8"


@functools.cache
def service_model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service)


@dataclass
class QueryFailure(Exception):
    status: int
    code: str
    message: str
    type: str


@dataclass
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class Query:
    """An IAM or STS client for the in-process registry, signing as `keys`."""

    def __init__(self, registry: InProcessRegistry, service: str, keys: Keys | None = None) -> None:
        self.registry = registry
        self.service = service
        self.keys = keys or Keys(registry.access_key_id, registry.secret_access_key)
        self.model = service_model(service)

    def as_(self, keys: Keys) -> Query:
        return Query(self.registry, self.service, keys)

    def raw(
        self,
        body: str | bytes,
        *,
        region: str = REGION,
        service: str | None = None,
        sign: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        data = body.encode() if isinstance(body, str) else body
        request = AWSRequest(
            method="POST",
            url="http://testserver/",
            data=data,
            headers={"Content-Type": FORM, **(headers or {})},
        )
        if sign:
            keys = self.keys
            creds = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
            SigV4Auth(creds, service or self.service, region).add_auth(request)
        return self.registry.client.post("/", content=data, headers=dict(request.headers.items()))

    def body(self, operation: str, params: dict[str, Any]) -> str:
        op = self.model.operation_model(operation)
        serialized = create_serializer("query", include_validation=False).serialize_to_request(
            params, op
        )
        return urlencode(serialized["body"])

    def send(self, operation: str, **params: Any) -> httpx.Response:
        return self.raw(self.body(operation, params))

    def parse(self, operation: str, response: httpx.Response) -> dict[str, Any]:
        op = self.model.operation_model(operation)
        parsed: dict[str, Any] = create_parser("query").parse(
            {
                "body": response.content,
                "headers": dict(response.headers),
                "status_code": response.status_code,
            },
            op.output_shape,
        )
        if response.status_code >= 300:
            error = parsed["Error"]
            raise QueryFailure(
                response.status_code, error["Code"], error["Message"], error.get("Type", "")
            )
        if self.service == "iam":
            json_decode_policies(parsed, op)
        parsed.pop("ResponseMetadata", None)
        return parsed

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.parse(operation, self.send(operation, **params))

    def fail(self, operation: str, **params: Any) -> QueryFailure:
        try:
            result = self.call(operation, **params)
        except QueryFailure as failure:
            return failure
        raise AssertionError(f"{operation} succeeded: {result}")


def iam(registry: InProcessRegistry, keys: Keys | None = None) -> Query:
    return Query(registry, "iam", keys)


def sts(registry: InProcessRegistry, keys: Keys | None = None) -> Query:
    return Query(registry, "sts", keys)


ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"


def new_user_keys(client: Query, name: str, *, attach: str | None = None, **create: Any) -> Keys:
    """A new user (with the managed policy `attach`, if given) and an access key of it."""
    client.call("CreateUser", UserName=name, **create)
    if attach is not None:
        client.call("AttachUserPolicy", UserName=name, PolicyArn=attach)
    key = client.call("CreateAccessKey", UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(*principals: str, action: str = "sts:AssumeRole") -> str:
    return policy({"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": action})


def assume(
    registry: InProcessRegistry,
    *,
    role: str = "deployer",
    session: str = "session-1",
    duration: int | None = None,
) -> Keys:
    """Create `role` (trusting the registry's admin user, with AdministratorAccess) if needed,
    assume it, and return the temporary credentials."""
    admin = f"arn:aws:iam::{registry.account_id}:user/admin"
    client = iam(registry)
    if client.send("GetRole", RoleName=role).status_code == 404:
        client.call("CreateRole", RoleName=role, AssumeRolePolicyDocument=trust(admin))
        client.call("AttachRolePolicy", RoleName=role, PolicyArn=ADMINISTRATOR)
    params: dict[str, Any] = {
        "RoleArn": f"arn:aws:iam::{registry.account_id}:role/{role}",
        "RoleSessionName": session,
    }
    if duration is not None:
        params["DurationSeconds"] = duration
    creds = sts(registry).call("AssumeRole", **params)["Credentials"]
    return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
