"""Deliveries to another region: a peer deployment reached through its public APIs.

The control plane through boto3's ECR client (`endpoint_url` = the peer): GetAuthorizationToken
for the registry token, DescribeRepositories and CreateRepository (with `registryId` = the
destination account). The data plane through httpx on `/v2/`, addressing the destination
account with an ECR-shaped Host header (`<account>.dkr.ecr.<region>.stiva`). Every request but
GetAuthorizationToken carries `X-Stiva-Replication-Source: <source account>/<source region>`
(signed into SigV4 on the control plane), which the peer trusts only from the principal it
declared for our region (`services.replication.inbound`).

The registry token is kept (per peer and credential, in this process) until shortly before it
expires, and dropped when the peer answers 401.

Blobs: HEAD each one first and upload only those the destination repository lacks, so a
destination that already holds an image's layers receives no layer bytes; the upload starts
with a mount request without `from`, so a layer the destination holds in another repository is
linked there instead of sent (when the destination account enables BLOB_MOUNTING, as in ECR).
Manifests by digest in plan order, then tags; a tag the destination refuses (immutable there)
is dropped.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from stiva.config import ReplicationPeer
from stiva.oci.digest import Digest
from stiva.services.replication import outcome
from stiva.services.replication.inbound import HEADER
from stiva.services.replication.plan import Item, Plan
from stiva.storage.base import Storage
from stiva.storage.layout import blob_path

CHUNK = 1024 * 1024
TOKEN_MARGIN = timedelta(minutes=10)  # a cached token is renewed this long before it expires
# Registry tokens of peers, by (endpoint, access key id): (token, expiry). Shared by the worker's
# threads; a dict's get, set and pop are atomic, and two threads racing merely both log in.
_TOKENS: dict[tuple[str, str], tuple[str, datetime]] = {}


class PeerSession:
    """One delivery's conversation with a peer, on behalf of one source account."""

    def __init__(
        self,
        peer: ReplicationPeer,
        *,
        source_account: str,
        source_region: str,
        destination_account: str,
        timeout: float,
    ) -> None:
        self.peer = peer
        self.account = destination_account
        self.claim = f"{source_account}/{source_region}"
        self.timeout = timeout
        self._ecr = self._client()
        port = urlsplit(peer.endpoint).port
        host = f"{destination_account}.dkr.ecr.{peer.region}.stiva" + (f":{port}" if port else "")
        self.http = httpx.Client(
            base_url=peer.endpoint,
            timeout=timeout,
            headers={"Host": host, HEADER: self.claim},
        )

    def close(self) -> None:
        self.http.close()

    def _client(self) -> Any:
        client = boto3.client(
            "ecr",
            endpoint_url=self.peer.endpoint,
            region_name=self.peer.region,
            aws_access_key_id=self.peer.access_key_id,
            aws_secret_access_key=self.peer.secret_access_key,
            config=BotoConfig(
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=self.timeout,
                read_timeout=self.timeout,
            ),
        )
        return client

    def _call(self, operation: str, *, replication: bool, **params: Any) -> dict[str, Any]:
        def claim(request: Any, **_: Any) -> None:
            request.headers[HEADER] = self.claim

        event = f"before-sign.ecr.{operation}"
        if replication:
            self._ecr.meta.events.register(event, claim)
        try:
            method = getattr(self._ecr, _snake(operation))
            result: dict[str, Any] = method(**params)
            return result
        except (BotoCoreError, OSError) as exc:
            raise outcome.transient(f"{self.peer.endpoint}: {exc}") from None
        finally:
            if replication:
                self._ecr.meta.events.unregister(event, claim)

    def login(self) -> None:
        """Get a registry token for the peer's `/v2/`, or re-use one this process got before
        (tokens last hours; a delivery per image need not ask each time)."""
        key = (self.peer.endpoint, self.peer.access_key_id)
        cached = _TOKENS.get(key)
        if cached is not None and cached[1] - TOKEN_MARGIN > datetime.now(UTC):
            self.http.headers["Authorization"] = f"Basic {cached[0]}"
            return
        try:
            data = self._call("GetAuthorizationToken", replication=False)
        except ClientError as exc:
            raise outcome.transient(f"the peer refused the replication credential: {exc}") from None
        found = data["authorizationData"][0]
        token = found["authorizationToken"]
        base64.b64decode(token)  # a malformed answer fails here, not mid-push
        expires = found.get("expiresAt")
        if isinstance(expires, datetime):
            _TOKENS[key] = (token, expires)
        self.http.headers["Authorization"] = f"Basic {token}"

    def ensure_repository(self, name: str) -> None:
        try:
            self._call(
                "DescribeRepositories",
                replication=True,
                registryId=self.account,
                repositoryNames=[name],
            )
            return
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code != "RepositoryNotFoundException":
                raise _client_error(exc, outcome.ACCESS_DENIED) from None
        try:
            self._call(
                "CreateRepository", replication=True, registryId=self.account, repositoryName=name
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code != "RepositoryAlreadyExistsException":
                raise _client_error(exc, outcome.CREATE_DENIED) from None

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise outcome.transient(f"{self.peer.endpoint}: {exc}") from None
        if response.status_code == 401:  # revoked or expired early: the retry logs in again
            _TOKENS.pop((self.peer.endpoint, self.peer.access_key_id), None)
        return response

    def push(
        self,
        storage: Storage,
        name: str,
        plan: Plan,
        tags_now: Callable[[], Sequence[str]] | None = None,
    ) -> list[str]:
        """Copy the plan's blobs, manifests and tags; the tags the destination dropped.

        `tags_now` gives the source's tags of the image again after the (long) byte copy, so a
        tag moved to another image meanwhile is not set back here by this older delivery.
        """
        for item in plan.items:
            for digest, size in item.blobs:
                self._ensure_blob(storage, name, digest, size)
            self._put_manifest(name, item.digest, item)
        root = next(item for item in plan.items if item.digest == plan.digest)
        dropped = []
        for tag in tags_now() if tags_now is not None else plan.tags:
            response = self._put(name, tag, root)
            if response.status_code == 400 and _oci_code(response) == "TAG_INVALID":
                dropped.append(tag)
            else:
                _check(response, f"tag {tag}")
        return dropped

    def _ensure_blob(self, storage: Storage, name: str, digest: str, size: int) -> None:
        head = self._request("HEAD", f"/v2/{name}/blobs/{digest}")
        if head.status_code == 200:
            return
        if head.status_code != 404:
            _check(head, f"blob {digest}")
        # OCI 1.1's mount without `from`: the destination links the blob if another of its
        # repositories holds it (and blob mounting is enabled there); else an upload session.
        started = self._request("POST", f"/v2/{name}/blobs/uploads/", params={"mount": digest})
        if started.status_code == 201:
            return
        _check(started, f"upload of {digest}")
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        body = _chunks(storage, digest)
        done = self._request(
            "PUT",
            f"{location}{separator}digest={digest}",
            content=body,
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )
        _check(done, f"upload of {digest}")

    def _put(self, name: str, reference: str, item: Item) -> httpx.Response:
        return self._request(
            "PUT",
            f"/v2/{name}/manifests/{reference}",
            content=item.content,
            headers={"Content-Type": item.media_type},
        )

    def _put_manifest(self, name: str, digest: str, item: Item) -> None:
        _check(self._put(name, digest, item), f"manifest {digest}")

    def delete_image(self, name: str, digest: str) -> None:
        response = self._request("DELETE", f"/v2/{name}/manifests/{digest}")
        if response.status_code != 404:
            _check(response, f"delete of {digest}")

    def delete_tag(self, name: str, digest: str, tag: str) -> None:
        head = self._request("HEAD", f"/v2/{name}/manifests/{tag}", headers={"Accept": "*/*"})
        if head.status_code == 404 or head.headers.get("Docker-Content-Digest") != digest:
            if head.status_code not in (200, 404):
                _check(head, f"tag {tag}")
            return  # gone already, or moved to another image since: leave it
        response = self._request("DELETE", f"/v2/{name}/manifests/{tag}")
        if response.status_code != 404:
            _check(response, f"delete of tag {tag}")


def _chunks(storage: Storage, digest: str) -> Iterator[bytes]:
    with storage.open_read(blob_path(Digest.parse(digest))) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _oci_code(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or [{}]
        return str(errors[0].get("code", ""))
    except ValueError:
        return ""


def _check(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 300:
        return
    text = f"{what}: the peer answered {status} {response.text[:300]}"
    if status == 403:
        raise outcome.permanent(outcome.ACCESS_DENIED, text)
    if status in (401, 404, 408, 429) or status >= 500:
        raise outcome.transient(text)
    if _oci_code(response) in _TRANSIENT_OCI:  # e.g. the peer's GC pruned a blob we skipped
        raise outcome.transient(text)
    raise outcome.permanent(outcome.REJECTED, text)


# Refusals the next attempt gets past: a blob found by HEAD, then collected at the peer before
# the manifest (MANIFEST_BLOB_UNKNOWN), is uploaded again by the retry; an upload session the
# peer ended meanwhile is started again.
_TRANSIENT_OCI = frozenset({"MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"})


def _client_error(exc: ClientError, denied_code: str) -> outcome.DeliveryError:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    text = f"{code}: {message}"
    if code == "AccessDeniedException":
        return outcome.permanent(denied_code, text)
    if status >= 500 or code in ("UnrecognizedClientException", "InvalidSignatureException"):
        return outcome.transient(text)
    return outcome.permanent(outcome.REJECTED, text)
