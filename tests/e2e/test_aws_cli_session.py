"""A scripted aws CLI session, as a user would type it: create, log in, push, describe, delete."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.live import LiveServer


def aws(server: LiveServer, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["aws", *args],
        env=server.aws_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"aws {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def test_cli_session(server: LiveServer, skopeo: Skopeo, tmp_path: Path) -> None:
    created = json.loads(
        aws(
            server,
            "ecr",
            "create-repository",
            "--repository-name",
            "cli/session",
            "--image-tag-mutability",
            "MUTABLE",
        )
    )
    uri = created["repository"]["repositoryUri"]
    assert uri == f"{server.host}/cli/session"

    password = aws(server, "ecr", "get-login-password").strip()
    skopeo.login(server.host, password)
    layout = Layout(tmp_path / "img")
    first = layout.add_image([50_000, 70_000], seed=301)
    second = layout.add_image([60_000], seed=302)
    layout.tag(first, "one")
    layout.tag(second, "two")
    skopeo.copy(f"oci:{layout.root}:one", f"docker://{uri}:one")
    skopeo.copy(f"oci:{layout.root}:two", f"docker://{uri}:two")

    described = json.loads(
        aws(server, "ecr", "describe-images", "--repository-name", "cli/session")
    )
    by_digest = {d["imageDigest"]: d for d in described["imageDetails"]}
    assert by_digest[first.digest]["imageTags"] == ["one"]
    assert by_digest[second.digest]["imageTags"] == ["two"]
    assert all(d["imageSizeInBytes"] > 50_000 for d in by_digest.values())

    deleted = json.loads(
        aws(
            server,
            "ecr",
            "batch-delete-image",
            "--repository-name",
            "cli/session",
            "--image-ids",
            "imageTag=one",
        )
    )
    assert deleted["imageIds"] == [{"imageDigest": first.digest, "imageTag": "one"}]
    assert deleted["failures"] == []
    remaining = json.loads(aws(server, "ecr", "list-images", "--repository-name", "cli/session"))
    assert remaining["imageIds"] == [{"imageDigest": second.digest, "imageTag": "two"}]

    gone = json.loads(
        aws(server, "ecr", "delete-repository", "--repository-name", "cli/session", "--force")
    )
    assert gone["repository"]["repositoryName"] == "cli/session"
    listed = json.loads(aws(server, "ecr", "describe-repositories"))
    assert "cli/session" not in [r["repositoryName"] for r in listed["repositories"]]
