"""skopeo (Debian's package) against a live Stiva: login, push, pull, tags, delete, refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Skopeo
from tests.support.images import Layout
from tests.support.live import LiveServer


def _blobs(layout: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}


def _aws_login(server: LiveServer, skopeo: Skopeo) -> None:
    """The documented flow: `aws ecr get-login-password | skopeo login --password-stdin`."""
    password = subprocess.run(
        ["aws", "ecr", "get-login-password"],
        env=server.aws_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    skopeo.login(server.host, password)


def test_multi_layer_image_round_trip(server: LiveServer, skopeo: Skopeo, tmp_path: Path) -> None:
    server.ecr().create_repository(repositoryName="e2e/single")
    layout = Layout(tmp_path / "src")
    manifest = layout.add_image([10_000, 300_000, 2_500_000], seed=7)
    layout.tag(manifest, "v1")
    _aws_login(server, skopeo)

    skopeo.copy(f"oci:{layout.root}:v1", f"docker://{server.host}/e2e/single:v1")
    skopeo.copy(f"docker://{server.host}/e2e/single:v1", f"oci:{tmp_path / 'dst'}:v1")

    assert _blobs(tmp_path / "dst") == _blobs(layout.root)  # byte-exact, manifest included
    detail = server.ecr().describe_images(repositoryName="e2e/single")["imageDetails"][0]
    assert detail["imageDigest"] == manifest.digest
    assert detail["imageTags"] == ["v1"]
    stored = json.loads((layout.root / "blobs" / "sha256" / manifest.digest[7:]).read_bytes())
    expected = stored["config"]["size"] + sum(layer["size"] for layer in stored["layers"])
    assert detail["imageSizeInBytes"] == expected
    assert detail["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"


def test_multi_arch_index_round_trip(server: LiveServer, skopeo: Skopeo, tmp_path: Path) -> None:
    server.ecr().create_repository(repositoryName="e2e/multi")
    layout = Layout(tmp_path / "src")
    amd = layout.add_image([4096, 8192], arch="amd64", seed=1)
    arm = layout.add_image([4096, 8192], arch="arm64", seed=2)
    index = layout.add_index([(amd, "amd64"), (arm, "arm64")])
    layout.tag(index, "multi")
    _aws_login(server, skopeo)

    skopeo.copy(
        f"oci:{layout.root}:multi", f"docker://{server.host}/e2e/multi:multi", all_images=True
    )
    skopeo.copy(
        f"docker://{server.host}/e2e/multi:multi", f"oci:{tmp_path / 'dst'}:multi", all_images=True
    )

    assert _blobs(tmp_path / "dst") == _blobs(layout.root)
    digests = {
        d["imageDigest"]
        for d in server.ecr().describe_images(repositoryName="e2e/multi")["imageDetails"]
    }
    assert digests == {index.digest, amd.digest, arm.digest}  # children are images of their own
    # a child of a live index cannot be deleted
    refused = skopeo.run(
        "delete",
        "--tls-verify=false",
        "--authfile",
        str(skopeo.authfile),
        f"docker://{server.host}/e2e/multi@{amd.digest}",
        check=False,
    )
    assert refused.returncode != 0


def test_list_tags_and_delete(server: LiveServer, skopeo: Skopeo, tmp_path: Path) -> None:
    server.ecr().create_repository(repositoryName="e2e/tags")
    layout = Layout(tmp_path / "src")
    for seed, tag in enumerate(["a", "b", "c"]):
        layout.tag(layout.add_image([1000], seed=seed + 20), tag)
    _aws_login(server, skopeo)
    for tag in ["a", "b", "c"]:
        skopeo.copy(f"oci:{layout.root}:{tag}", f"docker://{server.host}/e2e/tags:{tag}")

    listed = skopeo.run(
        "list-tags",
        "--tls-verify=false",
        "--authfile",
        str(skopeo.authfile),
        f"docker://{server.host}/e2e/tags",
    )
    assert json.loads(listed.stdout)["Tags"] == ["a", "b", "c"]

    skopeo.run(
        "delete",
        "--tls-verify=false",
        "--authfile",
        str(skopeo.authfile),
        f"docker://{server.host}/e2e/tags:b",
    )
    listed = skopeo.run(
        "list-tags",
        "--tls-verify=false",
        "--authfile",
        str(skopeo.authfile),
        f"docker://{server.host}/e2e/tags",
    )
    assert json.loads(listed.stdout)["Tags"] == ["a", "c"]
    gone = skopeo.copy(f"docker://{server.host}/e2e/tags:b", f"oci:{tmp_path / 'x'}:b", check=False)
    assert gone.returncode != 0
    assert "manifest unknown" in gone.stderr


def test_push_to_missing_repository_is_name_unknown(
    server: LiveServer, skopeo: Skopeo, tmp_path: Path
) -> None:
    layout = Layout(tmp_path / "src")
    layout.tag(layout.add_image([100], seed=99), "x")
    _aws_login(server, skopeo)
    result = skopeo.copy(
        f"oci:{layout.root}:x", f"docker://{server.host}/e2e/nowhere:x", check=False
    )
    assert result.returncode != 0
    assert (
        f"The repository with name 'e2e/nowhere' does not exist in the registry with id "
        f"'{server.account_id}'" in result.stderr
    )


@pytest.mark.parametrize(
    "password",
    ["not-a-token", "eyJmb28iOiJiYXIifQ.c2lnbmF0dXJl", ""],
    ids=["garbled", "forged", "empty"],
)
def test_bad_credentials_are_refused(
    server: LiveServer, skopeo: Skopeo, tmp_path: Path, password: str
) -> None:
    server.ecr().create_repository(repositoryName=f"e2e/denied-{len(password)}")
    result = skopeo.run(
        "list-tags",
        "--tls-verify=false",
        "--creds",
        f"AWS:{password}",
        f"docker://{server.host}/e2e/denied-{len(password)}",
        check=False,
    )
    assert result.returncode != 0
    assert (
        "unauthorized" in result.stderr.lower()
        or "authentication required" in result.stderr.lower()
    )


def test_expired_token_says_so(server: LiveServer, skopeo: Skopeo) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from stiva.iam import token
    from tests.support.databases import connect

    with connect(server.data_dir) as db:
        key = bytes(
            db.execute(
                text("SELECT value FROM deployment_secrets WHERE name = 'registry-token-key'")
            ).scalar_one()
        )
    issued = datetime.now(UTC) - timedelta(hours=13)
    claims = token.TokenClaims(
        principal_arn=f"arn:aws:iam::{server.account_id}:user/admin",
        account_id=server.account_id,
        user_id="AIDAEXAMPLE",
        access_key_id=server.access_key_id,
        issued_at=int(issued.timestamp()),
        expires_at=int((issued + token.TOKEN_LIFETIME).timestamp()),
    )
    expired = token.mint_password(claims, key)
    result = skopeo.run(
        "list-tags",
        "--tls-verify=false",
        "--creds",
        f"AWS:{expired}",
        f"docker://{server.host}/e2e/anything",
        check=False,
    )
    assert result.returncode != 0
    assert "authorization token has expired" in result.stderr
