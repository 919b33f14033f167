"""Several live `stiva serve` deployments on loopback, wired as replication peers.

A `Deployment` is one region: a data directory, a fixed port (so it can be stopped and started
again at the same address, which its peers' configuration names), a TOML config file, and
its bootstrap account's root credential. `Registry` talks to one account of a deployment over
`/v2/` (the account chosen by an ECR-shaped Host header) with httpx. `ByteCounter` is a TCP
proxy that counts the bytes a client sends through it: put between a source and a peer, it
measures what the peer received.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.support.live import free_port

ACCOUNT_A = "210987654321"
ACCOUNT_B = "333344445555"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


def render_config(settings: dict[str, Any]) -> str:
    """A small TOML writer: scalars, sections, and `[[replication.peers]]`-style arrays."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in settings.items() if not isinstance(v, dict)]
    for section, values in settings.items():
        if not isinstance(values, dict):
            continue
        lines.append(f"\n[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, list)]
        for key, items in values.items():
            if isinstance(items, list):
                for item in items:
                    lines.append(f"\n[[{section}.{key}]]")
                    lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Credential:
    account_id: str
    access_key_id: str
    secret_access_key: str


@dataclass
class Deployment:
    region: str
    data_dir: Path
    port: int = field(default_factory=free_port)
    replication: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    root: Credential | None = None
    _clients: dict[str, Any] = field(default_factory=dict)  # one per credential, reused

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.region}-{self.port}.log"

    def write_config(self) -> Path:
        settings: dict[str, Any] = {
            "data_dir": str(self.data_dir),
            "listen": f"127.0.0.1:{self.port}",
            "region": self.region,
            "account_id": ACCOUNT_A,
            "workers": {"poll_seconds": 0.1},
            "registry": {"pull_time_flush_seconds": 1.0},
        }
        if self.replication:
            settings["replication"] = self.replication
        path = self.data_dir.parent / f"{self.region}.toml"
        path.write_text(render_config(settings))
        return path

    def start(self) -> Deployment:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.write_config()
        env = {k: v for k, v in os.environ.items() if not k.startswith("STIVA_")}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stiva", "serve", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        wait_until(self._ready, 30, lambda: f"{self.region} did not start:\n{self.log()}")
        creds = configparser.ConfigParser()
        creds.read(self.data_dir / "credentials")
        self.root = Credential(
            ACCOUNT_A,
            creds["default"]["aws_access_key_id"],
            creds["default"]["aws_secret_access_key"],
        )
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.region} exited:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for key, client in list(self._clients.items()):
            if isinstance(client, Registry):
                client.http.close()
            else:
                client.close()
            del self._clients[key]
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def create_account(self, account_id: str) -> Credential:
        result = subprocess.run(
            [sys.executable, "-m", "stiva", "admin", "create-account", "--config",
             str(self.write_config()), "--account-id", account_id],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        data = json.loads(result.stdout)
        return Credential(account_id, data["accessKeyId"], data["secretAccessKey"])

    def ecr(self, credential: Credential | None = None) -> Any:
        cred = credential or self.root
        assert cred is not None
        key = f"ecr:{cred.access_key_id}"
        if key not in self._clients:
            self._clients[key] = boto3.client(
                "ecr",
                endpoint_url=self.url,
                region_name=self.region,
                aws_access_key_id=cred.access_key_id,
                aws_secret_access_key=cred.secret_access_key,
            )
        return self._clients[key]

    def registry(self, credential: Credential | None = None) -> Registry:
        cred = credential or self.root
        assert cred is not None
        key = f"v2:{cred.access_key_id}"
        if key not in self._clients:
            token = self.ecr(cred).get_authorization_token()["authorizationData"][0]
            host = f"{cred.account_id}.dkr.ecr.{self.region}.localhost:{self.port}"
            auth = f"Basic {token['authorizationToken']}"
            self._clients[key] = Registry(
                httpx.Client(
                    base_url=self.url, headers={"Host": host, "Authorization": auth}, timeout=30
                )
            )
        registry: Registry = self._clients[key]
        return registry

    def password(self) -> str:
        token = self.ecr().get_authorization_token()["authorizationData"][0]
        return base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]

    def peer_entry(self, endpoint: str | None = None) -> dict[str, str]:
        """This deployment as a `[[replication.peers]]` entry (its root credential)."""
        assert self.root is not None
        return {
            "region": self.region,
            "endpoint": endpoint or self.url,
            "access_key_id": self.root.access_key_id,
            "secret_access_key": self.root.secret_access_key,
        }


def source_entry(region: str) -> dict[str, str]:
    """A `[[replication.sources]]` entry trusting account A's bootstrap user for `region`."""
    return {"region": region, "principal": f"arn:aws:iam::{ACCOUNT_A}:user/admin"}


def wait_until(check: Callable[[], bool], timeout: float, why: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(why())


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    """One account of one deployment, over `/v2/`."""

    http: httpx.Client

    def push_blob(self, name: str, data: bytes) -> str:
        digest = digest_of(data)
        response = self.http.post(
            f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data
        )
        assert response.status_code == 201, response.text
        return digest

    def put_manifest(self, name: str, reference: str, manifest: dict[str, Any]) -> str:
        raw = json.dumps(manifest).encode()
        response = self.http.put(
            f"/v2/{name}/manifests/{reference}",
            content=raw,
            headers={"Content-Type": str(manifest["mediaType"])},
        )
        assert response.status_code == 201, response.text
        return digest_of(raw)

    def push_image(
        self, name: str, tag: str | None, *, layers: list[bytes], label: str = ""
    ) -> str:
        config = json.dumps({"architecture": "amd64", "os": "linux", "label": label}).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": self.push_blob(name, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": self.push_blob(name, layer),
                    "size": len(layer),
                }
                for layer in layers
            ],
        }
        raw = json.dumps(manifest).encode()
        return self.put_manifest(name, tag or digest_of(raw), manifest)

    def push_signature(self, name: str, subject: str, subject_size: int) -> str:
        """An OCI 1.1 referrer (a fake signature artifact) of `subject`."""
        payload = b'{"signature": "not really"}'
        empty = b"{}"
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": self.push_blob(name, empty),
                "size": len(empty),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": self.push_blob(name, payload),
                    "size": len(payload),
                }
            ],
            "subject": {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": subject,
                "size": subject_size,
            },
        }
        return self.put_manifest(name, digest_of(json.dumps(manifest).encode()), manifest)

    def manifest(self, name: str, reference: str) -> httpx.Response:
        return self.http.get(
            f"/v2/{name}/manifests/{reference}",
            headers={"Accept": "application/vnd.oci.image.index.v1+json, "
                     "application/vnd.oci.image.manifest.v1+json"},
        )  # fmt: skip

    def blob(self, name: str, digest: str) -> bytes:
        response = self.http.get(f"/v2/{name}/blobs/{digest}", follow_redirects=True)
        assert response.status_code == 200, response.text
        return response.content

    def referrers(self, name: str, digest: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/v2/{name}/referrers/{digest}")
        assert response.status_code == 200, response.text
        return list(response.json()["manifests"])

    def tags(self, name: str) -> list[str]:
        response = self.http.get(f"/v2/{name}/tags/list")
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        return list(response.json().get("tags") or [])


class ByteCounter:
    """A loopback TCP proxy to `target_port` counting the bytes clients send through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        try:
            while data := source.recv(65536):
                if counted:
                    with self._lock:
                        self.sent += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            source.close()  # each socket is the source of exactly one pipe

    def close(self) -> None:
        self._closed = True
        self._server.close()
