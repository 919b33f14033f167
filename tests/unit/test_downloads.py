"""Download-URL signing (services/downloads.py): what a signature binds, expiry, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from stiva.errors import AccessDenied
from stiva.oci.digest import Digest
from stiva.services import downloads
from stiva.services.deployment import Deployment
from stiva.storage.base import Storage
from stiva.storage.filesystem import FilesystemDriver

KEY = b"k" * 32
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = "123456789012"
NAME = "team/app"
DIGEST = "sha256:" + "a" * 64


def signed(**overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "account_id": ACCOUNT,
        "name": NAME,
        "digest": DIGEST,
        "expires": int(NOW.timestamp()) + 60,
    }
    args.update(overrides)
    return downloads.presigned_query(KEY, **args)  # type: ignore[arg-type]


def verify(query: dict[str, str], *, name: str = NAME, digest: str = DIGEST, **kw: object) -> str:
    now = kw.get("now", NOW)
    assert isinstance(now, datetime)
    key = kw.get("key", KEY)
    assert isinstance(key, bytes)
    return downloads.verify_presigned(key, query, name=name, digest=digest, now=now)


def test_round_trip_names_the_account() -> None:
    assert verify(signed()) == ACCOUNT
    assert downloads.is_presigned(signed())
    assert not downloads.is_presigned({"digest": DIGEST})


@pytest.mark.parametrize(
    "change",
    [
        {"name": "team/other"},
        {"digest": "sha256:" + "b" * 64},
        {"key": b"x" * 32},
    ],
)
def test_signature_binds_name_digest_and_key(change: dict[str, object]) -> None:
    with pytest.raises(AccessDenied, match="signature does not match"):
        verify(signed(), **change)  # type: ignore[arg-type]


@pytest.mark.parametrize("param", [downloads.ACCOUNT_PARAM, downloads.EXPIRES_PARAM])
def test_signature_binds_account_and_expiry(param: str) -> None:
    query = signed()
    query[param] = "210987654321" if param == downloads.ACCOUNT_PARAM else "99999999999"
    with pytest.raises(AccessDenied, match="signature does not match"):
        verify(query)


def test_expiry_is_exclusive() -> None:
    query = signed(expires=int(NOW.timestamp()) + 1)
    assert verify(query) == ACCOUNT
    with pytest.raises(AccessDenied, match="expired"):
        verify(query, now=NOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    "broken",
    [
        {downloads.ACCOUNT_PARAM: "12345"},
        {downloads.ACCOUNT_PARAM: "abcdefghijkl"},
        {downloads.EXPIRES_PARAM: "-5"},
        {downloads.EXPIRES_PARAM: "1" * 13},
        {downloads.SIGNATURE_PARAM: ""},
    ],
)
def test_malformed_parameters(broken: dict[str, str]) -> None:
    with pytest.raises(AccessDenied, match="malformed"):
        verify({**signed(), **broken})


def test_missing_parameters() -> None:
    for param in (downloads.ACCOUNT_PARAM, downloads.EXPIRES_PARAM, downloads.SIGNATURE_PARAM):
        query = {k: v for k, v in signed().items() if k != param}
        with pytest.raises(AccessDenied, match="malformed"):
            verify(query)


def test_download_url_points_at_the_public_blob_endpoint(tmp_path: Path) -> None:
    deployment = Deployment(
        region="eu-west-1",
        default_account_id=ACCOUNT,
        public_url="https://registry.example:8443",
        domain="example",
    )
    url = downloads.download_url(
        storage=Storage(FilesystemDriver(tmp_path)),
        deployment=deployment,
        key=KEY,
        account_id=ACCOUNT,
        name=NAME,
        digest=Digest.parse(DIGEST),
        now=NOW,
    )
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc == f"{ACCOUNT}.dkr.ecr.eu-west-1.example:8443"
    assert parts.path == f"/v2/{NAME}/blobs/{DIGEST}"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query[downloads.EXPIRES_PARAM] == str(int(NOW.timestamp()) + 3600)
    assert verify(query) == ACCOUNT


class _Presigning(FilesystemDriver):
    def redirect_url(self, path: str, *, method: str, expires_in: int) -> str | None:
        return f"https://bucket.example/{path}?X-Amz-Expires={expires_in}"


def test_download_url_prefers_the_drivers_presigned_url(tmp_path: Path) -> None:
    url = downloads.download_url(
        storage=Storage(_Presigning(tmp_path)),
        deployment=Deployment("us-east-1", ACCOUNT, "http://127.0.0.1:5000", None),
        key=KEY,
        account_id=ACCOUNT,
        name=NAME,
        digest=Digest.parse(DIGEST),
        now=NOW,
    )
    assert url.startswith("https://bucket.example/")
    assert url.endswith("X-Amz-Expires=3600")
