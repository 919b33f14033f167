"""An S3 server on loopback (moto in server mode) for the S3 storage driver's tests."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from stiva.storage.base import Storage
from stiva.storage.s3 import S3Options, open_s3

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_BUCKETS = itertools.count(1)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str  # http://127.0.0.1:<port>
    port: int

    def session(self) -> Any:
        return boto3.session.Session(region_name=REGION, **CREDENTIALS)

    def client(self) -> Any:
        return self.session().client("s3", endpoint_url=self.endpoint_url)

    def new_bucket(self) -> str:
        name = f"stiva-test-{next(_BUCKETS)}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage(self, bucket: str | None = None, **options: Any) -> Storage:
        """A wrapped S3 driver on `bucket` (a new one by default), as `open_storage` makes it."""
        settings = S3Options(
            bucket=bucket or self.new_bucket(),
            endpoint_url=self.endpoint_url,
            region=REGION,
            **options,
        )
        return Storage(open_s3(settings, self.session()))

    def settings(self, bucket: str, prefix: str) -> dict[str, Any]:
        """The `storage` settings of a registry storing blobs under `prefix` in `bucket` (the
        credentials come from the environment: see `credentials_in_env`)."""
        return {
            "url": f"s3://{bucket}/{prefix}",
            "s3": {"endpoint_url": self.endpoint_url, "region": REGION},
        }

    def env(self, bucket: str, prefix: str = "store") -> dict[str, str]:
        """Environment for a `stiva serve` storing blobs in `bucket` on this server."""
        return {
            "STIVA_STORAGE_URL": f"s3://{bucket}/{prefix}",
            "STIVA_S3_ENDPOINT_URL": self.endpoint_url.replace("127.0.0.1", "localhost"),
            "STIVA_S3_REGION": REGION,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer  # imported only by the tests that use S3

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}", port=port)
    finally:
        server.stop()


def credentials_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard AWS chain's environment variables, set to the loopback server's keys."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
