"""boto3 (and the aws CLI) against a live Stiva: repository and registry policies, DescribeRegistry,
account settings, with every error these operations declare that a client can provoke."""

from __future__ import annotations

import contextlib
import json
import subprocess
from typing import Any

import botocore.exceptions
import pytest

from tests.support.live import LiveServer

INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid registry policy provided'"
)


def pull_policy(**extra: Any) -> str:
    statement = {
        "Sid": "pull",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        **extra,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def replication_policy(account_id: str, actions: list[str]) -> str:
    statement = {
        "Sid": "ReplicationAccessCrossAccount",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": actions,
        "Resource": f"arn:aws:ecr:us-east-1:{account_id}:repository/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def message(failure: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(failure.value.response["Error"]["Message"])


def test_repository_policy_operations_and_errors(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="policies/app")
    name = {"repositoryName": "policies/app"}

    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException) as none:
        ecr.get_repository_policy(**name)
    assert message(none) == (
        "Repository policy does not exist for the repository with name 'policies/app' "
        f"in the registry with id '{server.account_id}'"
    )
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.delete_repository_policy(**name)

    text = pull_policy()
    set_result = ecr.set_repository_policy(**name, policyText=text)
    assert set_result["registryId"] == server.account_id
    assert set_result["repositoryName"] == "policies/app"
    assert set_result["policyText"].startswith('{\n  "Version" : "2012-10-17",\n')
    assert json.loads(set_result["policyText"]) == json.loads(text)
    got = ecr.get_repository_policy(**name, registryId=server.account_id)
    assert got["policyText"] == set_result["policyText"]
    deleted = ecr.delete_repository_policy(**name)
    assert deleted["policyText"] == set_result["policyText"]
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(**name)

    for operation in ("get_repository_policy", "delete_repository_policy"):
        with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
            getattr(ecr, operation)(repositoryName="policies/missing")
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as missing:
        ecr.set_repository_policy(repositoryName="policies/missing", policyText=text)
    assert "'policies/missing' does not exist" in message(missing)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        pull_policy(Resource="*"),
        pull_policy(Action="ecr:GetAuthorizationToken"),
        pull_policy(Action="sts:AssumeRole"),
        pull_policy(Effect="Maybe"),
    ],
)
def test_invalid_repository_policy(server: LiveServer, text: str) -> None:
    ecr: Any = server.ecr()
    # one live server serves the whole module: an earlier case may have made it
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName="policies/invalid")
    with pytest.raises(ecr.exceptions.InvalidParameterException) as failure:
        ecr.set_repository_policy(repositoryName="policies/invalid", policyText=text)
    assert message(failure) == INVALID_REPOSITORY_POLICY
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(repositoryName="policies/invalid")


def test_lock_out_check_and_force(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="policies/locked")
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "ecr:SetRepositoryPolicy"},
        ],
    }
    text = json.dumps(deny)
    with pytest.raises(ecr.exceptions.InvalidParameterException) as refused:
        ecr.set_repository_policy(repositoryName="policies/locked", policyText=text)
    assert "force" in message(refused)
    forced = ecr.set_repository_policy(
        repositoryName="policies/locked", policyText=text, force=True
    )
    assert json.loads(forced["policyText"]) == deny


def test_out_of_range_inputs_are_refused_by_the_server(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName="policies/range")
    too_long = pull_policy(Sid="s" * 10_240)
    with pytest.raises(ecr.exceptions.InvalidParameterException) as repo_text:
        ecr.set_repository_policy(repositoryName="policies/range", policyText=too_long)
    assert message(repo_text) == (
        "Invalid parameter at 'policyText' failed to satisfy constraint: "
        "'Member must have length less than or equal to 10240'"
    )
    with pytest.raises(ecr.exceptions.InvalidParameterException) as registry_id:
        ecr.get_repository_policy(repositoryName="policies/range", registryId="12345")
    assert "registryId" in message(registry_id)
    with pytest.raises(ecr.exceptions.ValidationException) as registry_text:
        ecr.put_registry_policy(policyText=too_long)
    assert "Member must have length less than or equal to 10240" in message(registry_text)
    with pytest.raises(ecr.exceptions.ValidationException) as long_name:
        ecr.get_account_setting(name="N" * 65)
    assert "Member must have length less than or equal to 64" in message(long_name)
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.put_account_setting(name="N" * 65, value="ENABLED")
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ecr.get_account_setting(name="")  # min length 1: botocore refuses before sending


def test_registry_policy_operations_and_scopes(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    with pytest.raises(ecr.exceptions.RegistryPolicyNotFoundException) as none:
        ecr.get_registry_policy()
    assert message(none) == (
        f"Registry policy does not exist in the registry with id '{server.account_id}'"
    )
    with pytest.raises(ecr.exceptions.RegistryPolicyNotFoundException):
        ecr.delete_registry_policy()

    wide = replication_policy(server.account_id, ["ecr:BatchGetImage", "ecr:CreateRepository"])
    put = ecr.put_registry_policy(policyText=wide)  # V2, the default scope: any ECR action
    assert put["registryId"] == server.account_id
    assert json.loads(put["policyText"]) == json.loads(wide)
    assert ecr.get_registry_policy()["policyText"] == put["policyText"]

    ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")
    try:
        with pytest.raises(ecr.exceptions.InvalidParameterException) as refused:
            ecr.put_registry_policy(policyText=wide)
        assert message(refused) == INVALID_REGISTRY_POLICY
        narrow = replication_policy(server.account_id, ["ecr:CreateRepository"])
        assert json.loads(ecr.put_registry_policy(policyText=narrow)["policyText"]) == (
            json.loads(narrow)
        )
    finally:
        ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V2")

    deleted = ecr.delete_registry_policy()
    assert deleted["registryId"] == server.account_id
    with pytest.raises(ecr.exceptions.RegistryPolicyNotFoundException):
        ecr.get_registry_policy()


def test_describe_registry(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    described = ecr.describe_registry()
    assert described["registryId"] == server.account_id
    assert described["replicationConfiguration"] == {"rules": []}


def test_account_settings(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    setting = ecr.get_account_setting(name="BLOB_MOUNTING")
    assert (setting["name"], setting["value"]) == ("BLOB_MOUNTING", "DISABLED")
    assert ecr.get_account_setting(name="BASIC_SCAN_TYPE_VERSION")["value"] == "AWS_NATIVE"
    assert ecr.get_account_setting(name="REGISTRY_POLICY_SCOPE")["value"] == "V2"
    put = ecr.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")
    assert (put["name"], put["value"]) == ("BLOB_MOUNTING", "ENABLED")
    assert ecr.get_account_setting(name="BLOB_MOUNTING")["value"] == "ENABLED"
    ecr.put_account_setting(name="BLOB_MOUNTING", value="DISABLED")

    with pytest.raises(ecr.exceptions.InvalidParameterException) as bad_name:
        ecr.get_account_setting(name="NO_SUCH_SETTING")
    assert message(bad_name).startswith("Invalid parameter at 'name' failed to satisfy constraint")
    with pytest.raises(ecr.exceptions.InvalidParameterException) as bad_value:
        ecr.put_account_setting(name="BASIC_SCAN_TYPE_VERSION", value="CLAIR")
    assert message(bad_value) == (
        "Invalid parameter at 'value' failed to satisfy constraint: "
        "'Member must satisfy enum value set: [AWS_NATIVE]'"
    )


def test_aws_cli_reads_settings_and_policies(server: LiveServer) -> None:
    def aws(*args: str) -> dict[str, Any]:
        result = subprocess.run(
            ["aws", "ecr", *args],
            env=server.aws_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    assert aws("get-account-setting", "--name", "REGISTRY_POLICY_SCOPE")["value"] == "V2"
    assert aws("describe-registry")["registryId"] == server.account_id
    server.ecr().create_repository(repositoryName="policies/cli")
    aws(
        "set-repository-policy", "--repository-name", "policies/cli", "--policy-text", pull_policy()
    )
    got = aws("get-repository-policy", "--repository-name", "policies/cli")
    assert json.loads(got["policyText"]) == json.loads(pull_policy())
