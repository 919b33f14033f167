"""Blob push and pull on `/v2/`: every upload flavour, sha512, cancel, mount, Range, bad input.

Mirrors the blob checks of the newer conformance runner (conformance/run.go + api.go:
"post only", "post+put", "stream", "chunked", out-of-order chunks, "post cancel", mounts, range
requests, well-known blobs, bad digests) and the spec's upload rules (416 with Location + Range).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx2 as httpx
import pytest

from tests.api.test_iam_helpers import allow, iam, new_user_keys, policy
from tests.support.registry import InProcessRegistry
from tests.support.writes import track_writes

REPO = "blobs/app"
OCTET = {"Content-Type": "application/octet-stream"}
Pusher = Callable[["Client", bytes, str], httpx.Response]


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


class Client:
    def __init__(self, registry: InProcessRegistry, name: str = REPO) -> None:
        self.http = registry.client
        self.auth = registry.auth
        self.name = name

    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
    ) -> httpx.Response:
        url = url.replace("<name>", self.name)
        return self.http.request(
            method, url, headers={**self.auth, **(headers or {})}, params=params, content=content
        )

    def start(self) -> str:
        response = self("POST", "/v2/<name>/blobs/uploads/", headers={"Content-Length": "0"})
        assert response.status_code == 202, response.text
        assert response.headers["range"] == "0-0"
        assert response.headers["docker-upload-uuid"] in response.headers["location"]
        return response.headers["location"]

    def patch(self, location: str, data: bytes, start: int) -> httpx.Response:
        return self(
            "PATCH",
            location,
            headers={
                **OCTET,
                "Content-Range": f"{start}-{start + len(data) - 1}",
                "Content-Length": str(len(data)),
            },
            content=data,
        )


@pytest.fixture
def client(registry: InProcessRegistry) -> Client:
    registry.create_repository(REPO)
    return Client(registry)


def codes(response: httpx.Response) -> list[str]:
    return [entry["code"] for entry in response.json()["errors"]]


# --- the push flavours --------------------------------------------------------------------


def post_only(client: Client, data: bytes, digest: str) -> httpx.Response:
    return client(
        "POST", "/v2/<name>/blobs/uploads/", params={"digest": digest}, headers=OCTET, content=data
    )


def post_put(client: Client, data: bytes, digest: str) -> httpx.Response:
    location = client.start()
    return client("PUT", location, params={"digest": digest}, headers=OCTET, content=data)


def stream(client: Client, data: bytes, digest: str) -> httpx.Response:
    location = client.start()
    patched = client("PATCH", location, headers=OCTET, content=data)
    assert patched.status_code == 202, patched.text
    assert patched.headers["range"] == f"0-{len(data) - 1}"
    return client("PUT", patched.headers["location"], params={"digest": digest})


def chunked(client: Client, data: bytes, digest: str) -> httpx.Response:
    location, step = client.start(), len(data) // 3 + 1
    for start in range(0, len(data), step):
        patched = client.patch(location, data[start : start + step], start)
        assert patched.status_code == 202, patched.text
        location = patched.headers["location"]
    return client("PUT", location, params={"digest": digest}, headers={"Content-Length": "0"})


def chunked_put_last(client: Client, data: bytes, digest: str) -> httpx.Response:
    location, step = client.start(), len(data) // 3 + 1
    starts = list(range(0, len(data), step))
    for start in starts[:-1]:
        location = client.patch(location, data[start : start + step], start).headers["location"]
    last = data[starts[-1] :]
    return client(
        "PUT",
        location,
        params={"digest": digest},
        headers={
            **OCTET,
            "Content-Range": f"{starts[-1]}-{len(data) - 1}",
            "Content-Length": str(len(last)),
        },
        content=last,
    )


PUSHERS: dict[str, Pusher] = {
    "post only": post_only,
    "post+put": post_put,
    "stream": stream,
    "chunked": chunked,
    "chunked, last chunk in PUT": chunked_put_last,
}


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
@pytest.mark.parametrize("flavour", list(PUSHERS))
def test_every_push_flavour_stores_the_blob(client: Client, flavour: str, algorithm: str) -> None:
    data = blob(1000, flavour + algorithm)
    digest = digest_of(data, algorithm)
    created = PUSHERS[flavour](client, data, digest)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v2/{REPO}/blobs/{digest}"
    assert created.headers["docker-content-digest"] == digest

    head = client("HEAD", f"/v2/<name>/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["docker-content-digest"] == digest
    assert head.content == b""
    got = client("GET", created.headers["location"])
    assert (got.status_code, got.content) == (200, data)
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["docker-content-digest"] == digest
    assert got.headers["content-length"] == str(len(data))


@pytest.mark.parametrize("flavour", list(PUSHERS))
def test_bad_digest_is_refused_and_stores_nothing(client: Client, flavour: str) -> None:
    data = blob(700, "bad " + flavour)
    claimed = digest_of(data)
    refused = PUSHERS[flavour](client, data + b"oh no", claimed)
    assert refused.status_code == 400, refused.text
    assert codes(refused) == ["DIGEST_INVALID"]
    assert client("HEAD", f"/v2/<name>/blobs/{claimed}").status_code == 404


def test_rejected_upload_session_is_gone(client: Client) -> None:
    location = client.start()
    assert client("PATCH", location, headers=OCTET, content=b"abc").status_code == 202
    assert client("PUT", location, params={"digest": digest_of(b"abd")}).status_code == 400
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        gone = client(method, location, params={"digest": digest_of(b"abc")}, content=b"")
        assert gone.status_code == 404, (method, gone.text)
        assert codes(gone) == ["BLOB_UPLOAD_UNKNOWN"]


@pytest.mark.parametrize(("name", "data"), [("empty", b""), ("empty JSON", b"{}")])
def test_well_known_blobs(client: Client, name: str, data: bytes) -> None:
    digest = digest_of(data)
    assert post_put(client, data, digest).status_code == 201
    head = client("HEAD", f"/v2/<name>/blobs/{digest}")
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))
    got = client("GET", f"/v2/<name>/blobs/{digest}")
    assert (got.status_code, got.content, got.headers["content-length"]) == (
        200,
        data,
        str(len(data)),
    )
    assert client("DELETE", f"/v2/<name>/blobs/{digest}").status_code == 202
    assert client("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 404


# --- chunk order, status and cancel -------------------------------------------------------


def test_out_of_order_chunks_get_416_with_location_and_range(client: Client) -> None:
    data = blob(300, "out of order")
    location = client.start()
    ahead = client.patch(location, data[100:200], 100)
    assert ahead.status_code == 416, ahead.text
    assert codes(ahead) == ["BLOB_UPLOAD_INVALID"]
    assert (ahead.headers["location"], ahead.headers["range"]) == (location, "0-0")

    assert client.patch(location, data[:100], 0).status_code == 202
    again = client.patch(location, data[:100], 0)  # back to the beginning
    assert again.status_code == 416
    assert again.headers["range"] == "0-99"
    final_ahead = client(
        "PUT",
        location,
        params={"digest": digest_of(data)},
        headers={**OCTET, "Content-Range": "200-299", "Content-Length": "100"},
        content=data[200:],
    )
    assert final_ahead.status_code == 416  # the closing PUT's chunk is held to the same rule

    status = client("GET", location)
    assert (status.status_code, status.headers["range"]) == (204, "0-99")
    head = client("HEAD", location)
    assert (head.status_code, head.headers["range"], head.headers["location"]) == (
        204,
        "0-99",
        location,
    )
    assert client.patch(status.headers["location"], data[100:200], 100).status_code == 202
    closed = client(
        "PUT",
        location,
        params={"digest": digest_of(data)},
        headers={**OCTET, "Content-Range": "200-299", "Content-Length": "100"},
        content=data[200:],
    )
    assert closed.status_code == 201, closed.text
    assert client("GET", closed.headers["location"]).content == data


@pytest.mark.parametrize(
    ("content_range", "length"),
    [
        ("garbage", "10"),  # not <start>-<end>
        ("9-0", "10"),  # end before start
        ("0-9", "5"),  # Content-Length disagrees with the range
    ],
)
def test_bad_content_range_is_416_and_writes_nothing(
    client: Client, content_range: str, length: str
) -> None:
    location = client.start()
    response = client(
        "PATCH",
        location,
        headers={**OCTET, "Content-Range": content_range, "Content-Length": length},
        content=b"x" * int(length),
    )
    assert response.status_code == 416, response.text
    assert response.headers["location"] == location
    assert response.headers["range"] == "0-0"
    assert client("GET", location).headers["range"] == "0-0"
    data = blob(10, "after a bad range")
    assert client.patch(location, data, 0).status_code == 202  # the session is still usable


def pieces(data: bytes, size: int = 1000) -> Iterator[bytes]:
    """A body sent chunked: no Content-Length, so only its Content-Range says how long it is."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("length", [99, 101, 5000], ids=["short", "one over", "far over"])
def test_chunked_body_not_matching_its_range_is_416_and_writes_nothing(
    client: Client, method: str, length: int
) -> None:
    data = blob(300, "chunked ranges")
    location = client.start()
    assert client.patch(location, data[:100], 0).status_code == 202
    body = blob(length, "wrong length")
    refused = client(
        method,
        location,
        params={"digest": digest_of(data)} if method == "PUT" else None,
        headers={**OCTET, "Content-Range": "100-199"},  # 100 bytes
        content=pieces(body),
    )
    assert refused.status_code == 416, refused.text
    assert codes(refused) == ["BLOB_UPLOAD_INVALID"]
    assert (refused.headers["location"], refused.headers["range"]) == (location, "0-99")
    status = client("GET", location)
    assert (status.status_code, status.headers["range"]) == (204, "0-99")  # nothing appended
    resumed = client(
        "PATCH", location, headers={**OCTET, "Content-Range": "100-299"}, content=pieces(data[100:])
    )
    assert (resumed.status_code, resumed.headers["range"]) == (202, "0-299")
    done = client("PUT", location, params={"digest": digest_of(data)})
    assert done.status_code == 201, done.text
    assert client("GET", done.headers["location"]).content == data


def test_large_chunked_body_with_a_range_is_spooled_then_appended(client: Client) -> None:
    data = blob(3 * 1024 * 1024 + 17, "spooled past memory")  # past the 1 MiB in-memory spool
    location = client.start()
    put = client(
        "PUT",
        location,
        params={"digest": digest_of(data)},
        headers={**OCTET, "Content-Range": f"0-{len(data) - 1}"},
        content=pieces(data, 64 * 1024),
    )
    assert put.status_code == 201, put.text
    assert client("GET", put.headers["location"]).content == data


def test_put_without_or_with_malformed_digest_keeps_the_upload(client: Client) -> None:
    data = blob(64, "keep the upload")
    location = client.start()
    assert client("PATCH", location, headers=OCTET, content=data).status_code == 202
    for params in ({}, {"digest": "sha256:nope"}, {"digest": "md5:" + "0" * 32}):
        refused = client("PUT", location, params=params)
        assert refused.status_code == 400, refused.text
        assert codes(refused) == ["DIGEST_INVALID"]
    assert client("GET", location).headers["range"] == "0-63"
    assert client("PUT", location, params={"digest": digest_of(data)}).status_code == 201


def test_cancel_ends_the_session(client: Client) -> None:
    location = client.start()
    assert client.patch(location, b"abc", 0).status_code == 202
    cancelled = client("DELETE", location)
    assert cancelled.status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        gone = client(method, location, headers=OCTET, content=b"")
        assert gone.status_code == 404, (method, gone.text)
        assert codes(gone) == ["BLOB_UPLOAD_UNKNOWN"]


def test_upload_sessions_belong_to_their_repository(
    registry: InProcessRegistry, client: Client
) -> None:
    location = client.start()
    registry.create_repository("blobs/other")
    other = Client(registry, "blobs/other")
    foreign = location.replace(f"/v2/{REPO}/", "/v2/blobs/other/")
    assert other("GET", foreign).status_code == 404
    assert other("PUT", foreign, params={"digest": digest_of(b"")}).status_code == 404
    assert codes(client("GET", "/v2/<name>/blobs/uploads/not-a-uuid")) == ["BLOB_UPLOAD_UNKNOWN"]
    assert client("GET", location).status_code == 204


# --- blobs are visible through repository links only, and mounts create links ------------------


def enable_blob_mounting(registry: InProcessRegistry) -> None:
    """Blob mounting is opt-in, as in ECR (account setting BLOB_MOUNTING, default DISABLED)."""
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")


def test_blob_is_visible_only_where_linked_and_mount_links_it(registry: InProcessRegistry) -> None:
    enable_blob_mounting(registry)
    registry.create_repository("team/source")
    registry.create_repository("team/target")
    source, target = Client(registry, "team/source"), Client(registry, "team/target")
    data = blob(128, "shared")
    digest = digest_of(data)
    assert post_only(source, data, digest).status_code == 201
    assert target("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 404

    mounted = target(
        "POST", "/v2/<name>/blobs/uploads/", params={"mount": digest, "from": "team/source"}
    )
    assert mounted.status_code == 201, mounted.text
    assert mounted.headers["location"] == f"/v2/team/target/blobs/{digest}"
    assert mounted.headers["docker-content-digest"] == digest
    assert target("GET", mounted.headers["location"]).content == data

    assert source("DELETE", f"/v2/<name>/blobs/{digest}").status_code == 202
    assert source("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 404
    assert target("GET", f"/v2/<name>/blobs/{digest}").content == data  # its own link remains


@pytest.mark.parametrize(
    "params",
    [
        {"mount": "<digest>"},  # no from, and no other repository holds the blob
        {"mount": "<digest>", "from": "team/nowhere"},  # no such repository
        {"mount": "<digest>", "from": "team/empty"},  # the source lacks the blob
        {"mount": "<digest>", "from": "Not A Name"},  # not a repository name
        {"mount": "sha256:zzz", "from": "team/source"},  # not a digest
    ],
)
def test_refused_mount_falls_back_to_an_upload_session(
    registry: InProcessRegistry, params: dict[str, str]
) -> None:
    enable_blob_mounting(registry)  # so each refusal is for the reason its case names
    for name in ("team/source", "team/target", "team/empty"):
        registry.create_repository(name)
    source, target = Client(registry, "team/source"), Client(registry, "team/target")
    data = blob(32, "mount fallback")
    digest = digest_of(data)
    if "from" in params:  # (without `from`, any repository holding the blob would do)
        assert post_only(source, data, digest).status_code == 201
    query = {key: value.replace("<digest>", digest) for key, value in params.items()}
    response = target("POST", "/v2/<name>/blobs/uploads/", params=query)
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location.startswith("/v2/team/target/blobs/uploads/")
    assert target("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 404
    assert target("PUT", location, params={"digest": digest}, content=data).status_code == 201


def test_mount_without_from_finds_a_repository_the_pusher_may_read(
    registry: InProcessRegistry,
) -> None:
    """OCI 1.1 lets a registry mount without `from` ("automatic content discoverability"):
    from any repository holding the blob that the pusher could mount from by name."""
    enable_blob_mounting(registry)
    for name in ("team/a-hidden", "team/b-readable", "team/target"):
        registry.create_repository(name)
    data = blob(96, "discovered")
    digest = digest_of(data)
    for name in ("team/a-hidden", "team/b-readable"):
        assert post_only(Client(registry, name), data, digest).status_code == 201
    push = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
    ]
    users = iam(registry)
    statements = [
        allow("ecr:GetAuthorizationToken"),
        allow(push, "arn:aws:ecr:*:*:repository/team/target"),
    ]
    reader = new_user_keys(users, "reader")
    users.call(
        "PutUserPolicy",
        UserName="reader",
        PolicyName="p",
        PolicyDocument=policy(
            *statements, allow("ecr:GetDownloadUrlForLayer", "arn:aws:ecr:*:*:repository/team/b-*")
        ),
    )
    stranger = new_user_keys(users, "stranger")
    users.call(
        "PutUserPolicy", UserName="stranger", PolicyName="p", PolicyDocument=policy(*statements)
    )
    as_stranger = Client(
        replace(
            registry,
            access_key_id=stranger.access_key_id,
            secret_access_key=stranger.secret_access_key,
        ),
        "team/target",
    )
    refused = as_stranger("POST", "/v2/<name>/blobs/uploads/", params={"mount": digest})
    assert refused.status_code == 202, refused.text  # may read neither holder: an upload
    target = Client(registry, "team/target")
    assert target("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 404
    as_reader = Client(
        replace(
            registry, access_key_id=reader.access_key_id, secret_access_key=reader.secret_access_key
        ),
        "team/target",
    )
    mounted = as_reader("POST", "/v2/<name>/blobs/uploads/", params={"mount": digest})
    assert mounted.status_code == 201, mounted.text  # from team/b-readable, past team/a-hidden
    assert mounted.headers["location"] == f"/v2/team/target/blobs/{digest}"
    assert mounted.headers["docker-content-digest"] == digest
    assert target("GET", f"/v2/<name>/blobs/{digest}").content == data
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="DISABLED")
    other = Client(registry, "team/elsewhere")
    registry.create_repository("team/elsewhere")
    assert other("POST", "/v2/<name>/blobs/uploads/", params={"mount": digest}).status_code == 202


def test_mounting_is_off_until_the_account_enables_it(registry: InProcessRegistry) -> None:
    registry.create_repository("team/source")
    registry.create_repository("team/target")
    source, target = Client(registry, "team/source"), Client(registry, "team/target")
    data = blob(64, "opt-in")
    digest = digest_of(data)
    assert post_only(source, data, digest).status_code == 201
    params = {"mount": digest, "from": "team/source"}
    refused = target("POST", "/v2/<name>/blobs/uploads/", params=params)
    assert refused.status_code == 202  # an upload session: the spec's answer to a refused mount
    assert target("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 404
    enable_blob_mounting(registry)
    assert target("POST", "/v2/<name>/blobs/uploads/", params=params).status_code == 201
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="DISABLED")
    assert target("POST", "/v2/<name>/blobs/uploads/", params=params).status_code == 202
    assert target("HEAD", f"/v2/<name>/blobs/{digest}").status_code == 200  # the mount stays


def test_mount_into_a_missing_repository_is_name_unknown(registry: InProcessRegistry) -> None:
    registry.create_repository("team/source")
    source, missing = Client(registry, "team/source"), Client(registry, "team/missing")
    digest = digest_of(b"x")
    assert post_only(source, b"x", digest).status_code == 201
    response = missing(
        "POST", "/v2/<name>/blobs/uploads/", params={"mount": digest, "from": "team/source"}
    )
    assert response.status_code == 404
    assert codes(response) == ["NAME_UNKNOWN"]


# --- reads: Range, deletes, bad digests ---------------------------------------------------------

RANGE_BLOB = blob(2048, "range")


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=500-1499", 500, 1499),
        ("bytes=500-", 500, 2047),
        ("bytes=-500", 1548, 2047),
        ("bytes=2000-5000", 2000, 2047),
        ("bytes=0-0", 0, 0),
    ],
)
def test_range_requests_answer_206(client: Client, header: str, start: int, end: int) -> None:
    digest = digest_of(RANGE_BLOB)
    assert post_only(client, RANGE_BLOB, digest).status_code == 201
    response = client("GET", f"/v2/<name>/blobs/{digest}", headers={"Range": header})
    assert response.status_code == 206, response.text
    assert response.content == RANGE_BLOB[start : end + 1]
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["content-range"] == f"bytes {start}-{end}/2048"


@pytest.mark.parametrize("header", ["bytes=500-0", "bytes=5000-10000", "bytes=2048-", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: Client, header: str) -> None:
    digest = digest_of(RANGE_BLOB)
    assert post_only(client, RANGE_BLOB, digest).status_code == 201
    response = client("GET", f"/v2/<name>/blobs/{digest}", headers={"Range": header})
    assert response.status_code == 416, response.text
    assert response.headers["content-range"] == "bytes */2048"
    assert codes(response) == ["SIZE_INVALID"]


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-10", "bytes=-"])
def test_ranges_we_do_not_serve_are_ignored(client: Client, header: str) -> None:
    digest = digest_of(RANGE_BLOB)
    assert post_only(client, RANGE_BLOB, digest).status_code == 201
    response = client("GET", f"/v2/<name>/blobs/{digest}", headers={"Range": header})
    assert (response.status_code, response.content) == (200, RANGE_BLOB)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{digest}"'
    assert "max-age" in response.headers["cache-control"]


def test_delete_blob_then_404(client: Client) -> None:
    data = blob(10, "delete me")
    digest = digest_of(data)
    assert post_only(client, data, digest).status_code == 201
    assert client("DELETE", f"/v2/<name>/blobs/{digest}").status_code == 202
    for method in ("HEAD", "GET"):
        assert client(method, f"/v2/<name>/blobs/{digest}").status_code == 404
    again = client("DELETE", f"/v2/<name>/blobs/{digest}")
    assert again.status_code == 404
    assert codes(again) == ["BLOB_UNKNOWN"]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("bad", ["sha256:short", "sha999:" + "0" * 64, "nodigest"])
def test_malformed_blob_digest_is_400(client: Client, method: str, bad: str) -> None:
    response = client(method, f"/v2/<name>/blobs/{bad}")
    assert response.status_code == 400, response.text
    assert codes(response) == ["DIGEST_INVALID"]


def test_completion_on_a_node_without_the_hash_state_reads_the_bytes_outside_the_write_lock(
    client: Client, registry: InProcessRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart (or chunks served by another node) the upload's bytes are hashed again
    (by the closing PUT's chunk, empty or not); that read must not happen inside a write unit of
    work (on SQLite, every writer's lock), and completion must not read them once more."""
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    reads: list[bool] = []
    rehash = ctx.uploads._rehash
    writing = track_writes(ctx.db, monkeypatch)

    def tracked_rehash(upload_id: str, algorithm: str) -> object:
        reads.append(writing())
        return rehash(upload_id, algorithm)

    monkeypatch.setattr(ctx.uploads, "_rehash", tracked_rehash)
    data = b"bytes hashed again after a restart" * 1000
    location = client.start()
    patched = client("PATCH", location, headers=OCTET, content=data)
    assert patched.status_code == 202, patched.text
    ctx.uploads.cache.drop(patched.headers["docker-upload-uuid"])  # as after a restart
    done = client("PUT", patched.headers["location"], params={"digest": digest_of(data)})
    assert done.status_code == 201, done.text
    assert reads == [False], reads  # once, outside; the first PATCH read nothing back
    assert client("GET", f"/v2/<name>/blobs/{digest_of(data)}").content == data
