"""A live `stiva serve` in a subprocess on an ephemeral port, for end-to-end tests."""

from __future__ import annotations

import base64
import configparser
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.support.databases import database_env

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    host: str  # host:port, as clients name the registry
    data_dir: Path
    account_id: str
    access_key_id: str
    secret_access_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    def aws_env(self) -> dict[str, str]:
        """Environment for the aws CLI / boto3 pointing at this server via the credentials file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials_file),
            AWS_CONFIG_FILE=os.devnull,
            AWS_ENDPOINT_URL=self.url,
            AWS_EC2_METADATA_DISABLED="true",
        )
        return env

    def ecr(self) -> Any:
        return boto3.client(
            "ecr",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def password(self) -> str:
        token = self.ecr().get_authorization_token()["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token).decode().partition(":")
        assert user == "AWS"
        return password

    def cli_env(self) -> dict[str, str]:
        """Environment for a `stiva` subcommand run on this server's data directory."""
        return {**os.environ, **database_env(self.data_dir)}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def live_server(
    data_dir: Path,
    *,
    extra_args: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    credentials: Path | None = None,
) -> Iterator[LiveServer]:
    """`extra_env` (e.g. `STIVA_DATABASE_URL`) overrides the test backend's database;
    `credentials` is the file to read the administrator's key from (a node that did not bootstrap
    the deployment writes none), by default the one in `data_dir`."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STIVA_")}
    env.update({**database_env(data_dir), **(extra_env or {})})
    command = [
        sys.executable, "-m", "stiva", "serve",
        "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
        "--account-id", "210987654321", *(extra_args or []),
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", process, log_path)
        creds = configparser.ConfigParser()
        creds.read(credentials or data_dir / "credentials")
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            host=f"127.0.0.1:{port}",
            data_dir=data_dir,
            account_id="210987654321",
            access_key_id=creds["default"]["aws_access_key_id"],
            secret_access_key=creds["default"]["aws_secret_access_key"],
            process=process,
            log_path=log_path,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90  # a loaded CI machine: migrations and imports take a while
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stiva serve exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"stiva serve did not become ready:\n{log_path.read_text()}")
