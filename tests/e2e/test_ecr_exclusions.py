"""boto3 against a live Stiva: pull-time update exclusions, their errors and pages, honoured by
the pull recorder of a server that flushes pull times every few tenths of a second."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import httpx
import pytest

from tests.support.live import REGION, LiveServer, live_server

FLUSH_SECONDS = 0.2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server that writes pull times every FLUSH_SECONDS (not the default 10 s)."""
    root = tmp_path_factory.mktemp("exclusions")
    config = root / "stiva.toml"
    config.write_text(f"[registry]\npull_time_flush_seconds = {FLUSH_SECONDS}\n")
    with live_server(root / "data", extra_args=["--config", str(config)]) as handle:
        yield handle


def arn(account: str, name: str, kind: str = "role") -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def ask_once(server: LiveServer) -> Any:
    """A client that does not retry: botocore retries LimitExceededException by default."""
    return boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def test_register_list_deregister_and_errors(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    principal = arn(server.account_id, "scanner")
    registered = ecr.register_pull_time_update_exclusion(principalArn=principal)
    assert registered["principalArn"] == principal
    assert registered["createdAt"].tzinfo is not None
    with pytest.raises(ecr.exceptions.ExclusionAlreadyExistsException) as twice:
        ecr.register_pull_time_update_exclusion(principalArn=principal)
    assert principal in str(twice.value)
    listed = ecr.list_pull_time_update_exclusions()
    assert listed["pullTimeUpdateExclusions"] == [principal]
    assert "nextToken" not in listed
    removed = ecr.deregister_pull_time_update_exclusion(principalArn=principal)
    assert removed["principalArn"] == principal
    with pytest.raises(ecr.exceptions.ExclusionNotFoundException):
        ecr.deregister_pull_time_update_exclusion(principalArn=principal)
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.register_pull_time_update_exclusion(principalArn="arn:aws:iam::123:group/x")
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.register_pull_time_update_exclusion(principalArn=arn("1" * 12, "r" * 200))
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.list_pull_time_update_exclusions(maxResults=1001)
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ecr.list_pull_time_update_exclusions(maxResults=0)


def test_pages_and_the_limit(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    once = ask_once(server)
    principals = sorted(arn("123456789012", f"bulk-{i:03d}") for i in range(100))
    for principal in principals:
        ecr.register_pull_time_update_exclusion(principalArn=principal)
    with pytest.raises(once.exceptions.LimitExceededException):
        once.register_pull_time_update_exclusion(principalArn=arn("123456789012", "one-more"))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        extra = {"nextToken": token} if token else {}
        page = ecr.list_pull_time_update_exclusions(maxResults=40, **extra)
        seen += page["pullTimeUpdateExclusions"]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert (seen, pages) == (principals, 3)
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.list_pull_time_update_exclusions(nextToken="not-a-token")
    for principal in principals:
        ecr.deregister_pull_time_update_exclusion(principalArn=principal)


def _push(server: LiveServer, name: str) -> dict[str, str]:
    ecr: Any = server.ecr()
    ecr.create_repository(repositoryName=name)
    token = base64.b64encode(f"AWS:{server.password()}".encode()).decode()
    auth = {"Authorization": f"Basic {token}"}
    config = b'{"architecture":"amd64","os":"linux"}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    upload = httpx.post(
        f"{server.url}/v2/{name}/blobs/uploads/?digest={digest}", content=config, headers=auth
    )
    assert upload.status_code == 201
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest,
            "size": len(config),
        },
        "layers": [],
    }
    ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageTag="v1")
    return auth


def _pull_time(server: LiveServer, name: str) -> Any:
    detail = server.ecr().describe_images(repositoryName=name)["imageDetails"][0]
    return detail.get("lastRecordedPullTime")


def _settle() -> None:
    time.sleep(FLUSH_SECONDS * 5)  # several flushes


def test_pulls_by_an_excluded_principal_leave_no_pull_time(server: LiveServer) -> None:
    ecr: Any = server.ecr()
    auth = _push(server, "exclusions/app")
    me = arn(server.account_id, "admin", kind="user")  # the bootstrap user: the caller
    ecr.register_pull_time_update_exclusion(principalArn=me)
    pulled = httpx.get(f"{server.url}/v2/exclusions/app/manifests/v1", headers=auth)
    assert pulled.status_code == 200
    ecr.batch_get_image(repositoryName="exclusions/app", imageIds=[{"imageTag": "v1"}])
    _settle()
    assert _pull_time(server, "exclusions/app") is None

    ecr.deregister_pull_time_update_exclusion(principalArn=me)
    ecr.batch_get_image(repositoryName="exclusions/app", imageIds=[{"imageTag": "v1"}])
    _settle()
    assert _pull_time(server, "exclusions/app") is not None
