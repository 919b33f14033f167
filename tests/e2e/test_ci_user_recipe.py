"""docs/iam.md's recipe, run as written: a pull-only CI user made with the aws CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.live import LiveServer


def aws(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["aws", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_pull_only_ci_user(server: LiveServer, skopeo: Skopeo, tmp_path: Path) -> None:
    admin = server.aws_env()
    server.ecr().create_repository(repositoryName="demo")
    layout = Layout(tmp_path / "img")
    layout.tag(layout.add_image([4000], seed=77), "3.20")
    skopeo.login(server.host, server.password())
    skopeo.copy(f"oci:{layout.root}:3.20", f"docker://{server.host}/demo:3.20")

    assert aws(admin, "iam", "create-user", "--user-name", "ci-pull").returncode == 0
    attached = aws(
        admin,
        "iam",
        "attach-user-policy",
        "--user-name",
        "ci-pull",
        "--policy-arn",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    )
    assert attached.returncode == 0, attached.stderr
    key = json.loads(aws(admin, "iam", "create-access-key", "--user-name", "ci-pull").stdout)[
        "AccessKey"
    ]

    ci = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    ci.update(
        AWS_ACCESS_KEY_ID=key["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=server.url,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    login = aws(ci, "ecr", "get-login-password")
    assert login.returncode == 0, login.stderr
    ci_skopeo = Skopeo(tmp_path / "ci-auth.json")
    ci_skopeo.login(server.host, login.stdout.strip())
    ci_skopeo.copy(f"docker://{server.host}/demo:3.20", f"oci:{tmp_path / 'pulled'}:3.20")
    push = ci_skopeo.copy(f"oci:{layout.root}:3.20", f"docker://{server.host}/demo:x", check=False)
    assert push.returncode != 0
    assert "403" in push.stderr  # HEAD of the first blob is already refused
    described = aws(ci, "ecr", "describe-repositories")  # PullOnly grants no Describe*
    assert described.returncode != 0
    assert "AccessDeniedException" in described.stderr
