"""The access matrix: who may do what, on both surfaces, against a live server.

Personas by operation families, each cell an expected allow or deny, checked with boto3 (the
ECR control plane) and skopeo / plain HTTP (the registry). Personas are real IAM identities
made through the IAM and STS APIs (and `stiva admin create-account` for a second account).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlalchemy import text

from stiva.iam import token as registry_token
from tests.e2e.conftest import Skopeo
from tests.support.databases import connect
from tests.support.images import Layout
from tests.support.live import REGION, LiveServer
from tests.support.registry import basic

REPO = "matrix/app"
TARGET = "matrix/target"
READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DENIED = "denied"
ALLOWED = "allowed"
REFUSED = "refused"  # a mount the registry declined: the client uploads instead (202)


@dataclass
class Persona:
    name: str
    key: str | None = None
    secret: str | None = None
    session_token: str | None = None
    registry_password: str | None = None  # set explicitly for the broken personas
    unsigned: bool = False

    def client(self, server: LiveServer, service: str = "ecr") -> Any:
        config = Config(signature_version=UNSIGNED) if self.unsigned else None
        return boto3.client(
            service,
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id=self.key or "AKIAANONYMOUS0000000",
            aws_secret_access_key=self.secret or "anonymous",
            aws_session_token=self.session_token,
            config=config,
        )

    def password(self, server: LiveServer) -> str:
        if self.registry_password is not None:
            return self.registry_password
        data = self.client(server).get_authorization_token()["authorizationData"][0]
        return base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]


@dataclass
class World:
    server: LiveServer
    owner: str  # the account that owns the repositories
    layout: Layout
    layer: str  # a layer digest of REPO:base
    base_manifest: str
    personas: dict[str, Persona] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # tag -> digest, for the delete families
    passwords: dict[str, str] = field(default_factory=dict)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _user(iam: Any, name: str, *, attach: list[str] = (), inline: str | None = None) -> Persona:  # type: ignore[assignment]
    iam.create_user(UserName=name)
    for arn in attach:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline is not None:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Persona(name, key["AccessKeyId"], key["SecretAccessKey"])


def _second_account(server: LiveServer) -> Persona:
    created = subprocess.run(
        [sys.executable, "-m", "stiva", "admin", "create-account", "--data-dir",
         str(server.data_dir), "--account-id", "999900001111"],
        capture_output=True, text=True, check=True, timeout=60, env=server.cli_env(),
    )  # fmt: skip
    root = json.loads(created.stdout)
    return Persona("other-root", root["accessKeyId"], root["secretAccessKey"])


def _distinct_manifest(world_manifest: bytes, note: str) -> str:
    document = json.loads(world_manifest)
    document["annotations"] = {"matrix.note": note}
    return json.dumps(document)


def _push_base(server: LiveServer, tmp: Path, skopeo: Skopeo) -> tuple[Layout, str, bytes]:
    layout = Layout(tmp / "image")
    manifest = layout.add_image([20_000, 30_000], seed=4040)
    layout.tag(manifest, "base")
    layout.tag(manifest, "push")
    skopeo.login(
        server.host,
        Persona("admin", server.access_key_id, server.secret_access_key).password(server),
    )
    skopeo.copy(f"oci:{layout.root}:base", f"docker://{server.host}/{REPO}:base")
    raw = (layout.root / "blobs" / "sha256" / manifest.digest[7:]).read_bytes()
    layer = json.loads(raw)["layers"][0]["digest"]
    return layout, layer, raw


@pytest.fixture(scope="module")
def world(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("matrix")
    admin = Persona("admin", server.access_key_id, server.secret_access_key)
    ecr, iam, sts = admin.client(server), admin.client(server, "iam"), admin.client(server, "sts")
    for name in (REPO, TARGET):
        ecr.create_repository(repositoryName=name)
    ecr.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")
    layout, layer, raw = _push_base(server, tmp, Skopeo(tmp / "admin-auth.json"))
    world = World(server, server.account_id, layout, layer, raw.decode())
    world.personas["admin"] = admin
    world.personas["read-only user"] = _user(iam, "reader", attach=[READ_ONLY])
    push_actions = [
        "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage",
    ]  # fmt: skip
    world.personas["push-only user"] = _user(
        iam,
        "pusher",
        inline=_policy(
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": push_actions,
             "Resource": f"arn:aws:ecr:{REGION}:{server.account_id}:repository/matrix/*"},
        ),
    )  # fmt: skip
    _group_deny(iam, server, world)
    _role_session(iam, sts, server, world)
    _other_account(server, ecr, world)
    _broken(server, sts, iam, world)
    _delete_targets(ecr, world)
    return world


def _group_deny(iam: Any, server: LiveServer, world: World) -> None:
    persona = _user(iam, "blocked", attach=[ADMIN])
    iam.create_group(GroupName="no-pull")
    iam.put_group_policy(
        GroupName="no-pull",
        PolicyName="deny-pull",
        PolicyDocument=_policy(
            {"Effect": "Deny", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Resource": f"arn:aws:ecr:{REGION}:{server.account_id}:repository/{REPO}"}
        ),
    )  # fmt: skip
    iam.add_user_to_group(GroupName="no-pull", UserName="blocked")
    world.personas["admin with a group deny"] = persona


def _role_session(iam: Any, sts: Any, server: LiveServer, world: World) -> None:
    trust = _policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:user/admin"},
         "Action": "sts:AssumeRole"}
    )  # fmt: skip
    role = iam.create_role(RoleName="matrix-reader", AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName="matrix-reader", PolicyArn=READ_ONLY)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="matrix")["Credentials"]
    world.personas["role session (read-only)"] = Persona(
        "role", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )


def _other_account(server: LiveServer, ecr: Any, world: World) -> None:
    root = _second_account(server)
    other_iam = root.client(server, "iam")
    granted = _user(other_iam, "granted", attach=[READ_ONLY])
    ungranted = _user(other_iam, "ungranted", attach=[READ_ONLY])
    ecr.set_repository_policy(
        repositoryName=REPO,
        policyText=_policy(
            {"Sid": "OtherAccountPull", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::999900001111:user/granted"},
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"]}
        ),
    )  # fmt: skip
    world.personas["other account, granted by the repository policy"] = granted
    world.personas["other account, not in the repository policy"] = ungranted


def _broken(server: LiveServer, sts: Any, iam: Any, world: World) -> None:
    world.personas["anonymous"] = Persona("anonymous", unsigned=True, registry_password="")
    world.personas["bad signature"] = Persona(
        "bad", server.access_key_id, "not-the-secret", registry_password="garbled.token"
    )
    trust = _policy(
        {"Effect": "Allow", "Principal": {"AWS": server.account_id}, "Action": "sts:AssumeRole"}
    )
    role = iam.create_role(RoleName="matrix-expired", AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName="matrix-expired", PolicyArn=ADMIN)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="old")["Credentials"]
    with connect(server.data_dir) as db:
        db.execute(
            text("UPDATE role_sessions SET expires_at = :at WHERE access_key_id = :key"),
            {
                "at": (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None),
                "key": creds["AccessKeyId"],
            },
        )
        key = bytes(
            db.execute(
                text("SELECT value FROM deployment_secrets WHERE name = 'registry-token-key'")
            ).scalar_one()
        )
    issued = datetime.now(UTC) - timedelta(hours=13)
    claims = registry_token.TokenClaims(
        principal_arn=f"arn:aws:iam::{server.account_id}:user/admin",
        account_id=server.account_id,
        user_id="AIDAEXPIRED",
        access_key_id=server.access_key_id,
        issued_at=int(issued.timestamp()),
        expires_at=int((issued + registry_token.TOKEN_LIFETIME).timestamp()),
    )
    world.personas["expired credentials"] = Persona(
        "expired", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
        registry_password=registry_token.mint_password(claims, key),
    )  # fmt: skip


def _delete_targets(ecr: Any, world: World) -> None:
    """One distinct image per persona and delete family, so each deletion stands alone."""
    for index in range(len(world.personas)):
        for family in ("ecr-delete", "v2-delete"):
            tag = f"{family}-{index}"
            manifest = _distinct_manifest(world.base_manifest.encode(), tag)
            image = ecr.put_image(repositoryName=REPO, imageManifest=manifest, imageTag=tag)
            world.digests[tag] = image["image"]["imageId"]["imageDigest"]


# --- the families ------------------------------------------------------------------------------


def _ecr(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        authorization = {
            "AccessDeniedException", "MissingAuthenticationTokenException",
            "InvalidSignatureException", "UnrecognizedClientException", "ExpiredTokenException",
        }  # fmt: skip
        if code in authorization:
            return DENIED
        if code in {"RepositoryPolicyNotFoundException", "ImageAlreadyExistsException"}:
            return ALLOWED  # authorized, then the operation itself answered
        raise
    return ALLOWED


def _http(status: int) -> str:
    if status in (401, 403):
        return DENIED
    assert status < 300, status
    return ALLOWED


def family_describe(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)
    return _ecr(lambda: ecr.describe_images(repositoryName=REPO, registryId=w.owner))


def family_create(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)
    return _ecr(lambda: ecr.create_repository(repositoryName=f"matrix/new-{i}", registryId=w.owner))


def family_get_image(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)

    def get() -> None:
        answer = ecr.batch_get_image(
            repositoryName=REPO, registryId=w.owner, imageIds=[{"imageTag": "base"}]
        )
        assert answer["images"], answer

    return _ecr(get)


def family_put_image(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)
    manifest = _distinct_manifest(w.base_manifest.encode(), f"put-{i}")
    return _ecr(
        lambda: ecr.put_image(
            repositoryName=REPO, registryId=w.owner, imageManifest=manifest, imageTag=f"put-{i}"
        )
    )


def family_delete_image(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)

    def delete() -> None:
        answer = ecr.batch_delete_image(
            repositoryName=REPO, registryId=w.owner, imageIds=[{"imageTag": f"ecr-delete-{i}"}]
        )
        assert answer["imageIds"], answer

    return _ecr(delete)


def family_layers(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)
    return _ecr(
        lambda: ecr.get_download_url_for_layer(
            repositoryName=REPO, registryId=w.owner, layerDigest=w.layer
        )
    )


def family_policy(w: World, p: Persona, i: int) -> str:
    ecr = p.client(w.server)
    return _ecr(lambda: ecr.get_repository_policy(repositoryName=REPO, registryId=w.owner))


def family_token(w: World, p: Persona, i: int) -> str:
    return _ecr(lambda: p.client(w.server).get_authorization_token())


def _password(w: World, p: Persona) -> str:
    if p.name not in w.passwords:
        try:
            w.passwords[p.name] = p.password(w.server)
        except ClientError:
            w.passwords[p.name] = "no-token-for-this-persona"
    return w.passwords[p.name]


def family_pull(w: World, p: Persona, i: int) -> str:
    result = subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", "--src-creds", f"AWS:{_password(w, p)}",
         f"docker://{w.server.host}/{REPO}:base", f"oci:{w.layout.root.parent / f'pull-{i}'}:x"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return ALLOWED if result.returncode == 0 else DENIED


def family_push(w: World, p: Persona, i: int) -> str:
    result = subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", f"AWS:{_password(w, p)}",
         f"oci:{w.layout.root}:push", f"docker://{w.server.host}/{REPO}:pushed-{i}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return ALLOWED if result.returncode == 0 else DENIED


def family_mount(w: World, p: Persona, i: int) -> str:
    response = httpx.post(
        f"{w.server.url}/v2/{TARGET}/blobs/uploads/",
        params={"mount": w.layer, "from": REPO},
        headers=basic(_password(w, p)),
    )
    if response.status_code == 202:
        return REFUSED
    return _http(response.status_code)


def family_v2_delete(w: World, p: Persona, i: int) -> str:
    digest = w.digests[f"v2-delete-{i}"]
    response = httpx.delete(
        f"{w.server.url}/v2/{REPO}/manifests/{digest}", headers=basic(_password(w, p))
    )
    return _http(response.status_code)


def family_catalog(w: World, p: Persona, i: int) -> str:
    response = httpx.get(f"{w.server.url}/v2/_catalog", headers=basic(_password(w, p)))
    if response.status_code != 200:
        return _http(response.status_code)
    return ALLOWED if REPO in response.json()["repositories"] else DENIED


FAMILIES: dict[str, Callable[[World, Persona, int], str]] = {
    "ecr describe-images": family_describe,
    "ecr create-repository": family_create,
    "ecr batch-get-image": family_get_image,
    "ecr put-image": family_put_image,
    "ecr batch-delete-image": family_delete_image,
    "ecr get-download-url-for-layer": family_layers,
    "ecr get-repository-policy": family_policy,
    "ecr get-authorization-token": family_token,
    "registry pull": family_pull,
    "registry push": family_push,
    "registry mount": family_mount,
    "registry delete": family_v2_delete,
    "registry catalog": family_catalog,
}
EVERYTHING = {family: ALLOWED for family in FAMILIES}
NOTHING = {family: DENIED for family in FAMILIES}
READER = {
    **NOTHING,
    "ecr describe-images": ALLOWED,
    "ecr batch-get-image": ALLOWED,
    "ecr get-download-url-for-layer": ALLOWED,
    "ecr get-repository-policy": ALLOWED,
    "ecr get-authorization-token": ALLOWED,
    "registry pull": ALLOWED,
    "registry catalog": ALLOWED,
}
EXPECTED: dict[str, dict[str, str]] = {
    "admin": EVERYTHING,
    "read-only user": READER,
    "push-only user": {
        **NOTHING,
        "ecr put-image": ALLOWED,
        "ecr get-authorization-token": ALLOWED,
        "registry push": ALLOWED,
        "registry mount": REFUSED,  # may upload, but may not read the source repository
    },
    "role session (read-only)": READER,
    "admin with a group deny": {
        **EVERYTHING,
        "ecr batch-get-image": DENIED,
        "ecr get-download-url-for-layer": DENIED,
        "registry pull": DENIED,
        "registry mount": REFUSED,
        "registry catalog": DENIED,
    },
    "other account, granted by the repository policy": {
        **NOTHING,
        "ecr describe-images": ALLOWED,
        "ecr batch-get-image": ALLOWED,
        "ecr get-download-url-for-layer": ALLOWED,
        "ecr get-authorization-token": ALLOWED,
        "registry pull": ALLOWED,
        "registry catalog": ALLOWED,
    },
    "other account, not in the repository policy": {
        **NOTHING,
        "ecr get-authorization-token": ALLOWED,
    },
    "anonymous": NOTHING,
    "bad signature": NOTHING,
    "expired credentials": NOTHING,
}
CASES = [(persona, family) for persona in EXPECTED for family in FAMILIES]


@pytest.mark.parametrize(("persona", "family"), CASES, ids=[f"{p} / {f}" for p, f in CASES])
def test_access_matrix(world: World, persona: str, family: str) -> None:
    index = list(world.personas).index(persona)
    outcome = FAMILIES[family](world, world.personas[persona], index)
    assert outcome == EXPECTED[persona][family]
