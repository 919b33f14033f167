"""Repository policies, the registry policy, DescribeRegistry and account settings, in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stiva.services import identity, settings
from tests.support.registry import InProcessRegistry

ACCOUNT = "123456789012"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/admin"
INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid registry policy provided'"
)

# The aws CLI's documented set-repository-policy example: input, and ECR's answer.
CLI_EXAMPLE_INPUT = """{
    "Version" : "2008-10-17",
    "Statement" : [
        {
            "Sid" : "allow public pull",
            "Effect" : "Allow",
            "Principal" : "*",
            "Action" : [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"
            ]
        }
    ]
}"""
CLI_EXAMPLE_OUTPUT = (
    '{\n  "Version" : "2008-10-17",\n  "Statement" : [ {\n    "Sid" : "allow public pull",\n'
    '    "Effect" : "Allow",\n    "Principal" : "*",\n    "Action" : [ '
    '"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ]\n'
    "  } ]\n}"
)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _clean(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement without the elements an override set to None."""
    return {k: v for k, v in statement.items() if v is not None}


def allow(**extra: Any) -> dict[str, Any]:
    return _clean({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage", **extra})


def deny_set(**extra: Any) -> dict[str, Any]:
    base = {"Effect": "Deny", "Principal": "*", "Action": "ecr:SetRepositoryPolicy"}
    return _clean({**base, **extra})


def registry_statement(actions: list[str] | str, **extra: Any) -> dict[str, Any]:
    base = {
        "Sid": "Replication",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
        "Action": actions,
        "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*",
    }
    return _clean({**base, **extra})


def error(response: Any) -> tuple[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    return body["__type"], body["message"]


# --- repository policies ---------------------------------------------------------------------


def test_repository_policy_round_trip_in_ecrs_stored_form(registry: InProcessRegistry) -> None:
    registry.create_repository("team/app")
    expected = {
        "registryId": ACCOUNT,
        "repositoryName": "team/app",
        "policyText": CLI_EXAMPLE_OUTPUT,
    }
    params = {"repositoryName": "team/app"}
    assert registry.ecr_ok("SetRepositoryPolicy", **params, policyText=CLI_EXAMPLE_INPUT) == (
        expected
    )
    assert registry.ecr_ok("GetRepositoryPolicy", **params, registryId=ACCOUNT) == expected
    assert registry.ecr_ok("DeleteRepositoryPolicy", **params) == expected
    for operation in ("GetRepositoryPolicy", "DeleteRepositoryPolicy"):
        assert error(registry.ecr(operation, **params)) == (
            "RepositoryPolicyNotFoundException",
            "Repository policy does not exist for the repository with name 'team/app' "
            f"in the registry with id '{ACCOUNT}'",
        )


def test_set_replaces_the_policy_and_the_repository_takes_it_along(
    registry: InProcessRegistry,
) -> None:
    registry.create_repository("app")
    registry.ecr_ok("SetRepositoryPolicy", repositoryName="app", policyText=policy(allow()))
    second = policy(allow(Sid="two", Action=["ecr:ListImages"]))
    registry.ecr_ok("SetRepositoryPolicy", repositoryName="app", policyText=second)
    text = registry.ecr_ok("GetRepositoryPolicy", repositoryName="app")["policyText"]
    assert json.loads(text) == json.loads(second)
    registry.ecr_ok("DeleteRepository", repositoryName="app")
    registry.create_repository("app")
    missing = registry.ecr("GetRepositoryPolicy", repositoryName="app")
    assert error(missing)[0] == "RepositoryPolicyNotFoundException"


@pytest.mark.parametrize(
    "operation", ["SetRepositoryPolicy", "GetRepositoryPolicy", "DeleteRepositoryPolicy"]
)
def test_repository_policy_of_a_missing_repository(
    registry: InProcessRegistry, operation: str
) -> None:
    params: dict[str, Any] = {"repositoryName": "nope"}
    if operation == "SetRepositoryPolicy":
        params["policyText"] = policy(allow())
    assert error(registry.ecr(operation, **params)) == (
        "RepositoryNotFoundException",
        f"The repository with name 'nope' does not exist in the registry with id '{ACCOUNT}'",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        policy(allow(Resource="*")),  # ECR refuses Resource in repository policies
        policy(allow(NotResource=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app")),
        policy(allow(Action="s3:GetObject")),
        policy(allow(Action=["ecr:BatchGetImage", "ecr:GetAuthorizationToken"])),
        policy(allow(Action="ecr:NoSuchAction")),
        policy(allow(NotAction="ecr:Nothing*", Action=None)),
        policy({"Effect": "Allow", "Action": "ecr:BatchGetImage"}),  # no principal
        policy(allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:*"})),
        policy(allow(Effect="Permit")),
        policy(allow(Condition={"StringMatches": {"aws:SourceAccount": ACCOUNT}})),
    ],
)
def test_invalid_repository_policies(registry: InProcessRegistry, text: str) -> None:
    registry.create_repository("app")
    response = registry.ecr("SetRepositoryPolicy", repositoryName="app", policyText=text)
    assert error(response) == ("InvalidParameterException", INVALID_REPOSITORY_POLICY)
    assert error(registry.ecr("GetRepositoryPolicy", repositoryName="app"))[0] == (
        "RepositoryPolicyNotFoundException"
    )


@pytest.mark.parametrize(
    "statement",
    [
        allow(Action="*"),
        allow(Action="ecr:*"),
        allow(Action=["ecr:batchgetimage", "ecr:Get*", "ecr:ReplicateImage"]),
        {"Effect": "Deny", "NotPrincipal": {"AWS": CALLER}, "NotAction": "ecr:Describe*"},
        allow(
            Principal={"Service": "codebuild.amazonaws.com"},
            Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        ),
        allow(Principal={"AWS": ["210987654321", f"arn:aws:iam::{ACCOUNT}:role/ci"]}),
    ],
)
def test_valid_repository_policies(registry: InProcessRegistry, statement: dict[str, Any]) -> None:
    registry.create_repository("app")
    registry.ecr_ok("SetRepositoryPolicy", repositoryName="app", policyText=policy(statement))


def test_policy_text_longer_than_the_model_allows(registry: InProcessRegistry) -> None:
    registry.create_repository("app")
    padded = policy(allow(Sid="x" * 10_240))
    response = registry.ecr("SetRepositoryPolicy", repositoryName="app", policyText=padded)
    assert error(response) == (
        "InvalidParameterException",
        "Invalid parameter at 'policyText' failed to satisfy constraint: "
        "'Member must have length less than or equal to 10240'",
    )


# --- the lock-out check and force --------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        deny_set(),
        deny_set(Principal={"AWS": CALLER}),
        deny_set(Principal={"AWS": ACCOUNT}),
        deny_set(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Action="ecr:*"),
        deny_set(Action="*"),
        deny_set(Action=None, NotAction="ecr:Get*"),
        deny_set(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/other"}),
    ],
)
def test_a_policy_that_locks_the_caller_out_needs_force(
    registry: InProcessRegistry, statement: dict[str, Any]
) -> None:
    registry.create_repository("app")
    text = policy(allow(), statement)
    refused = registry.ecr("SetRepositoryPolicy", repositoryName="app", policyText=text)
    kind, message = error(refused)
    assert kind == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'PolicyText' failed to satisfy constraint: ")
    assert "force" in message
    assert error(registry.ecr("GetRepositoryPolicy", repositoryName="app"))[0] == (
        "RepositoryPolicyNotFoundException"
    )
    forced = registry.ecr_ok(
        "SetRepositoryPolicy", repositoryName="app", policyText=text, force=True
    )
    assert json.loads(forced["policyText"]) == json.loads(text)


@pytest.mark.parametrize(
    "statement",
    [
        deny_set(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/someone-else"}),
        deny_set(Principal={"AWS": "arn:aws:iam::210987654321:root"}),
        deny_set(Action="ecr:DeleteRepositoryPolicy"),
        deny_set(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        {"Effect": "Deny", "NotPrincipal": {"AWS": CALLER}, "Action": "ecr:*"},
        {**deny_set(), "Effect": "Allow"},
    ],
)
def test_policies_that_do_not_lock_the_caller_out(
    registry: InProcessRegistry, statement: dict[str, Any]
) -> None:
    registry.create_repository("app")
    registry.ecr_ok("SetRepositoryPolicy", repositoryName="app", policyText=policy(statement))


# --- the registry policy -----------------------------------------------------------------------


def test_registry_policy_round_trip(registry: InProcessRegistry) -> None:
    text = policy(registry_statement(["ecr:CreateRepository", "ecr:ReplicateImage"]))
    put = registry.ecr_ok("PutRegistryPolicy", policyText=text)
    assert put["registryId"] == ACCOUNT
    assert put["policyText"].startswith('{\n  "Version" : "2012-10-17",\n  "Statement" : [ {')
    assert json.loads(put["policyText"]) == json.loads(text)
    assert registry.ecr_ok("GetRegistryPolicy") == put
    replaced = policy(registry_statement("ecr:*"))
    assert json.loads(registry.ecr_ok("PutRegistryPolicy", policyText=replaced)["policyText"]) == (
        json.loads(replaced)
    )
    assert json.loads(registry.ecr_ok("DeleteRegistryPolicy")["policyText"]) == (
        json.loads(replaced)
    )
    not_found = (
        "RegistryPolicyNotFoundException",
        f"Registry policy does not exist in the registry with id '{ACCOUNT}'",
    )
    assert error(registry.ecr("GetRegistryPolicy")) == not_found
    assert error(registry.ecr("DeleteRegistryPolicy")) == not_found


@pytest.mark.parametrize(
    "statement",
    [
        registry_statement(["ecr:BatchGetImage", "ecr:PutImage"]),
        registry_statement("ecr:*"),
        registry_statement("*", Resource="*"),
        registry_statement("ecr:GetAuthorizationToken"),
        registry_statement("ecr:Create*", Resource=None, NotResource="arn:aws:ecr:*"),
    ],
)
def test_scope_v2_accepts_every_ecr_action(
    registry: InProcessRegistry, statement: dict[str, Any]
) -> None:
    registry.ecr_ok("PutRegistryPolicy", policyText=policy(statement))


@pytest.mark.parametrize(
    "statement",
    [
        registry_statement("s3:GetObject"),
        registry_statement("ecr:NoSuchAction"),
        registry_statement("ecr:CreateRepository", Resource=None),  # no resource
        registry_statement("ecr:CreateRepository", Principal=None),  # no principal
        registry_statement("ecr:CreateRepository", Resource="repository/*"),
    ],
)
def test_invalid_registry_policies(registry: InProcessRegistry, statement: dict[str, Any]) -> None:
    response = registry.ecr("PutRegistryPolicy", policyText=policy(statement))
    assert error(response) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)
    assert error(registry.ecr("GetRegistryPolicy"))[0] == "RegistryPolicyNotFoundException"


def test_scope_v1_allows_only_replication_and_pull_through_actions(
    registry: InProcessRegistry,
) -> None:
    registry.ecr_ok("PutAccountSetting", name="REGISTRY_POLICY_SCOPE", value="V1")
    allowed = ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:batchimportupstreamimage"]
    registry.ecr_ok("PutRegistryPolicy", policyText=policy(registry_statement(allowed)))
    for actions in (["ecr:CreateRepository", "ecr:BatchGetImage"], "ecr:*", "*"):
        response = registry.ecr("PutRegistryPolicy", policyText=policy(registry_statement(actions)))
        assert error(response) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)
    not_action = registry_statement("ecr:CreateRepository")
    not_action["NotAction"] = not_action.pop("Action")
    response = registry.ecr("PutRegistryPolicy", policyText=policy(not_action))
    assert error(response) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)
    registry.ecr_ok("PutAccountSetting", name="REGISTRY_POLICY_SCOPE", value="V2")
    registry.ecr_ok("PutRegistryPolicy", policyText=policy(registry_statement("ecr:*")))


def test_registry_policy_text_longer_than_the_model_allows(registry: InProcessRegistry) -> None:
    response = registry.ecr("PutRegistryPolicy", policyText="x" * 10_241)
    kind, message = error(response)
    assert kind == "ValidationException"  # PutRegistryPolicy declares ValidationException
    assert message.startswith("1 validation error detected: Value 'xxx")
    assert message.endswith(
        "at 'policyText' failed to satisfy constraint: "
        "Member must have length less than or equal to 10240"
    )


# --- DescribeRegistry and account settings ----------------------------------------------------


def test_describe_registry(registry: InProcessRegistry) -> None:
    assert registry.ecr_ok("DescribeRegistry") == {
        "registryId": ACCOUNT,
        "replicationConfiguration": {"rules": []},
    }


@pytest.mark.parametrize(
    ("name", "default", "other"),
    [
        ("BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE", "AWS_NATIVE"),
        ("REGISTRY_POLICY_SCOPE", "V2", "V1"),
        ("BLOB_MOUNTING", "DISABLED", "ENABLED"),
    ],
)
def test_account_settings_defaults_and_updates(
    registry: InProcessRegistry, name: str, default: str, other: str
) -> None:
    assert registry.ecr_ok("GetAccountSetting", name=name) == {"name": name, "value": default}
    assert registry.ecr_ok("PutAccountSetting", name=name, value=other) == {
        "name": name,
        "value": other,
    }
    assert registry.ecr_ok("GetAccountSetting", name=name) == {"name": name, "value": other}
    registry.ecr_ok("PutAccountSetting", name=name, value=default)
    assert registry.ecr_ok("GetAccountSetting", name=name)["value"] == default


def test_account_setting_refusals(registry: InProcessRegistry) -> None:
    names = "[BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING]"
    bad_name = (
        "InvalidParameterException",
        "Invalid parameter at 'name' failed to satisfy constraint: "
        f"'Member must satisfy enum value set: {names}'",
    )
    assert error(registry.ecr("GetAccountSetting", name="TAG_MUTABILITY")) == bad_name
    assert error(registry.ecr("PutAccountSetting", name="blob_mounting", value="ENABLED")) == (
        bad_name
    )
    for name, value, allowed in (
        ("BLOB_MOUNTING", "enabled", "[ENABLED, DISABLED]"),
        ("REGISTRY_POLICY_SCOPE", "V3", "[V1, V2]"),
        ("BASIC_SCAN_TYPE_VERSION", "CLAIR", "[AWS_NATIVE]"),  # retired by ECR
    ):
        assert error(registry.ecr("PutAccountSetting", name=name, value=value)) == (
            "InvalidParameterException",
            "Invalid parameter at 'value' failed to satisfy constraint: "
            f"'Member must satisfy enum value set: {allowed}'",
        )
    too_long = registry.ecr("GetAccountSetting", name="N" * 65)
    assert error(too_long)[0] == "ValidationException"
    missing = registry.ecr("PutAccountSetting", name="BLOB_MOUNTING")
    assert error(missing) == (
        "ValidationException",
        "1 validation error detected: Value null at 'value' failed to satisfy constraint: "
        "Member must not be null",
    )


def test_blob_mounting_setting_is_what_the_mount_path_reads(registry: InProcessRegistry) -> None:
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        assert settings.blob_mounting_enabled(session, account_id=ACCOUNT) is False
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")
    with ctx.db.read() as session:
        assert settings.blob_mounting_enabled(session, account_id=ACCOUNT) is True


# --- accounts ------------------------------------------------------------------------------------


def test_policies_and_settings_belong_to_one_account(registry: InProcessRegistry) -> None:
    registry.create_repository("app")
    registry.ecr_ok("SetRepositoryPolicy", repositoryName="app", policyText=policy(allow()))
    registry.ecr_ok("PutRegistryPolicy", policyText=policy(registry_statement("ecr:*")))
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.write() as session:
        other = identity.create_account(session, ctx.secrets, account_id="999988887777")
    registry.access_key_id, registry.secret_access_key = (
        other.access_key_id,
        other.secret_access_key,
    )
    denied = registry.ecr("GetRepositoryPolicy", repositoryName="app", registryId=ACCOUNT)
    assert error(denied)[0] == "AccessDeniedException"
    assert "ecr:GetRepositoryPolicy on resource: arn:aws:ecr:us-east-1:" in denied.json()["message"]
    assert error(registry.ecr("GetRegistryPolicy"))[1].endswith("with id '999988887777'")
    assert registry.ecr_ok("GetAccountSetting", name="BLOB_MOUNTING")["value"] == "DISABLED"
    assert registry.ecr_ok("DescribeRegistry")["registryId"] == "999988887777"
