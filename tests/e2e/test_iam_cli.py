"""The aws CLI's `iam` and `sts` commands against a live server (endpoint from the env)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.live import LiveServer


def aws(
    server: LiveServer, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["aws", *args],
        env={**server.aws_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"aws {' '.join(args)} failed:\n{result.stderr}"
    return result


def test_cli_iam_and_sts_session(server: LiveServer, tmp_path: Path) -> None:
    me = json.loads(aws(server, "sts", "get-caller-identity").stdout)
    assert me["Arn"] == f"arn:aws:iam::{server.account_id}:user/admin"

    created = json.loads(aws(server, "iam", "create-user", "--user-name", "cli-carol").stdout)
    assert created["User"]["UserName"] == "cli-carol"
    listed = json.loads(aws(server, "iam", "list-users").stdout)
    assert "cli-carol" in [user["UserName"] for user in listed["Users"]]

    document = tmp_path / "policy.json"
    document.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        )
    )
    aws(server, "iam", "put-user-policy", "--user-name", "cli-carol", "--policy-name",
        "assume", "--policy-document", f"file://{document}")  # fmt: skip
    got = json.loads(
        aws(
            server, "iam", "get-user-policy", "--user-name", "cli-carol", "--policy-name", "assume"
        ).stdout
    )
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"

    key = json.loads(aws(server, "iam", "create-access-key", "--user-name", "cli-carol").stdout)
    carol = {
        "AWS_ACCESS_KEY_ID": key["AccessKey"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["AccessKey"]["SecretAccessKey"],
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    trust = tmp_path / "trust.json"
    trust.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": server.account_id},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
    )
    aws(server, "iam", "create-role", "--role-name", "cli-role",
        "--assume-role-policy-document", f"file://{trust}")  # fmt: skip
    aws(server, "iam", "attach-role-policy", "--role-name", "cli-role", "--policy-arn",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")  # fmt: skip
    assumed = json.loads(
        aws(
            server,
            "sts",
            "assume-role",
            "--role-arn",
            f"arn:aws:iam::{server.account_id}:role/cli-role",
            "--role-session-name",
            "cli",
            env=carol,
        ).stdout
    )
    creds = assumed["Credentials"]
    session = {
        **carol,
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    who = json.loads(aws(server, "sts", "get-caller-identity", env=session).stdout)
    assert who["Arn"] == f"arn:aws:sts::{server.account_id}:assumed-role/cli-role/cli"
    password = aws(server, "ecr", "get-login-password", env=session).stdout.strip()
    assert password


def test_cli_errors(server: LiveServer) -> None:
    missing = aws(server, "iam", "get-user", "--user-name", "nobody-here", check=False)
    assert missing.returncode != 0
    assert (
        "An error occurred (NoSuchEntity) when calling the GetUser operation: "
        "The user with name nobody-here cannot be found." in missing.stderr
    )
    unsupported = aws(server, "iam", "list-saml-providers", check=False)
    assert unsupported.returncode != 0
    assert "(NotImplemented)" in unsupported.stderr
    assert "ListSAMLProviders" in unsupported.stderr
