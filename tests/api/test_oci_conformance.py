"""The OCI distribution-spec conformance suite (conformance/0[1-4]_*_test.go), replayed in-process.

Each workflow sends the requests the Go suite sends, with the same shapes of content (built as
`setup.go` builds them: tab-indented JSON, a config descriptor carrying `data` and an unknown field,
an empty-layer manifest without `mediaType`, five referrers of one subject, one of them an index),
and asserts what the suite asserts, tightened to the answer the spec prefers where the suite
accepts several. `test_whole_suite_on_one_repository` runs the four workflows back to back on one
repository, as the suite does against a live registry.

ECR semantics the live run needs: the suite's repositories must exist first (OCI_NAMESPACE and
OCI_CROSSMOUNT_NAMESPACE), since a push to a missing repository is NAME_UNKNOWN.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from tests.support.registry import InProcessRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCTET = {"Content-Type": "application/octet-stream"}
ANNOTATION = "org.opencontainers.conformance.test"
TYPE_A = "application/vnd.nhl.peanut.butter.bagel"
TYPE_B = "application/vnd.nba.strawberry.jam.croissant"
TYPE_INDEX = "application/vnd.food.stand"
SPEC_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
}
NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


DUMMY_DIGEST = sha256(b"hello world")


def marshal(doc: dict[str, Any]) -> bytes:
    """Go's json.MarshalIndent(v, "", "\\t")."""
    return json.dumps(doc, indent="\t").encode()


def descriptor(media_type: str, content: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(content), "size": len(content), **extra}


@dataclass
class SuiteData:
    """The content `setup.go` builds, one config and manifest per workflow (indexes 0..4)."""

    configs: list[bytes] = field(default_factory=list)
    manifests: list[bytes] = field(default_factory=list)
    layer: bytes = b""
    empty_layer_manifest: bytes = b""
    blob_a: bytes = b""
    blob_b: bytes = b""
    empty_json: bytes = b"{}"
    ref_blob_a: bytes = b"NHL Peanut Butter on my NHL bagel"
    ref_blob_b: bytes = b"NBA Strawberry Jam on my NBA croissant"
    referrers: dict[str, bytes] = field(default_factory=dict)  # name -> manifest bytes
    annotations: dict[str, str] = field(default_factory=dict)  # referrer digest -> annotation

    def digest(self, content: bytes) -> str:
        return sha256(content)


def build_suite_data() -> SuiteData:
    data = SuiteData()
    data.layer = base64.b64decode(
        "H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0"
        "WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD"
        "jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA"
    )
    for i in range(5):
        config = {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
            "author": f"conformance-author-{i}",
        }
        data.configs.append(marshal(config))
    for i in range(5):
        config = data.configs[i]
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(
                OCI_CONFIG,
                config,
                data=base64.b64encode(config).decode(),
                newUnspecifiedField=base64.b64encode(b"hello world").decode(),
            ),
            "layers": [descriptor(LAYER_GZIP, data.layer)],
        }
        data.manifests.append(marshal(manifest))
    data.empty_layer_manifest = marshal(
        {"schemaVersion": 2, "config": descriptor(OCI_CONFIG, data.configs[1]), "layers": []}
    )
    data.blob_a = hashlib.shake_256(b"blob A").digest(42)
    data.blob_b = hashlib.shake_256(b"blob B").digest(42)
    _build_referrers(data)
    return data


def _build_referrers(data: SuiteData) -> None:
    subject = descriptor(OCI_MANIFEST, data.manifests[4])
    empty = descriptor(OCI_EMPTY, data.empty_json)

    def add(name: str, doc: dict[str, Any]) -> None:
        raw = marshal(doc)
        data.referrers[name] = raw
        if "annotations" in doc:
            data.annotations[sha256(raw)] = doc["annotations"][ANNOTATION]

    for letter, kind, blob in (("A", TYPE_A, data.ref_blob_a), ("B", TYPE_B, data.ref_blob_b)):
        add(
            f"{letter}-config",
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": descriptor(kind, blob),
                "layers": [empty],
                "subject": subject,
                "annotations": {ANNOTATION: f"test config {letter.lower()}"},
            },
        )
        add(
            f"{letter}-layer",
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": kind,
                "config": empty,
                "layers": [descriptor(kind, blob)],
                "subject": subject,
                "annotations": {ANNOTATION: f"test layer {letter.lower()}"},
            },
        )
    add(
        "C-layer",  # its subject (manifests[3]) is never pushed
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": TYPE_B,
            "config": empty,
            "layers": [descriptor(TYPE_B, data.ref_blob_b)],
            "subject": descriptor(OCI_MANIFEST, data.manifests[3]),
        },
    )
    add(
        "index",
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": TYPE_INDEX,
            "manifests": [
                descriptor(OCI_MANIFEST, data.referrers["A-config"]),
                descriptor(OCI_MANIFEST, data.referrers["A-layer"]),
            ],
            "subject": subject,
            "annotations": {ANNOTATION: "test index"},
        },
    )


DATA = build_suite_data()


@dataclass
class Session:
    """A reggie-like client bound to one repository (OCI_NAMESPACE) with Basic credentials."""

    registry: InProcessRegistry
    name: str
    auth: dict[str, str]

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        url = path.replace("<name>", self.name)
        return self.registry.client.request(
            method, url, headers={**self.auth, **(headers or {})}, params=params, content=content
        )

    def push_blob(self, content: bytes) -> str:
        """The suite's setup: POST, then PUT the whole blob to the returned location."""
        started = self.request("POST", "/v2/<name>/blobs/uploads/")
        assert started.status_code == 202, started.text
        done = self.request(
            "PUT",
            started.headers["location"],
            params={"digest": sha256(content)},
            headers={**OCTET, "Content-Length": str(len(content))},
            content=content,
        )
        assert 200 <= done.status_code < 300, done.text
        return sha256(content)

    def put_manifest(
        self, reference: str, content: bytes, media_type: str = OCI_MANIFEST
    ) -> httpx.Response:
        return self.request(
            "PUT",
            f"/v2/<name>/manifests/{reference}",
            headers={"Content-Type": media_type},
            content=content,
        )


def error_codes(response: httpx.Response) -> list[str]:
    return [entry["code"] for entry in response.json()["errors"]]


def tags_of(session: Session, **params: str) -> list[str]:
    response = session.request("GET", "/v2/<name>/tags/list", params=params)
    assert response.status_code == 200, response.text
    tags: list[str] = response.json()["tags"]
    return tags


def deleted(response: httpx.Response) -> bool:
    """What the teardowns accept: 2xx or 405 (and 404 where content may already be gone)."""
    return 200 <= response.status_code < 300 or response.status_code in (404, 405)


# --- 01_pull_test.go ---------------------------------------------------------------------


def run_pull(s: Session) -> None:
    for content in (DATA.configs[0], DATA.configs[1], DATA.layer):
        s.push_blob(content)
    assert s.put_manifest("tagtest0", DATA.manifests[0]).status_code == 201
    assert s.put_manifest(sha256(DATA.manifests[1]), DATA.manifests[1]).status_code == 201

    missing = s.request("HEAD", f"/v2/<name>/blobs/{DUMMY_DIGEST}")
    assert missing.status_code == 404
    head = s.request("HEAD", f"/v2/<name>/blobs/{sha256(DATA.configs[0])}")
    assert head.status_code == 200
    assert head.headers["docker-content-digest"] == sha256(DATA.configs[0])
    assert head.headers["content-length"] == str(len(DATA.configs[0]))
    assert s.request("GET", f"/v2/<name>/blobs/{DUMMY_DIGEST}").status_code == 404
    got = s.request("GET", f"/v2/<name>/blobs/{sha256(DATA.configs[0])}")
    assert (got.status_code, got.content) == (200, DATA.configs[0])

    accept = {"Accept": OCI_MANIFEST}
    for method in ("HEAD", "GET"):
        unknown = s.request(method, f"/v2/<name>/manifests/{NONEXISTENT_MANIFEST}")
        assert unknown.status_code == 404, unknown.text
        for reference, content in (
            (sha256(DATA.manifests[0]), DATA.manifests[0]),
            (sha256(DATA.manifests[1]), DATA.manifests[1]),
            ("tagtest0", DATA.manifests[0]),
        ):
            found = s.request(method, f"/v2/<name>/manifests/{reference}", headers=accept)
            assert found.status_code == 200, (method, reference, found.text)
            assert found.headers["docker-content-digest"] == sha256(content)
            assert found.headers["content-length"] == str(len(content))
            assert found.headers["content-type"] == OCI_MANIFEST
            if method == "GET":
                assert found.content == content

    wrong = s.request(
        "GET",
        "/v2/<name>/manifests/sha256:totallywrong",
        headers={"Content-Type": OCI_MANIFEST},
        content=b"blablabla",
    )
    assert wrong.status_code == 400
    assert error_codes(wrong)[0] in SPEC_CODES

    for digest in (sha256(DATA.manifests[0]), sha256(DATA.manifests[1])):
        assert s.request("DELETE", f"/v2/<name>/manifests/{digest}").status_code == 202
    for content in (DATA.configs[0], DATA.configs[1], DATA.layer):
        assert s.request("DELETE", f"/v2/<name>/blobs/{sha256(content)}").status_code == 202


# --- 02_push_test.go ---------------------------------------------------------------------


def run_push_streamed_and_monolithic(s: Session) -> None:
    started = s.request("POST", "/v2/<name>/blobs/uploads/")
    assert started.headers["location"]
    patched = s.request("PATCH", started.headers["location"], headers=OCTET, content=DATA.blob_a)
    assert patched.status_code == 202, patched.text
    closed = s.request(
        "PUT",
        patched.headers["location"],
        params={"digest": sha256(DATA.blob_a)},
        headers=OCTET,
    )
    assert closed.status_code == 201, closed.text
    assert closed.headers["location"] == f"/v2/{s.name}/blobs/{sha256(DATA.blob_a)}"

    assert s.request("GET", f"/v2/<name>/blobs/{DUMMY_DIGEST}").status_code == 404
    config = DATA.configs[1]
    single = s.request(
        "POST",
        "/v2/<name>/blobs/uploads/",
        params={"digest": sha256(config)},
        headers={**OCTET, "Content-Length": str(len(config))},
        content=config,
    )
    assert single.status_code == 201, single.text
    assert single.headers["location"] == f"/v2/{s.name}/blobs/{sha256(config)}"
    assert single.headers["docker-content-digest"] == sha256(config)
    assert s.request("GET", f"/v2/<name>/blobs/{sha256(config)}").content == config

    for content in (config, DATA.layer):
        session_id = s.request("POST", "/v2/<name>/blobs/uploads/")
        assert session_id.status_code == 202
        put = s.request(
            "PUT",
            session_id.headers["location"],
            params={"digest": sha256(content)},
            headers={**OCTET, "Content-Length": str(len(content))},
            content=content,
        )
        assert put.status_code == 201, put.text
        assert put.headers["location"]
        fetched = s.request("GET", f"/v2/<name>/blobs/{sha256(content)}")
        assert (fetched.status_code, fetched.content) == (200, content)


def chunk_range(start: int, end: int) -> dict[str, str]:
    return {**OCTET, "Content-Range": f"{start}-{end}", "Content-Length": str(end - start + 1)}


def run_push_chunked(s: Session) -> None:
    blob = DATA.blob_b
    half = len(blob) // 2 + 1
    first, second = blob[:half], blob[half:]

    fresh = s.request("POST", "/v2/<name>/blobs/uploads/", headers={"Content-Length": "0"})
    assert fresh.headers["location"]
    out_of_order = s.request(
        "PATCH", fresh.headers["location"], headers=chunk_range(half, len(blob) - 1), content=second
    )
    assert out_of_order.status_code == 416, out_of_order.text
    assert out_of_order.headers["location"] == fresh.headers["location"]
    assert out_of_order.headers["range"] == "0-0"

    upload = s.request("POST", "/v2/<name>/blobs/uploads/", headers={"Content-Length": "0"})
    location = upload.headers["location"]
    accepted = s.request("PATCH", location, headers=chunk_range(0, half - 1), content=first)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["range"] == f"0-{half - 1}"

    retry = s.request("PATCH", location, headers=chunk_range(0, half - 1), content=first)
    assert retry.status_code == 416
    assert retry.headers["range"] == f"0-{half - 1}"

    status = s.request("GET", location)
    assert status.status_code == 204
    assert status.headers["location"]
    assert status.headers["range"] == f"0-{half - 1}"

    rest = s.request(
        "PATCH",
        status.headers["location"],
        headers=chunk_range(half, len(blob) - 1),
        content=second,
    )
    assert rest.status_code == 202, rest.text
    assert rest.headers["location"]
    closed = s.request(
        "PUT",
        rest.headers["location"],
        params={"digest": sha256(blob)},
        headers={**OCTET, "Content-Length": "0"},
    )
    assert closed.status_code == 201, closed.text
    assert closed.headers["location"]
    assert s.request("GET", closed.headers["location"]).content == blob


def run_cross_mount(s: Session, crossmount: str) -> None:
    other = Session(s.registry, crossmount, s.auth)
    anonymous = other.request("POST", "/v2/<name>/blobs/uploads/", params={"mount": DUMMY_DIGEST})
    assert anonymous.status_code == 202
    assert anonymous.headers["location"].startswith(f"/v2/{crossmount}/blobs/uploads/")

    mounted = other.request(
        "POST",
        "/v2/<name>/blobs/uploads/",
        params={"mount": sha256(DATA.blob_a), "from": s.name},
    )
    assert mounted.status_code == 201, mounted.text
    assert mounted.headers["location"] == f"/v2/{crossmount}/blobs/{sha256(DATA.blob_a)}"
    assert mounted.headers["docker-content-digest"] == sha256(DATA.blob_a)
    fetched = other.request("GET", mounted.headers["location"])
    assert (fetched.status_code, fetched.content) == (200, DATA.blob_a)

    # automatic content discovery (mount without from) is on with blob mounting: the suite's
    # OCI_AUTOMATIC_CROSSMOUNT=true case; a blob nobody holds still gets a session (above)
    no_from = other.request(
        "POST", "/v2/<name>/blobs/uploads/", params={"mount": sha256(DATA.blob_a)}
    )
    assert no_from.status_code == 201, no_from.text
    assert no_from.headers["location"] == f"/v2/{crossmount}/blobs/{sha256(DATA.blob_a)}"


def run_manifest_upload(s: Session) -> None:
    assert s.request("GET", f"/v2/<name>/manifests/{NONEXISTENT_MANIFEST}").status_code == 404
    for i in range(4):
        put = s.put_manifest(f"test{i}", DATA.manifests[1])
        assert put.status_code == 201, put.text
        assert put.headers["location"] == f"/v2/{s.name}/manifests/{sha256(DATA.manifests[1])}"
    empty = s.put_manifest("emptylayer", DATA.empty_layer_manifest)
    assert empty.status_code == 201, empty.text
    pulled = s.request("GET", empty.headers["location"], headers={"Accept": OCI_MANIFEST})
    assert pulled.content == DATA.empty_layer_manifest
    by_digest = s.request(
        "GET",
        f"/v2/<name>/manifests/{sha256(DATA.manifests[1])}",
        headers={"Accept": OCI_MANIFEST},
    )
    assert by_digest.status_code == 200

    for reference in (sha256(DATA.manifests[1]), sha256(DATA.empty_layer_manifest)):
        assert s.request("DELETE", f"/v2/<name>/manifests/{reference}").status_code == 202
    for content in (DATA.configs[1], DATA.layer):
        assert deleted(s.request("DELETE", f"/v2/<name>/blobs/{sha256(content)}"))


# --- 03_discovery_test.go ----------------------------------------------------------------


def run_content_discovery(s: Session) -> None:
    s.push_blob(DATA.configs[2])
    s.push_blob(DATA.layer)
    for i in range(4):
        assert s.put_manifest(f"test{i}", DATA.manifests[2]).status_code == 201
    _push_referrers(s)

    tags = tags_of(s)
    assert tags == sorted(tags)
    assert {"test0", "test1", "test2", "test3", "tagtest0"} <= set(tags)
    half = len(tags) // 2
    first_page = tags_of(s, n=str(half))
    assert first_page == tags[:half]
    next_page = tags_of(s, n=str(half), last=first_page[-1])
    assert next_page == tags[half : 2 * half]

    _check_referrers(s)
    _discovery_teardown(s)


def _push_referrers(s: Session) -> None:
    subject = sha256(DATA.manifests[4])
    assert s.push_blob(DATA.empty_json) == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )
    s.push_blob(DATA.ref_blob_a)
    for name, media_type in (
        ("A-config", OCI_MANIFEST),
        ("A-layer", OCI_MANIFEST),
        ("index", OCI_INDEX),
    ):
        content = DATA.referrers[name]
        put = s.put_manifest(sha256(content), content, media_type)
        assert put.status_code == 201, (name, put.text)
        assert put.headers["oci-subject"] == subject
    s.push_blob(DATA.configs[4])
    s.push_blob(DATA.layer)
    assert s.put_manifest("tagtest0", DATA.manifests[4]).status_code == 201
    s.push_blob(DATA.ref_blob_b)
    for name in ("B-config", "B-layer", "C-layer"):
        content = DATA.referrers[name]
        put = s.put_manifest(sha256(content), content)
        assert put.status_code == 201, (name, put.text)
    assert put.headers["oci-subject"] == sha256(DATA.manifests[3])


def _referrers(s: Session, digest: str, **params: str) -> httpx.Response:
    response = s.request("GET", f"/v2/<name>/referrers/{digest}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == OCI_INDEX
    index = response.json()
    assert (index["schemaVersion"], index["mediaType"]) == (2, OCI_INDEX)
    return response


def _check_referrers(s: Session) -> None:
    assert _referrers(s, DUMMY_DIGEST).json()["manifests"] == []

    listed = _referrers(s, sha256(DATA.manifests[4])).json()["manifests"]
    assert len(listed) == 5
    assert len({entry["digest"] for entry in listed}) == 5
    for entry in listed:
        assert entry["annotations"] == {ANNOTATION: DATA.annotations[entry["digest"]]}
    types = {entry["digest"]: entry.get("artifactType") for entry in listed}
    assert types[sha256(DATA.referrers["A-config"])] == TYPE_A  # from config.mediaType
    assert types[sha256(DATA.referrers["A-layer"])] == TYPE_A  # from artifactType
    assert types[sha256(DATA.referrers["index"])] == TYPE_INDEX

    filtered = _referrers(s, sha256(DATA.manifests[4]), artifactType=TYPE_A)
    assert filtered.headers["oci-filters-applied"] == "artifactType"
    assert {entry["digest"] for entry in filtered.json()["manifests"]} == {
        sha256(DATA.referrers["A-config"]),
        sha256(DATA.referrers["A-layer"]),
    }

    orphan = _referrers(s, sha256(DATA.manifests[3])).json()["manifests"]
    assert [entry["digest"] for entry in orphan] == [sha256(DATA.referrers["C-layer"])]


def _discovery_teardown(s: Session) -> None:
    references = [
        sha256(DATA.referrers["index"]),
        sha256(DATA.manifests[2]),
        sha256(DATA.manifests[4]),
        sha256(DATA.referrers["A-config"]),
        sha256(DATA.referrers["A-layer"]),
        "tagtest0",
        sha256(DATA.referrers["B-config"]),
        sha256(DATA.referrers["B-layer"]),
        sha256(DATA.referrers["C-layer"]),
    ]
    for reference in references:
        response = s.request("DELETE", f"/v2/<name>/manifests/{reference}")
        assert deleted(response), (reference, response.text)
    for content in (DATA.configs[2], DATA.layer):
        response = s.request("DELETE", f"/v2/<name>/blobs/{sha256(content)}")
        assert 200 <= response.status_code < 300, response.text
    for content in (DATA.configs[4], DATA.ref_blob_a, DATA.ref_blob_b, DATA.empty_json):
        assert deleted(s.request("DELETE", f"/v2/<name>/blobs/{sha256(content)}"))
    listing = s.request("GET", f"/v2/<name>/referrers/{sha256(DATA.manifests[4])}")
    assert listing.json()["manifests"] == []


# --- 04_management_test.go ---------------------------------------------------------------


def run_content_management(s: Session) -> None:
    s.push_blob(DATA.configs[3])
    s.push_blob(DATA.layer)
    assert s.put_manifest("tagtest0", DATA.manifests[3]).status_code == 201
    before = len(tags_of(s))

    assert s.request("DELETE", "/v2/<name>/manifests/tagtest0").status_code == 202
    digest = sha256(DATA.manifests[3])
    assert s.request("DELETE", f"/v2/<name>/manifests/{digest}").status_code == 202
    gone = s.request("GET", f"/v2/<name>/manifests/{digest}")
    assert gone.status_code == 404
    assert error_codes(gone) == ["MANIFEST_UNKNOWN"]
    assert len(tags_of(s)) < before

    for content in (DATA.configs[3], DATA.layer):
        assert s.request("DELETE", f"/v2/<name>/blobs/{sha256(content)}").status_code == 202
    blob_gone = s.request("GET", f"/v2/<name>/blobs/{sha256(DATA.configs[3])}")
    assert blob_gone.status_code == 404
    assert error_codes(blob_gone) == ["BLOB_UNKNOWN"]


# --- the tests ---------------------------------------------------------------------------


def open_session(registry: InProcessRegistry, name: str = "conformance/ns") -> Session:
    registry.create_repository(name)
    return Session(registry, name, registry.auth)


def test_pull(registry: InProcessRegistry) -> None:
    run_pull(open_session(registry))


def test_push_streamed_and_monolithic(registry: InProcessRegistry) -> None:
    run_push_streamed_and_monolithic(open_session(registry))


def test_push_chunked(registry: InProcessRegistry) -> None:
    run_push_chunked(open_session(registry))


def test_push_cross_repository_mount(registry: InProcessRegistry) -> None:
    s = open_session(registry)
    s.push_blob(DATA.blob_a)
    registry.create_repository("conformance/crossmount")
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")  # opt-in, as in ECR
    run_cross_mount(s, "conformance/crossmount")


def test_push_manifest_upload(registry: InProcessRegistry) -> None:
    s = open_session(registry)
    for content in (DATA.configs[1], DATA.layer):
        s.push_blob(content)
    run_manifest_upload(s)


def test_content_discovery(registry: InProcessRegistry) -> None:
    run_content_discovery(open_session(registry))


def test_content_management(registry: InProcessRegistry) -> None:
    run_content_management(open_session(registry))


def test_whole_suite_on_one_repository(registry: InProcessRegistry) -> None:
    """The four workflows in the suite's order, sharing one repository (and its blobs)."""
    s = open_session(registry)
    registry.create_repository("conformance/crossmount")
    registry.ecr_ok("PutAccountSetting", name="BLOB_MOUNTING", value="ENABLED")  # opt-in, as in ECR
    run_pull(s)
    run_push_streamed_and_monolithic(s)
    run_push_chunked(s)
    run_cross_mount(s, "conformance/crossmount")
    run_manifest_upload(s)
    run_content_discovery(s)
    run_content_management(s)
    assert tags_of(s) == []  # every teardown cleaned up after itself
