"""An in-process Stiva (Starlette TestClient) with helpers for both API surfaces."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.testclient import TestClient

from stiva.app import create_app, prepare
from stiva.clock import Clock
from stiva.config import Settings, load_settings

TARGET = "AmazonEC2ContainerRegistry_V20150921"
REGION = "us-east-1"


@dataclass
class InProcessRegistry:
    client: TestClient
    settings: Settings
    account_id: str
    access_key_id: str
    secret_access_key: str

    # --- control plane -------------------------------------------------------------------
    def ecr_raw(
        self,
        operation: str,
        body: bytes,
        *,
        secret: str | None = None,
        region: str = REGION,
        extra_headers: dict[str, str] | None = None,
        unsigned_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A signed ECR call; `unsigned_headers` are added after signing (outside SigV4)."""
        request = AWSRequest(
            method="POST",
            url="http://testserver/",
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"{TARGET}.{operation}",
                **(extra_headers or {}),
            },
        )
        creds = Credentials(self.access_key_id, secret or self.secret_access_key)
        SigV4Auth(creds, "ecr", region).add_auth(request)
        headers = {**dict(request.headers.items()), **(unsigned_headers or {})}
        return self.client.post("/", content=body, headers=headers)

    def ecr(self, operation: str, **params: Any) -> httpx.Response:
        return self.ecr_raw(operation, json.dumps(params).encode())

    def ecr_ok(self, operation: str, **params: Any) -> dict[str, Any]:
        response = self.ecr(operation, **params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    # --- data plane ----------------------------------------------------------------------
    def token(self) -> str:
        data = self.ecr_ok("GetAuthorizationToken")["authorizationData"][0]
        return str(data["authorizationToken"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self.token()}"}

    def create_repository(self, name: str, **params: Any) -> dict[str, Any]:
        return self.ecr_ok("CreateRepository", repositoryName=name, **params)["repository"]  # type: ignore[no-any-return]

    def push_blob(self, name: str, data: bytes, auth: dict[str, str]) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        response = self.client.post(
            f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data, headers=auth
        )
        assert response.status_code == 201, response.text
        return digest

    def push_image(
        self,
        name: str,
        tag: str,
        auth: dict[str, str],
        *,
        layers: list[bytes] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, bytes]:
        """Push config + layers + an OCI manifest; (manifest digest, manifest bytes)."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        config_digest = self.push_blob(name, config, auth)
        descriptors = []
        for data in layers if layers is not None else [b"layer-" + tag.encode()]:
            descriptors.append(
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": self.push_blob(name, data, auth),
                    "size": len(data),
                }
            )
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": descriptors,
            **(extra or {}),
        }
        raw = json.dumps(manifest).encode()
        response = self.client.put(
            f"/v2/{name}/manifests/{tag}",
            content=raw,
            headers={**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert response.status_code == 201, response.text
        return "sha256:" + hashlib.sha256(raw).hexdigest(), raw


def basic(token_or_password: str, user: str = "AWS") -> dict[str, str]:
    value = base64.b64encode(f"{user}:{token_or_password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


@contextmanager
def in_process_registry(
    data_dir: Path, *, clock: Clock | None = None, **overrides: Any
) -> Iterator[InProcessRegistry]:
    settings = load_settings(
        overrides={"data_dir": data_dir, "account_id": "123456789012", **overrides}
    )
    prepared = prepare(settings)
    assert prepared.bootstrap is not None
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield InProcessRegistry(
            client=client,
            settings=settings,
            account_id=prepared.bootstrap.account_id,
            access_key_id=prepared.bootstrap.access_key_id,
            secret_access_key=prepared.bootstrap.secret_access_key,
        )
