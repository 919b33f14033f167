"""Replication in-process: configuration validation and limits, DescribeRegistry, the outbox,
local (same region, other account) metadata-only copies, status, deleteReplication, backfill."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stiva.admin import create_account
from stiva.app import make_worker
from stiva.metadata import models as m
from stiva.services.context import RegistryContext
from tests.support.registry import InProcessRegistry, in_process_registry

OTHER = "222233334444"
PEER = {
    "region": "eu-west-1",
    "endpoint": "http://127.0.0.1:9",
    "access_key_id": "AKIAEXAMPLEEXAMPLE00",
    "secret_access_key": "not-a-real-secret",
}


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[InProcessRegistry]:
    overrides: dict[str, Any] = {
        "workers": {"enabled": False},
        "replication": {"peers": [PEER], "backoff_seconds": 0.01, "max_backoff_seconds": 0.02},
    }
    with in_process_registry(tmp_path / "data", **overrides) as handle:
        create_account(handle.settings, account_id=OTHER)
        yield handle


def _ctx(reg: InProcessRegistry) -> RegistryContext:
    ctx: RegistryContext = reg.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def _drain(reg: InProcessRegistry) -> int:
    return make_worker(_ctx(reg), reg.settings).drain()


def _config(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


def _rule(*destinations: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"destinations": [{"region": r, "registryId": a} for r, a in destinations], **extra}


def _put(reg: InProcessRegistry, config: dict[str, Any]) -> Any:
    return reg.ecr("PutReplicationConfiguration", replicationConfiguration=config)


def test_configuration_round_trips_through_describe_registry(reg: InProcessRegistry) -> None:
    config = _config(
        _rule(
            ("eu-west-1", reg.account_id),
            ("us-east-1", OTHER),
            repositoryFilters=[{"filter": "prod", "filterType": "PREFIX_MATCH"}],
            deleteReplication={"enabled": True},
        )
    )
    response = _put(reg, config)
    assert response.status_code == 200, response.text
    assert response.json()["replicationConfiguration"] == config
    described = reg.ecr_ok("DescribeRegistry")
    assert described["registryId"] == reg.account_id
    assert described["replicationConfiguration"] == config
    assert _put(reg, _config()).status_code == 200
    assert reg.ecr_ok("DescribeRegistry")["replicationConfiguration"] == {"rules": []}


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        (_config(_rule(("us-east-1", "123456789012"))), "is this registry itself"),
        (_config(_rule(("ap-south-1", OTHER))), "not reachable from this deployment"),
        (_config(*[_rule(("us-east-1", OTHER))] * 11), "at most 10 rules"),
        (
            _config(
                *[
                    _rule(*[("us-east-1", f"{n:012d}") for n in range(i * 5, i * 5 + 5)])
                    for i in range(6)
                ]
            ),
            "at most 25 unique destinations",
        ),
    ],
)
def test_invalid_configurations_are_refused(
    reg: InProcessRegistry, config: dict[str, Any], needle: str
) -> None:
    response = _put(reg, config)
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "InvalidParameterException"
    assert needle in response.json()["message"]


def test_filter_type_and_pattern_follow_the_model(reg: InProcessRegistry) -> None:
    bad_type = _rule(("us-east-1", OTHER), repositoryFilters=[{"filter": "pr", "filterType": "X"}])
    assert _put(reg, _config(bad_type)).status_code == 400
    bad_pattern = _rule(("us-east-1", OTHER), repositoryFilters=[{"filter": "Prod!"}])
    response = reg.ecr_raw(
        "PutReplicationConfiguration",
        json.dumps({"replicationConfiguration": _config(bad_pattern)}).encode(),
    )
    assert response.status_code == 400


def test_tag_filter_extension_is_stored_and_applied(reg: InProcessRegistry) -> None:
    rule = _rule(("us-east-1", OTHER), stivaTagFilters=[{"filter": "release-"}])
    response = _put(reg, _config(rule))
    assert response.status_code == 200, response.text
    stored = reg.ecr_ok("DescribeRegistry")["replicationConfiguration"]["rules"][0]
    assert stored["stivaTagFilters"] == [{"filter": "release-", "filterType": "PREFIX_MATCH"}]
    _allow_source(reg)
    reg.create_repository("app")
    skipped, _ = reg.push_image("app", "dev-1", reg.auth)
    wanted, _ = reg.push_image("app", "release-1", reg.auth)
    _drain(reg)
    status = _status(reg, "app", skipped)
    assert status == []
    assert _status(reg, "app", wanted) == [
        {"region": "us-east-1", "registryId": OTHER, "status": "COMPLETE"}
    ]


def _status(reg: InProcessRegistry, name: str, digest: str) -> list[dict[str, Any]]:
    result = reg.ecr_ok(
        "DescribeImageReplicationStatus", repositoryName=name, imageId={"imageDigest": digest}
    )
    return result["replicationStatuses"]  # type: ignore[no-any-return]


def _other(reg: InProcessRegistry, operation: str, **params: Any) -> Any:
    return reg.ecr(operation, registryId=OTHER, **params)


def test_same_account_local_copy_needs_registry_policy(reg: InProcessRegistry) -> None:
    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    reg.create_repository("team/app")
    digest, raw = reg.push_image("team/app", "v1", reg.auth)
    _drain(reg)
    [failed] = _status(reg, "team/app", digest)
    assert failed["status"] == "FAILED"
    assert failed["failureCode"] == "REPLICATION_ACCESS_DENIED"

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{reg.account_id}:root"},
                "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
                "Resource": f"arn:aws:ecr:us-east-1:{OTHER}:repository/*",
            }
        ],
    }
    _put_other_registry_policy(reg, policy)
    reg.push_image("team/app", "v1", reg.auth)  # a re-push opens the delivery again
    _drain(reg)
    assert _status(reg, "team/app", digest)[0]["status"] == "COMPLETE"
    pulled = _pull_as_other(reg, "team/app", "v1")
    assert pulled == raw


def _put_other_registry_policy(reg: InProcessRegistry, policy: dict[str, Any]) -> None:
    ctx = _ctx(reg)
    from stiva.services import policies

    with ctx.db.write() as session:
        policies.put_registry_policy(session, account_id=OTHER, policy_text=json.dumps(policy))


def _allow_source(reg: InProcessRegistry) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{reg.account_id}:root"},
        "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
        "Resource": "*",
    }
    _put_other_registry_policy(reg, {"Version": "2012-10-17", "Statement": [statement]})


def _pull_as_other(reg: InProcessRegistry, name: str, reference: str) -> bytes:
    ctx = _ctx(reg)
    from stiva.services import manifests

    with ctx.db.read() as session:
        return manifests.resolve(session, account_id=OTHER, name=name, reference=reference).content


def test_describe_status_of_unknown_image(reg: InProcessRegistry) -> None:
    reg.create_repository("app")
    response = reg.ecr(
        "DescribeImageReplicationStatus", repositoryName="app", imageId={"imageTag": "nope"}
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "ImageNotFoundException"


def test_push_to_peer_region_is_enqueued_in_the_push(reg: InProcessRegistry) -> None:
    assert _put(reg, _config(_rule(("eu-west-1", reg.account_id)))).status_code == 200
    reg.create_repository("app")
    digest, _ = reg.push_image("app", "v1", reg.auth)
    assert _status(reg, "app", digest) == [
        {"region": "eu-west-1", "registryId": reg.account_id, "status": "IN_PROGRESS"}
    ]


def _retag(reg: InProcessRegistry, name: str, raw: bytes, tag: str) -> None:
    response = reg.client.put(
        f"/v2/{name}/manifests/{tag}",
        content=raw,
        headers={**reg.auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert response.status_code == 201, response.text


def test_backfill_copies_existing_images(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stiva.services.replication import backfill

    monkeypatch.setattr(backfill, "PREPARE_BATCH", 2)  # five images: three preparing steps
    reg.create_repository("old")
    pushed = [reg.push_image("old", f"v{i}", reg.auth) for i in range(3)]
    before = [digest for digest, _raw in pushed]
    for tag in ("stable", "latest"):  # the first image has three tags
        _retag(reg, "old", pushed[0][1], tag)
    untagged, _ = reg.push_image("old", "moving", reg.auth, layers=[b"first"])
    reg.push_image("old", "moving", reg.auth, layers=[b"second"])  # the tag moved on
    before += [
        untagged,
        reg.ecr_ok("DescribeImages", repositoryName="old", imageIds=[{"imageTag": "moving"}])[
            "imageDetails"
        ][0]["imageDigest"],
    ]
    _allow_source(reg)
    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    assert _status(reg, "old", before[0]) == []
    destination = {"region": "us-east-1", "registryId": OTHER}
    started = reg.ecr_ok("StartReplicationBackfill", destination=destination)
    assert started["status"] == "PREPARING"
    backfill_id = started["replicationBackfillId"]
    again = reg.ecr("StartReplicationBackfill", destination=destination)
    assert again.json()["__type"] == "ReplicationBackfillInProgressException"
    deadline = time.monotonic() + 20
    while True:  # the backfill job re-checks its deliveries every second
        _drain(reg)
        result = reg.ecr_ok("DescribeReplicationBackfillResults", replicationBackfillId=backfill_id)
        if result["status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result["status"] == "COMPLETE"
    assert result["progress"] == {  # image+tag pairs: 3 + 1 + 1 + 1 tagged, 1 untagged
        "totalReplicationCount": 7,
        "completedReplicationCount": 7,
        "failedReplicationCount": 0,
        "failureCodes": [],
    }
    assert sorted(r["imageId"]["imageDigest"] for r in result["results"]) == sorted(before)
    listed = reg.ecr_ok("ListReplicationBackfills")["backfills"]
    assert [b["replicationBackfillId"] for b in listed] == [backfill_id]
    stop = reg.ecr("StopReplicationBackfill", replicationBackfillId=backfill_id)
    assert stop.json()["__type"] == "ReplicationBackfillInvalidStatusException"
    missing = reg.ecr(
        "StopReplicationBackfill", replicationBackfillId="00000000-0000-0000-0000-000000000000"
    )
    assert missing.json()["__type"] == "ReplicationBackfillNotFoundException"
    for digest in before:
        assert _status(reg, "old", digest)[0]["status"] == "COMPLETE"
    _retag(reg, "old", pushed[1][1], "again")  # re-opens that image's delivery
    later = reg.ecr_ok("DescribeReplicationBackfillResults", replicationBackfillId=backfill_id)
    assert later["progress"] == result["progress"]  # a finished backfill's counts stay


def _backfill_to_the_end(reg: InProcessRegistry, destination: dict[str, str]) -> dict[str, Any]:
    backfill_id = reg.ecr_ok("StartReplicationBackfill", destination=destination)[
        "replicationBackfillId"
    ]
    return _backfill_result(reg, backfill_id)


def _backfill_result(reg: InProcessRegistry, backfill_id: str) -> dict[str, Any]:
    """Drain the worker until the backfill ends (or 20 s pass); its results."""
    deadline = time.monotonic() + 20
    while True:  # the backfill job re-checks its deliveries every second
        _drain(reg)
        result = reg.ecr_ok("DescribeReplicationBackfillResults", replicationBackfillId=backfill_id)
        if result["status"] not in ("PREPARING", "IN_PROGRESS") or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_backfill_fails_when_half_the_image_tag_pairs_fail(reg: InProcessRegistry) -> None:
    """ECR's rule counts image+tag pairs: two refused single-tag images against one image with
    three tags is 2 of 5 (COMPLETE), though it is 2 of 3 images."""
    reg.create_repository("tagged")
    _digest, raw = reg.push_image("tagged", "v1", reg.auth)
    for tag in ("v2", "v3"):
        _retag(reg, "tagged", raw, tag)
    reg.create_repository("refused")
    for tag in ("a", "b"):
        reg.push_image("refused", tag, reg.auth)
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{reg.account_id}:root"},
        "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
        "Resource": f"arn:aws:ecr:*:{OTHER}:repository/tagged",
    }
    _put_other_registry_policy(reg, {"Version": "2012-10-17", "Statement": [statement]})
    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    destination = {"region": "us-east-1", "registryId": OTHER}
    result = _backfill_to_the_end(reg, destination)
    assert result["status"] == "COMPLETE", result
    assert result["progress"] == {
        "totalReplicationCount": 5,
        "completedReplicationCount": 3,
        "failedReplicationCount": 2,
        "failureCodes": ["REPLICATION_ACCESS_DENIED"],
    }
    refused = [r for r in result["results"] if r["status"] == "FAILED"]
    assert [r["repositoryName"] for r in refused] == ["refused", "refused"]
    reg.push_image("refused", "c", reg.auth)  # now 3 of 6 fail: half
    result = _backfill_to_the_end(reg, destination)
    assert result["status"] == "FAILED", result
    assert result["failureCode"] == "REPLICATION_FAILURES"
    assert result["progress"]["failedReplicationCount"] == 3


def test_a_backfill_step_run_twice_prepares_each_image_once(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step's job re-run (a crash between the step's commit and the job's completion) finds
    the images it prepared and goes on: no image gets two items, progress counts each once."""
    from datetime import timedelta

    from stiva.services import jobs
    from stiva.services.replication import backfill

    monkeypatch.setattr(backfill, "PREPARE_BATCH", 2)
    reg.create_repository("old")
    for i in range(5):
        reg.push_image("old", f"v{i}", reg.auth, layers=[f"rerun {i}".encode()])
    _allow_source(reg)
    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    destination = {"region": "us-east-1", "registryId": OTHER}
    backfill_id = reg.ecr_ok("StartReplicationBackfill", destination=destination)[
        "replicationBackfillId"
    ]
    ctx = _ctx(reg)
    with ctx.db.write() as session:
        job = jobs.claim(
            session, kinds=[backfill.JOB_KIND], owner="crashed", lease=timedelta(seconds=60)
        )
    assert job is not None
    backfill.run_backfill(ctx, job)  # the first batch, and the next step queued
    backfill.run_backfill(ctx, job)  # the same job again: the next batch, not the first again
    with ctx.db.read() as session:
        items = session.scalars(
            select(m.ReplicationBackfillItem.image_digest).where(
                m.ReplicationBackfillItem.backfill_id == backfill_id
            )
        ).all()
        assert len(items) == len(set(items)) == 4
    result = _backfill_result(reg, backfill_id)
    assert result["progress"]["totalReplicationCount"] == 5


def test_a_stop_never_overwrites_the_end_of_a_backfill(reg: InProcessRegistry) -> None:
    """The job's step holds the backfill's row: a stop arriving meanwhile waits, then finds the
    backfill ended (and says so) instead of leaving it STOPPING with no job to finish it."""
    import threading

    from stiva.errors import ReplicationBackfillInvalidStatus
    from stiva.services.replication import backfill

    reg.create_repository("old")
    reg.push_image("old", "v1", reg.auth)
    _allow_source(reg)
    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    started = reg.ecr_ok(
        "StartReplicationBackfill", destination={"region": "us-east-1", "registryId": OTHER}
    )
    backfill_id = started["replicationBackfillId"]
    ctx = _ctx(reg)
    outcome: list[object] = []

    def stop() -> None:
        try:
            with ctx.db.write() as session:
                backfill.stop_backfill(session, account_id=reg.account_id, backfill_id=backfill_id)
            outcome.append("stopped")
        except ReplicationBackfillInvalidStatus as exc:
            outcome.append(exc)

    with ctx.db.write() as session:  # a job step ending the backfill
        row = backfill.get_backfill(
            session, account_id=reg.account_id, backfill_id=backfill_id, lock=True
        )
        row.status = "COMPLETE"
        stopper = threading.Thread(target=stop)
        stopper.start()
        stopper.join(timeout=1)
        assert stopper.is_alive()  # waiting for the step's row
    stopper.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ReplicationBackfillInvalidStatus)
    with ctx.db.read() as session:
        final = backfill.get_backfill(session, account_id=reg.account_id, backfill_id=backfill_id)
        assert final.status == "COMPLETE"


def test_pushes_reopening_one_delivery_each_count_a_generation(reg: InProcessRegistry) -> None:
    """A delivery re-opened by two pushes at once ends two generations on: an attempt that
    read the older tags can never be recorded as the newer push's delivery."""
    import threading

    from stiva.services.replication import outbox
    from stiva.services.replication.rules import Destination

    reg.create_repository("app")
    digest, _ = reg.push_image("app", "v1", reg.auth)
    ctx = _ctx(reg)
    where = Destination("us-east-1", OTHER)

    def reopen() -> int:
        with ctx.db.write() as session:
            row = outbox.open_delivery(
                session, account_id=reg.account_id, name="app", digest=digest, destination=where
            )
            return row.generation

    first = reopen()
    with ctx.db.write() as session:
        outbox.open_delivery(
            session, account_id=reg.account_id, name="app", digest=digest, destination=where
        )
        racing = threading.Thread(target=reopen)
        racing.start()
        racing.join(timeout=1)
    racing.join(timeout=30)
    with ctx.db.read() as session:
        rows = session.scalars(select(m.ReplicationDelivery)).all()
        assert [row.generation for row in rows] == [first + 2]


def test_delete_replication_removes_at_destination(reg: InProcessRegistry) -> None:
    rule = _rule(("us-east-1", OTHER), deleteReplication={"enabled": True})
    assert _put(reg, _config(rule)).status_code == 200
    _allow_source(reg)
    reg.create_repository("app")
    digest, _ = reg.push_image("app", "v1", reg.auth)
    _drain(reg)
    assert _pull_as_other(reg, "app", "v1")
    reg.ecr_ok("BatchDeleteImage", repositoryName="app", imageIds=[{"imageDigest": digest}])
    _drain(reg)
    with pytest.raises(Exception, match="unknown"):
        _pull_as_other(reg, "app", digest)


def test_immutable_tag_at_destination_is_dropped_not_moved(reg: InProcessRegistry) -> None:
    from stiva.services import events
    from stiva.services.repositories import RepositorySpec, create_repository

    with _ctx(reg).db.write() as session:
        create_repository(
            session, account_id=OTHER, spec=RepositorySpec("app", tag_mutability="IMMUTABLE")
        )
    _allow_source(reg)
    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    reg.create_repository("app")
    first, _ = reg.push_image("app", "v1", reg.auth, layers=[b"one"])
    _drain(reg)
    second, raw = reg.push_image("app", "v1", reg.auth, layers=[b"two"])
    _drain(reg)
    assert _status(reg, "app", second)[0]["status"] == "COMPLETE"
    assert _pull_as_other(reg, "app", second) == raw  # the image arrived
    with _ctx(reg).db.read() as session:
        from stiva.services import manifests

        moved = manifests.resolve(session, account_id=OTHER, name="app", reference="v1")
        assert moved.digest == first  # the tag did not move
        found = [
            json.loads(e.detail)
            for e in events.list_events(session, account_id=reg.account_id)
            if e.detail_type == "ECR Replication Action"
        ]
    assert [(e["image-digest"], e["result"]) for e in found] == [
        (first, "SUCCESS"),
        (second, "SUCCESS"),
    ]
    assert found[1]["dropped-tags"] == ["v1"]
    assert found[1]["source-account"] == reg.account_id
    assert found[1]["action-type"] == "REPLICATE"


def test_restore_from_archive_replicates(reg: InProcessRegistry) -> None:
    reg.create_repository("app")
    digest, _ = reg.push_image("app", "v1", reg.auth)
    reg.ecr_ok(
        "UpdateImageStorageClass",
        repositoryName="app",
        imageId={"imageDigest": digest},
        targetStorageClass="ARCHIVE",
    )
    assert _put(reg, _config(_rule(("eu-west-1", reg.account_id)))).status_code == 200
    assert _status(reg, "app", digest) == []  # archiving never replicates
    reg.ecr_ok(
        "UpdateImageStorageClass",
        repositoryName="app",
        imageId={"imageDigest": digest},
        targetStorageClass="STANDARD",
    )
    assert _status(reg, "app", digest)[0]["status"] == "IN_PROGRESS"


def test_unreachable_peer_fails_after_the_horizon(tmp_path: Path) -> None:
    overrides: dict[str, Any] = {
        "workers": {"enabled": False},
        "replication": {"peers": [PEER], "backoff_seconds": 0.01, "horizon_seconds": 1},
    }
    with in_process_registry(tmp_path / "data", **overrides) as reg:
        assert _put(reg, _config(_rule(("eu-west-1", reg.account_id)))).status_code == 200
        reg.create_repository("app")
        digest, _ = reg.push_image("app", "v1", reg.auth)
        deadline = time.monotonic() + 20
        while _status(reg, "app", digest)[0]["status"] == "IN_PROGRESS":
            assert time.monotonic() < deadline
            _drain(reg)
            time.sleep(0.05)
        [failed] = _status(reg, "app", digest)
        assert failed["failureCode"] == "DESTINATION_UNREACHABLE"


def test_peer_trusts_the_replication_header_only_from_the_declared_principal(
    tmp_path: Path,
) -> None:
    source_account = "999988887777"
    overrides: dict[str, Any] = {
        "workers": {"enabled": False},
        "replication": {
            "sources": [
                {
                    "region": "eu-west-1",
                    "principal": "arn:aws:iam::123456789012:user/admin",
                    "accounts": [source_account],
                }
            ]
        },
    }
    with in_process_registry(tmp_path / "data", **overrides) as reg:
        create_account(reg.settings, account_id=OTHER)

        def call(operation: str, claim: str, **params: Any) -> Any:
            return reg.ecr_raw(
                operation,
                json.dumps({"registryId": OTHER, **params}).encode(),
                extra_headers={"X-Stiva-Replication-Source": claim},
            )

        claim = f"{source_account}/eu-west-1"
        untrusted = call("DescribeRepositories", f"{source_account}/ap-south-1")
        assert untrusted.json()["__type"] == "AccessDeniedException"
        assert "not trusted to replicate" in untrusted.json()["message"]
        refused = call("ListImages", claim, repositoryName="app")
        assert "cannot be called as a replication" in refused.json()["message"]
        denied = call("DescribeRepositories", claim, repositoryNames=["app"])
        assert denied.json()["__type"] == "AccessDeniedException"
        assert f"arn:aws:iam::{source_account}:root" in denied.json()["message"]

        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{source_account}:root"},
            "Action": ["ecr:ReplicateImage"],
            "Resource": "*",
        }
        _put_other_registry_policy(reg, {"Version": "2012-10-17", "Statement": [statement]})
        missing = call("DescribeRepositories", claim, repositoryNames=["app"])
        assert missing.json()["__type"] == "RepositoryNotFoundException"  # authorized now
        create = call("CreateRepository", claim, repositoryName="app")
        assert create.json()["__type"] == "AccessDeniedException"  # no ecr:CreateRepository
        statement["Action"] = ["ecr:ReplicateImage", "ecr:CreateRepository"]
        _put_other_registry_policy(reg, {"Version": "2012-10-17", "Statement": [statement]})
        created = call("CreateRepository", claim, repositoryName="app")
        assert created.status_code == 200, created.text
        assert created.json()["repository"]["registryId"] == OTHER


TRUSTED = {
    "workers": {"enabled": False},
    "replication": {
        "sources": [{"region": "eu-west-1", "principal": "arn:aws:iam::123456789012:user/admin"}]
    },
}


def test_a_trusted_replicator_claims_only_the_accounts_declared_for_it(tmp_path: Path) -> None:
    """Account ids are local to a deployment: claiming another of our accounts (here the
    victim's own id, which the same-account default would let in) is refused unless the
    operator listed it in the source's `accounts`."""
    with in_process_registry(tmp_path / "data", **TRUSTED) as reg:
        create_account(reg.settings, account_id=OTHER)

        def call(claim: str, **params: Any) -> Any:
            return reg.ecr_raw(
                "CreateRepository",
                json.dumps({"registryId": OTHER, "repositoryName": "claimed", **params}).encode(),
                extra_headers={"X-Stiva-Replication-Source": claim},
            )

        victim = call(f"{OTHER}/eu-west-1")
        assert victim.json()["__type"] == "AccessDeniedException"
        assert f"may not replicate on behalf of account {OTHER}" in victim.json()["message"]
        own = call(f"{reg.account_id}/eu-west-1")  # its own account: needs OTHER's policy
        assert own.json()["__type"] == "AccessDeniedException"
        assert f"arn:aws:iam::{reg.account_id}:root" in own.json()["message"]
        listing = reg.ecr_raw(
            "DescribeRepositories",
            json.dumps({"registryId": reg.account_id}).encode(),
            extra_headers={"X-Stiva-Replication-Source": f"{reg.account_id}/eu-west-1"},
        )
        assert "describe only the repositories it names" in listing.json()["message"]


def test_the_replication_header_must_be_signed(tmp_path: Path) -> None:
    with in_process_registry(tmp_path / "data", **TRUSTED) as reg:
        response = reg.ecr_raw(
            "DescribeRepositories",
            json.dumps({"repositoryNames": ["app"]}).encode(),
            unsigned_headers={"X-Stiva-Replication-Source": f"{reg.account_id}/eu-west-1"},
        )
        assert response.status_code == 403
        assert "'x-stiva-replication-source' must be a 'SignedHeader'" in response.json()["message"]


def test_replication_on_v2_grants_no_pull_listing_or_catalog(tmp_path: Path) -> None:
    with in_process_registry(tmp_path / "data", **TRUSTED) as reg:
        reg.create_repository("app")
        digest, _ = reg.push_image("app", "v1", reg.auth)
        layer = reg.push_blob("app", b"a layer", reg.auth)
        replicating = {**reg.auth, "X-Stiva-Replication-Source": f"{reg.account_id}/eu-west-1"}
        allowed = [
            ("HEAD", f"/v2/app/blobs/{layer}"),
            ("HEAD", "/v2/app/manifests/v1"),
        ]
        for method, path in allowed:
            response = reg.client.request(method, path, headers=replicating)
            assert response.status_code == 200, (method, path, response.status_code)
        started = reg.client.post("/v2/app/blobs/uploads/", headers=replicating)
        assert started.status_code == 202
        refused = [
            ("GET", "/v2/app/manifests/v1"),
            ("GET", f"/v2/app/blobs/{layer}"),
            ("GET", "/v2/app/tags/list"),
            ("GET", "/v2/_catalog"),
            ("GET", f"/v2/app/referrers/{digest}"),
            ("GET", "/v2/app/_stiva/sbom/v1"),
            ("DELETE", f"/v2/app/blobs/{layer}"),
        ]
        for method, path in refused:
            response = reg.client.request(method, path, headers=replicating)
            assert response.status_code == 403, (method, path, response.status_code)
            assert response.json()["errors"][0]["code"] == "DENIED"
            assert "not part of a replication" in response.json()["errors"][0]["message"]


def test_a_tag_pushed_while_its_image_is_delivered_arrives_too(
    reg: InProcessRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`push :v1` then `push :latest` of the same image while v1's delivery runs: the second
    push re-opens the delivery; the running attempt must not close it as COMPLETE without
    `latest` (found in review: it did, and `latest` never arrived)."""
    from stiva.services.replication import local

    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    _allow_source(reg)
    reg.create_repository("app")
    digest, raw = reg.push_image("app", "v1", reg.auth)
    real, fired = local.push, []

    def push_during_delivery(ctx: RegistryContext, **where: Any) -> list[str]:
        if not fired:  # the user tags the image `latest` while the copy is in flight
            fired.append(True)
            tagged = reg.client.put(
                "/v2/app/manifests/latest",
                content=raw,
                headers={**reg.auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
            )
            assert tagged.status_code == 201
        return real(ctx, **where)

    monkeypatch.setattr(local, "push", push_during_delivery)
    _drain(reg)
    assert fired
    assert [s["status"] for s in _status(reg, "app", digest)] == ["COMPLETE"]
    assert _pull_as_other(reg, "app", "latest") == raw
    assert _pull_as_other(reg, "app", "v1") == raw


def test_concurrent_backfill_starts_check_the_limits_one_after_the_other(
    reg: InProcessRegistry,
) -> None:
    """Two StartReplicationBackfill for one region at once: the second waits for the first's
    unit of work and is refused (found in review: both passed the check on PostgreSQL)."""
    import threading

    from stiva.errors import ReplicationBackfillInProgress
    from stiva.services.replication.backfill import start_backfill
    from stiva.services.replication.rules import Destination

    assert _put(reg, _config(_rule(("us-east-1", OTHER)))).status_code == 200
    ctx, destination = _ctx(reg), Destination("us-east-1", OTHER)
    outcome: list[str] = []
    holding = threading.Event()

    def second() -> None:
        holding.wait(10)
        try:
            with ctx.db.write() as session:
                start_backfill(session, account_id=reg.account_id, destination=destination)
            outcome.append("started")
        except ReplicationBackfillInProgress:
            outcome.append("refused")

    racer = threading.Thread(target=second)
    racer.start()
    with ctx.db.write() as session:
        start_backfill(session, account_id=reg.account_id, destination=destination)
        holding.set()
        racer.join(0.5)  # blocked behind this unit of work, which has not committed yet
        assert outcome == []
    racer.join(30)
    assert outcome == ["refused"]
