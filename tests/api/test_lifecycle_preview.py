"""Start/GetLifecyclePolicyPreview in-process: the job, shapes, errors, filters, pages, and
the bytes a plan would free (`summary.stivaBytesFreed`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from stiva.metadata import models as m
from tests.support.lifecycle import DAY, Lifecycle, clocked_registry, policy, rule

ACCOUNT = "123456789012"
KEEP_ONE = policy(rule(1, "any", "imageCountMoreThan", 1))


@pytest.fixture
def lc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    with clocked_registry(tmp_path / "data", monkeypatch) as handle:
        handle.registry.create_repository("app")
        yield handle


def test_start_echoes_the_text_and_runs_as_a_job(lc: Lifecycle) -> None:
    lc.push("app", "old", "v1")
    lc.clock.advance(DAY)
    lc.push("app", "new", "v2")
    started = lc.call(
        "StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=KEEP_ONE
    )
    assert started == {
        "registryId": ACCOUNT,
        "repositoryName": "app",
        "lifecyclePolicyText": KEEP_ONE,  # as given, not normalised
        "status": "IN_PROGRESS",
    }
    pending = lc.call("GetLifecyclePolicyPreview", repositoryName="app")
    assert pending == {**started, "previewResults": []}
    assert lc.drain() >= 1
    done = lc.call("GetLifecyclePolicyPreview", repositoryName="app")
    assert done["status"] == "COMPLETE"
    assert done["lifecyclePolicyText"] == KEEP_ONE
    assert len(done["previewResults"]) == 1
    assert done["summary"]["expiringImageTotalCount"] == 1


def test_result_shape(lc: Lifecycle) -> None:
    old = lc.push("app", "old", "v1", "stable")
    lc.clock.advance(DAY)
    lc.push("app", "new", "v2")
    got = lc.preview("app", KEEP_ONE)
    pushed = lc.call("DescribeImages", repositoryName="app", imageIds=[{"imageDigest": old}])
    assert got["previewResults"] == [
        {
            "imageDigest": old,
            "imageTags": ["stable", "v1"],
            "imagePushedAt": pushed["imageDetails"][0]["imagePushedAt"],
            "action": {"type": "EXPIRE"},
            "appliedRulePriority": 1,
            "storageClass": "STANDARD",
        }
    ]
    assert "transitioningImageTotalCounts" not in got["summary"]


def test_transitions_are_counted_per_storage_class(lc: Lifecycle) -> None:
    lc.push("app", "a", "a")
    lc.push("app", "b")
    lc.clock.advance(40 * DAY)
    got = lc.preview("app", policy(rule(1, "any", "sinceImagePushed", 30, action="transition")))
    assert {r["action"]["type"] for r in got["previewResults"]} == {"TRANSITION"}
    assert {r["action"]["targetStorageClass"] for r in got["previewResults"]} == {"ARCHIVE"}
    assert got["summary"] == {
        "expiringImageTotalCount": 0,
        "transitioningImageTotalCounts": [{"targetStorageClass": "ARCHIVE", "imageTotalCount": 2}],
        "stivaBytesFreed": 0,  # archiving moves no bytes in Stiva
    }


def test_a_transitioning_index_shows_the_children_it_carries(lc: Lifecycle) -> None:
    """The preview names what the sweep will archive: an index takes its children along."""
    amd, arm = lc.push("app", "amd"), lc.push("app", "arm")
    index = lc.index("app", amd, arm, tag="multi")
    lc.clock.advance(40 * DAY)
    text = policy(
        rule(1, "tagged", "sinceImagePushed", 30, prefixes=["multi"], action="transition")
    )
    got = lc.preview("app", text)
    assert {r["imageDigest"]: r["appliedRulePriority"] for r in got["previewResults"]} == {
        index: 1,
        amd: 1,
        arm: 1,
    }
    assert got["summary"]["transitioningImageTotalCounts"] == [
        {"targetStorageClass": "ARCHIVE", "imageTotalCount": 3}
    ]


def test_no_matches_is_empty_and_complete(lc: Lifecycle) -> None:
    lc.push("app", "only", "v1")
    got = lc.preview("app", KEEP_ONE)
    assert got["status"] == "COMPLETE"
    assert got["previewResults"] == []
    assert got["summary"] == {"expiringImageTotalCount": 0, "stivaBytesFreed": 0}


def test_stored_policy_is_used_without_text(lc: Lifecycle) -> None:
    assert lc.error("StartLifecyclePolicyPreview", repositoryName="app") == (
        "LifecyclePolicyNotFoundException",
        f"Lifecycle policy does not exist for the repository with name 'app' in the registry "
        f"with id '{ACCOUNT}'",
    )
    stored = lc.call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=KEEP_ONE)
    started = lc.call("StartLifecyclePolicyPreview", repositoryName="app")
    assert started["lifecyclePolicyText"] == stored["lifecyclePolicyText"]


def test_one_preview_at_a_time(lc: Lifecycle) -> None:
    lc.call("StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=KEEP_ONE)
    assert lc.error(
        "StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=KEEP_ONE
    ) == (
        "LifecyclePolicyPreviewInProgressException",
        "The previous lifecycle policy preview request has not completed for the repository "
        f"with name 'app' in the registry with id '{ACCOUNT}'. Wait and try again.",
    )
    lc.drain()
    other = policy(rule(1, "untagged", "imageCountMoreThan", 5))
    lc.call("StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=other)
    assert lc.call("GetLifecyclePolicyPreview", repositoryName="app")["status"] == "IN_PROGRESS"
    lc.drain()
    assert (
        lc.call("GetLifecyclePolicyPreview", repositoryName="app")["lifecyclePolicyText"] == other
    )


def test_no_preview_answers_not_found(lc: Lifecycle) -> None:
    assert lc.error("GetLifecyclePolicyPreview", repositoryName="app") == (
        "LifecyclePolicyPreviewNotFoundException",
        f"Lifecycle policy preview does not exist for the repository with name 'app' in the "
        f"registry with id '{ACCOUNT}'",
    )


def test_a_preview_whose_job_died_reads_failed_and_can_restart(lc: Lifecycle) -> None:
    lc.call("StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=KEEP_ONE)
    with lc.ctx.db.write() as session:  # the job gave up without recording anything
        session.execute(update(m.Job).values(status="failed", dedup_key=None))
    assert lc.call("GetLifecyclePolicyPreview", repositoryName="app")["status"] == "FAILED"
    lc.call("StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=KEEP_ONE)
    lc.drain()
    assert lc.call("GetLifecyclePolicyPreview", repositoryName="app")["status"] == "COMPLETE"


def test_preview_changes_nothing(lc: Lifecycle) -> None:
    lc.push("app", "a", "a")
    lc.push("app", "b", "b")
    got = lc.preview("app", KEEP_ONE)
    assert got["summary"]["expiringImageTotalCount"] == 1
    listed = lc.call("ListImages", repositoryName="app")["imageIds"]
    assert len(listed) == 2


# --- filters and pages -----------------------------------------------------------------------


@pytest.fixture
def seven(lc: Lifecycle) -> dict[str, str]:
    """Seven images one day apart, the newest kept: 3 tagged and 3 untagged would expire."""
    digests = {}
    for i in range(7):
        tags = (f"t{i}",) if i % 2 == 0 else ()
        digests[f"i{i}"] = lc.push("app", f"seed {i}", *tags)
        lc.clock.advance(DAY)
    return digests


def test_filter_by_tag_status(lc: Lifecycle, seven: dict[str, str]) -> None:
    lc.preview("app", KEEP_ONE)
    every = lc.call("GetLifecyclePolicyPreview", repositoryName="app")["previewResults"]
    assert len(every) == 6
    for status, expected in [("TAGGED", 3), ("UNTAGGED", 3), ("ANY", 6)]:
        got = lc.call(
            "GetLifecyclePolicyPreview", repositoryName="app", filter={"tagStatus": status}
        )
        assert len(got["previewResults"]) == expected
        assert got["summary"]["expiringImageTotalCount"] == 6  # the summary is the whole plan
        if status != "ANY":
            tagged = {bool(r.get("imageTags")) for r in got["previewResults"]}
            assert tagged == {status == "TAGGED"}


def test_filter_by_image_ids(lc: Lifecycle, seven: dict[str, str]) -> None:
    lc.preview("app", KEEP_ONE)
    got = lc.call(
        "GetLifecyclePolicyPreview",
        repositoryName="app",
        imageIds=[{"imageDigest": seven["i1"]}, {"imageTag": "t2"}, {"imageTag": "t6"}],
    )
    assert {r["imageDigest"] for r in got["previewResults"]} == {seven["i1"], seven["i2"]}
    assert "nextToken" not in got
    code, message = lc.error(
        "GetLifecyclePolicyPreview",
        repositoryName="app",
        imageIds=[{"imageTag": "t2"}],
        maxResults=2,
    )
    assert code == "InvalidParameterException"
    assert "imageIds" in message
    for empty_or_bad, text in (
        ({}, "both tag and digest cannot be null"),  # would match every result
        ({"imageDigest": "sha256:zz"}, "image digest should satisfy the regex"),
    ):
        code, message = lc.error(
            "GetLifecyclePolicyPreview", repositoryName="app", imageIds=[empty_or_bad]
        )
        assert (code, text in message) == ("InvalidParameterException", True), message


def test_pages_with_max_results_and_next_token(lc: Lifecycle, seven: dict[str, str]) -> None:
    lc.preview("app", KEEP_ONE)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"maxResults": 4, **({"nextToken": token} if token else {})}
        got = lc.call("GetLifecyclePolicyPreview", repositoryName="app", **params)
        seen += [r["imageDigest"] for r in got["previewResults"]]
        pages += 1
        token = got.get("nextToken")
        if not token:
            break
    assert pages == 2
    assert sorted(seen) == sorted(d for k, d in seven.items() if k != "i6")


def test_tokens_belong_to_their_preview(lc: Lifecycle, seven: dict[str, str]) -> None:
    lc.preview("app", KEEP_ONE)
    token = lc.call("GetLifecyclePolicyPreview", repositoryName="app", maxResults=2)["nextToken"]
    lc.clock.advance(DAY)
    lc.preview("app", KEEP_ONE)
    code, message = lc.error("GetLifecyclePolicyPreview", repositoryName="app", nextToken=token)
    assert code == "InvalidParameterException"
    assert "earlier preview" in message
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert lc.error("GetLifecyclePolicyPreview", repositoryName="app", nextToken=forged)[0] == (
        "InvalidParameterException"
    )


def test_max_results_bounds_come_from_the_model(lc: Lifecycle) -> None:
    for bad in (0, 101):
        response = lc.registry.ecr(
            "GetLifecyclePolicyPreview", repositoryName="app", maxResults=bad
        )
        assert response.status_code == 400


# --- bytes freed -----------------------------------------------------------------------------


def _size(data: list[bytes], seed: str) -> int:
    """Bytes of an image's config and layers as `Lifecycle.image_doc` builds them."""
    config = f'{{"architecture": "amd64", "os": "linux", "seed": "{seed}"}}'.encode()
    return len(config) + sum(len(d) for d in data)


def test_bytes_freed_counts_shared_layers_once_and_spares_survivors(lc: Lifecycle) -> None:
    base = b"base layer " * 100  # in every image: the survivor keeps it
    shared = b"shared by the doomed " * 50  # in both expiring images only: freed once
    own_a, own_b = b"only a " * 30, b"only b " * 40
    lc.push("app", "a", "a", layers=[base, shared, own_a])
    lc.push("app", "b", "b", layers=[base, shared, own_b])
    lc.clock.advance(DAY)
    lc.push("app", "keep", "keep", layers=[base])
    got = lc.preview("app", KEEP_ONE)
    assert got["summary"]["expiringImageTotalCount"] == 2
    configs = _size([], "a") + _size([], "b")
    assert got["summary"]["stivaBytesFreed"] == configs + len(shared) + len(own_a) + len(own_b)


def test_bytes_freed_spares_blobs_other_repositories_use(lc: Lifecycle) -> None:
    common = b"used elsewhere too " * 64
    lc.push("app", "old", "old", layers=[common, b"mine"])
    lc.clock.advance(DAY)
    lc.push("app", "new", "new", layers=[b"new layer"])
    lc.registry.create_repository("other")
    lc.push("other", "elsewhere", "x", layers=[common])
    got = lc.preview("app", KEEP_ONE)
    assert got["summary"]["stivaBytesFreed"] == _size([b"mine"], "old")
