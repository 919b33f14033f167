"""Content discovery on `/v2/`: the base endpoint, tag and catalog listing with `n`/`last`/`Link`,
referrers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import httpx2 as httpx
import pytest

from stiva.api.oci import discovery
from tests.api.test_iam_helpers import allow, iam, new_user_keys, policy
from tests.support.registry import InProcessRegistry

REPO = "discovery/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
SBOM = "application/vnd.example.sbom"
SIGNATURE = "application/vnd.example.signature"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def codes(response: httpx.Response) -> list[str]:
    return [entry["code"] for entry in response.json()["errors"]]


class Repo:
    def __init__(self, registry: InProcessRegistry, name: str = REPO) -> None:
        registry.create_repository(name)
        self.registry = registry
        self.auth = registry.auth
        self.name = name

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.registry.client.get(
            path.replace("<name>", self.name), headers=self.auth, params=params or None
        )

    def tag(self, tag: str) -> str:
        return self.registry.push_image(self.name, tag, self.auth, layers=[b"shared layer"])[0]

    def put(self, doc: dict[str, Any], media_type: str = OCI_MANIFEST) -> httpx.Response:
        raw = json.dumps(doc).encode()
        return self.registry.client.put(
            f"/v2/{self.name}/manifests/{sha256(raw)}",
            headers={**self.auth, "Content-Type": media_type},
            content=raw,
        )


@pytest.fixture
def repo(registry: InProcessRegistry) -> Repo:
    return Repo(registry)


# --- base endpoint -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v2/", "/v2"])
def test_base_endpoint_answers_200_to_authenticated_clients(
    registry: InProcessRegistry, path: str
) -> None:
    response = registry.client.get(path, headers=registry.auth)
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert registry.client.head(path, headers=registry.auth).status_code == 200


# --- tags ----------------------------------------------------------------------------------

TAGS = ["a", "b", "c", "d", "e"]


def tags_page(repo: Repo, **params: str) -> httpx.Response:
    response = repo.get("/v2/<name>/tags/list", **params)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == repo.name
    return response


def test_tags_are_listed_in_lexical_order(repo: Repo) -> None:
    for tag in ["d", "a", "e", "c", "b"]:
        repo.tag(tag)
    response = tags_page(repo)
    assert response.json()["tags"] == TAGS
    assert "link" not in response.headers


def test_tag_pages_follow_the_link_header(repo: Repo) -> None:
    for tag in TAGS:
        repo.tag(tag)
    first = tags_page(repo, n="2")
    assert first.json()["tags"] == ["a", "b"]
    assert first.headers["link"] == f'</v2/{REPO}/tags/list?n=2&last=b>; rel="next"'
    second = repo.get(first.headers["link"].split(">")[0][1:])
    assert second.json()["tags"] == ["c", "d"]
    third = tags_page(repo, n="2", last="d")
    assert third.json()["tags"] == ["e"]
    assert "link" not in third.headers  # nothing after the last page
    exact = tags_page(repo, n="5")
    assert exact.json()["tags"] == TAGS
    assert "link" not in exact.headers


def test_tags_with_last_alone_and_with_n_zero(repo: Repo) -> None:
    for tag in TAGS:
        repo.tag(tag)
    assert tags_page(repo, last="b").json()["tags"] == ["c", "d", "e"]
    assert tags_page(repo, last="zzz").json()["tags"] == []
    zero = tags_page(repo, n="0")
    assert zero.json()["tags"] == []
    assert "link" not in zero.headers


def test_empty_repository_lists_no_tags(repo: Repo) -> None:
    assert tags_page(repo).json()["tags"] == []


@pytest.mark.parametrize("n", ["10000000000", "9" * 5000, "00000000000002"])
def test_huge_page_sizes_are_taken(repo: Repo, n: str) -> None:
    for tag in TAGS:
        repo.tag(tag)
    response = tags_page(repo, n=n)
    expected = TAGS[: int(n)] if len(n) < 20 else TAGS
    assert response.json()["tags"] == expected
    assert ("link" in response.headers) == (len(expected) < len(TAGS))


def test_page_size_past_what_one_response_holds_follows_links(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "TAGS_PAGE", 2)
    for tag in TAGS:
        repo.tag(tag)
    first = tags_page(repo, n="10000000000")
    assert first.json()["tags"] == ["a", "b"]
    assert first.headers["link"] == f'</v2/{REPO}/tags/list?n=2&last=b>; rel="next"'
    assert tags_page(repo).json()["tags"] == TAGS  # without n: every tag, as before


def test_catalog_takes_a_huge_page_size(registry: InProcessRegistry) -> None:
    for name in ("catalog/a", "catalog/b"):
        registry.create_repository(name)
    response = registry.client.get(
        "/v2/_catalog", params={"n": "10000000000"}, headers=registry.auth
    )
    assert response.status_code == 200, response.text
    assert response.json()["repositories"] == ["catalog/a", "catalog/b"]
    assert "link" not in response.headers
    page = registry.client.get(
        "/v2/_catalog", params={"n": "1", "last": "catalog/a"}, headers=registry.auth
    )
    assert page.json()["repositories"] == ["catalog/b"]
    bad = registry.client.get("/v2/_catalog", params={"n": "x"}, headers=registry.auth)
    assert (bad.status_code, codes(bad)) == (400, ["UNSUPPORTED"])


@pytest.mark.parametrize("n", ["-1", "ten", "1.5", "²", "1e3", " 5"])
def test_bad_page_size_is_400(repo: Repo, n: str) -> None:
    response = repo.get("/v2/<name>/tags/list", n=n)
    assert response.status_code == 400
    assert codes(response) == ["UNSUPPORTED"]


# --- referrers -----------------------------------------------------------------------------


def artifact(repo: Repo, subject: str, *, kind: str | None, note: str) -> dict[str, Any]:
    subject_raw = repo.get(f"/v2/<name>/manifests/{subject}").content
    empty = repo.registry.push_blob(repo.name, b"{}", repo.auth)
    payload = repo.registry.push_blob(repo.name, note.encode(), repo.auth)
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [{"mediaType": kind or OCI_EMPTY, "digest": payload, "size": len(note)}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(subject_raw)},
        "annotations": {"note": note},
    }
    if kind is not None:
        doc["artifactType"] = kind
    return doc


def referrers(repo: Repo, digest: str, **params: str) -> httpx.Response:
    response = repo.get(f"/v2/<name>/referrers/{digest}", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == OCI_INDEX
    body = response.json()
    assert (body["schemaVersion"], body["mediaType"]) == (2, OCI_INDEX)
    return response


def test_referrers_list_describes_each_referrer(repo: Repo) -> None:
    subject = repo.tag("v1")
    sbom = artifact(repo, subject, kind=SBOM, note="sbom")
    untyped = artifact(repo, subject, kind=None, note="untyped")
    pushed = {}
    for doc in (sbom, untyped):
        response = repo.put(doc)
        assert response.status_code == 201
        assert response.headers["oci-subject"] == subject
        pushed[response.headers["docker-content-digest"]] = doc
    listed = referrers(repo, subject).json()["manifests"]
    assert "oci-filters-applied" not in referrers(repo, subject).headers
    by_digest = {entry["digest"]: entry for entry in listed}
    assert set(by_digest) == set(pushed)
    for digest, doc in pushed.items():
        entry = by_digest[digest]
        assert entry["mediaType"] == OCI_MANIFEST
        assert entry["size"] == len(json.dumps(doc).encode())
        assert entry["annotations"] == doc["annotations"]
        # artifactType, else the config's media type (the empty config here)
        assert entry["artifactType"] == doc.get("artifactType", OCI_EMPTY)


def test_referrers_filtered_by_artifact_type(repo: Repo) -> None:
    subject = repo.tag("v1")
    for kind, note in ((SBOM, "sbom"), (SIGNATURE, "signature 1"), (SIGNATURE, "signature 2")):
        assert repo.put(artifact(repo, subject, kind=kind, note=note)).status_code == 201
    assert len(referrers(repo, subject).json()["manifests"]) == 3
    filtered = referrers(repo, subject, artifactType=SIGNATURE)
    assert filtered.headers["oci-filters-applied"] == "artifactType"
    entries = filtered.json()["manifests"]
    assert len(entries) == 2
    assert {entry["artifactType"] for entry in entries} == {SIGNATURE}
    none = referrers(repo, subject, artifactType="application/vnd.example.none")
    assert none.json()["manifests"] == []
    assert none.headers["oci-filters-applied"] == "artifactType"


def test_index_referrer_without_artifact_type_omits_it(repo: Repo) -> None:
    subject = repo.tag("v1")
    child = repo.tag("child")
    child_raw = repo.get(f"/v2/<name>/manifests/{child}").content
    subject_raw = repo.get(f"/v2/<name>/manifests/{subject}").content
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": len(child_raw)}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(subject_raw)},
    }
    response = repo.put(index, OCI_INDEX)
    assert response.status_code == 201, response.text
    assert response.headers["oci-subject"] == subject
    [entry] = referrers(repo, subject).json()["manifests"]
    assert entry["mediaType"] == OCI_INDEX
    assert "artifactType" not in entry
    assert "annotations" not in entry


def test_referrers_of_unknown_or_deleted_subjects(repo: Repo) -> None:
    assert referrers(repo, sha256(b"nothing")).json()["manifests"] == []
    subject = repo.tag("v1")
    pushed = repo.put(artifact(repo, subject, kind=SBOM, note="gone soon"))
    referrer = pushed.headers["docker-content-digest"]
    assert len(referrers(repo, subject).json()["manifests"]) == 1
    deleted = repo.registry.client.delete(f"/v2/{REPO}/manifests/{referrer}", headers=repo.auth)
    assert deleted.status_code == 202
    assert referrers(repo, subject).json()["manifests"] == []


def test_referrer_of_a_missing_subject_is_accepted(repo: Repo) -> None:
    subject = repo.tag("v1")
    doc = artifact(repo, subject, kind=SBOM, note="orphan")
    ghost = sha256(b"a manifest never pushed")
    doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": ghost, "size": 123}
    response = repo.put(doc)
    assert response.status_code == 201
    assert response.headers["oci-subject"] == ghost
    assert [e["digest"] for e in referrers(repo, ghost).json()["manifests"]] == [
        response.headers["docker-content-digest"]
    ]


@pytest.mark.parametrize("bad", ["sha256:nope", "not-a-digest", "sha256:" + "A" * 64])
def test_referrers_of_an_invalid_digest_is_400(repo: Repo, bad: str) -> None:
    response = repo.get(f"/v2/<name>/referrers/{bad}")
    assert response.status_code == 400
    assert codes(response) == ["DIGEST_INVALID"]


def test_referrers_of_an_unknown_repository_is_an_empty_index(
    registry: InProcessRegistry,
) -> None:
    """Not 404: clients read a 404 as "no referrers API" and fall back to the tag schema."""
    path = f"/v2/discovery/none/referrers/{sha256(b'x')}"
    response = registry.client.get(path, headers=registry.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    filtered = registry.client.get(path, params={"artifactType": SBOM}, headers=registry.auth)
    assert filtered.json()["manifests"] == []
    assert filtered.headers["oci-filters-applied"] == "artifactType"


def test_referrers_of_an_unknown_repository_still_need_authorization(
    registry: InProcessRegistry,
) -> None:
    users = iam(registry)
    stranger = new_user_keys(users, "stranger")
    users.call(
        "PutUserPolicy",
        UserName="stranger",
        PolicyName="p",
        PolicyDocument=policy(allow("ecr:GetAuthorizationToken")),
    )
    as_stranger = replace(
        registry,
        access_key_id=stranger.access_key_id,
        secret_access_key=stranger.secret_access_key,
    )
    response = as_stranger.client.get(
        f"/v2/discovery/none/referrers/{sha256(b'x')}", headers=as_stranger.auth
    )
    assert response.status_code == 403, response.text
    assert codes(response) == ["DENIED"]
