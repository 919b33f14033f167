"""The lifecycle sweep in-process on a manual clock: what it expires and archives, in which
order, its audit trail (`lifecycle_executions`), its events, and `stiva lifecycle run`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from stiva.cli import main
from stiva.metadata import models as m
from stiva.services import events
from tests.support.lifecycle import DAY, START, Lifecycle, clocked_registry, policy, rule

SIGNATURE = "application/vnd.cncf.notary.signature"
UNTAGGED_14 = policy(rule(1, "untagged", "sinceImagePushed", 14))


@pytest.fixture
def lc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    with clocked_registry(tmp_path / "data", monkeypatch) as handle:
        handle.registry.create_repository("app")
        yield handle


def put_policy(lc: Lifecycle, text: str, name: str = "app") -> None:
    lc.call("PutLifecyclePolicy", repositoryName=name, lifecyclePolicyText=text)


def digests(lc: Lifecycle, name: str = "app", status: str = "ANY") -> set[str]:
    ids = lc.call("ListImages", repositoryName=name, filter={"imageStatus": status})["imageIds"]
    return {i["imageDigest"] for i in ids}


def executions(lc: Lifecycle) -> list[m.LifecycleExecution]:
    with lc.ctx.db.read() as session:
        rows = list(session.scalars(select(m.LifecycleExecution).order_by(m.LifecycleExecution.id)))
        session.expunge_all()
        return rows


def image_events(lc: Lifecycle) -> list[dict[str, Any]]:
    with lc.ctx.db.read() as session:
        rows = events.list_events(session)
        return [events.envelope(e, region="us-east-1") for e in rows]


def test_images_age_into_expiry_as_the_clock_moves(lc: Lifecycle) -> None:
    put_policy(lc, UNTAGGED_14)
    old = lc.push("app", "old")
    kept = lc.push("app", "tagged", "v1")
    lc.clock.advance(10 * DAY)
    young = lc.push("app", "young")
    lc.drain()
    assert digests(lc) == {old, kept, young}  # nothing is 14 days old yet
    lc.clock.advance(5 * DAY)  # old: 15 days, young: 5 days
    lc.drain()
    assert digests(lc) == {kept, young}
    lc.clock.advance(10 * DAY)
    lc.drain()
    assert digests(lc) == {kept}
    got = lc.call("GetLifecyclePolicy", repositoryName="app")
    assert got["lastEvaluatedAt"] == (START + 25 * DAY).timestamp()


def test_sweep_runs_every_interval(lc: Lifecycle) -> None:
    put_policy(lc, UNTAGGED_14)
    lc.drain()
    assert len(executions(lc)) == 1
    lc.clock.advance(timedelta(minutes=59))
    lc.drain()
    assert len(executions(lc)) == 1  # the default interval is an hour
    lc.clock.advance(timedelta(minutes=2))
    lc.drain()
    assert len(executions(lc)) == 2


def test_audit_trail_and_events(lc: Lifecycle) -> None:
    put_policy(lc, policy(rule(1, "tagged", "imageCountMoreThan", 1, patterns=["v*"])))
    old = lc.push("app", "old", "v1", "stable")
    lc.clock.advance(DAY)
    lc.push("app", "new", "v2")
    lc.drain()
    (run,) = executions(lc)
    assert (run.repository_name, run.account_id, run.expired, run.transitioned) == (
        "app",
        lc.account_id,
        1,
        0,
    )
    assert run.error is None
    assert run.started_at == START + DAY
    assert json.loads(run.policy_text)["rules"][0]["selection"]["tagPatternList"] == ["v*"]
    assert json.loads(run.actions or "") == [
        {
            "imageDigest": old,
            "imageTags": ["stable", "v1"],
            "action": "EXPIRE",
            "rulePriority": 1,
            "result": "SUCCESS",
        }
    ]
    (event,) = image_events(lc)
    assert event["detail-type"] == "ECR Image Action"
    assert event["source"] == "aws.ecr"
    assert event["account"] == lc.account_id
    assert event["time"] == (START + DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["resources"] == []
    assert event["detail"] == {
        "result": "SUCCESS",
        "repository-name": "app",
        "image-digest": old,
        "action-type": "DELETE",
        "image-tag": "stable",
        "image-tags": ["stable", "v1"],
    }


def test_transition_archives_an_index_with_its_children(lc: Lifecycle) -> None:
    put_policy(
        lc,
        policy(rule(1, "tagged", "sinceImagePushed", 30, prefixes=["multi"], action="transition")),
    )
    amd, arm = lc.push("app", "amd"), lc.push("app", "arm")
    index = lc.index("app", amd, arm, tag="multi")
    lc.clock.advance(31 * DAY)
    lc.drain()
    assert digests(lc, status="ARCHIVED") == {index, amd, arm}
    (run,) = executions(lc)
    assert run.transitioned == 3
    actions = {a["imageDigest"]: a for a in json.loads(run.actions or "")}
    assert actions[index] == {
        "imageDigest": index,
        "imageTags": ["multi"],
        "action": "TRANSITION",
        "targetStorageClass": "ARCHIVE",
        "rulePriority": 1,
        "result": "SUCCESS",
    }
    assert actions[amd]["carriedBy"] == index
    details = {e["detail"]["image-digest"]: e["detail"] for e in image_events(lc)}
    assert set(details) == {index, amd, arm}
    assert details[index]["action-type"] == "UPDATE_STORAGE_CLASS"
    assert details[index]["target-storage-class"] == "ARCHIVE"
    assert details[index]["manifest-media-type"] == "application/vnd.oci.image.index.v1+json"
    assert details[amd]["artifact-media-type"] == "application/vnd.oci.image.config.v1+json"
    described = lc.call("DescribeImages", repositoryName="app", imageIds=[{"imageTag": "multi"}])
    assert described["imageDetails"][0]["lastArchivedAt"] == (START + 31 * DAY).timestamp()


def test_index_children_expire_only_once_their_index_is_gone(lc: Lifecycle) -> None:
    put_policy(
        lc,
        policy(
            rule(1, "tagged", "sinceImagePushed", 1, prefixes=["multi"]),
            rule(2, "untagged", "sinceImagePushed", 1),
        ),
    )
    amd, arm = lc.push("app", "amd"), lc.push("app", "arm")
    index = lc.index("app", amd, arm, tag="multi")
    lc.clock.advance(2 * DAY)
    lc.drain()
    assert digests(lc) == {amd, arm}  # the index went; its children were still listed
    lc.clock.advance(2 * timedelta(hours=1))
    lc.drain()
    assert digests(lc) == set()
    deleted = [e["detail"]["image-digest"] for e in image_events(lc)]
    assert deleted[0] == index
    assert set(deleted[1:]) == {amd, arm}


def test_referrers_go_with_their_subject(lc: Lifecycle) -> None:
    put_policy(lc, policy(rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["v"])))
    old = lc.push("app", "old", "v1")
    old_text = lc.call("BatchGetImage", repositoryName="app", imageIds=[{"imageDigest": old}])
    manifest = old_text["images"][0]["imageManifest"]
    signature = lc.image_doc("app", "sig")
    signature["artifactType"] = SIGNATURE
    signature["subject"] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": old,
        "size": len(manifest.encode()),
    }
    sig = lc.put("app", signature)
    lc.clock.advance(DAY)
    new = lc.push("app", "new", "v2")
    preview = lc.preview("app")
    assert {r["imageDigest"]: r["action"]["type"] for r in preview["previewResults"]} == {
        old: "EXPIRE",
        sig: "EXPIRE",
    }
    lc.drain()
    assert digests(lc) == {new}


def test_pulls_keep_images_out_of_the_archive(lc: Lifecycle) -> None:
    put_policy(lc, policy(rule(1, "any", "sinceImagePulled", 90, action="transition")))
    pulled, idle = lc.push("app", "pulled", "pulled"), lc.push("app", "idle", "idle")
    lc.clock.advance(100 * DAY)
    lc.call("BatchGetImage", repositoryName="app", imageIds=[{"imageTag": "pulled"}])
    lc.ctx.flush()  # pull times are recorded in batches
    lc.drain()
    assert digests(lc, status="ARCHIVED") == {idle}
    assert digests(lc, status="ACTIVE") == {pulled}
    lc.clock.advance(91 * DAY)
    lc.drain()
    assert digests(lc, status="ARCHIVED") == {idle, pulled}


def test_a_failed_run_is_rolled_back_and_recorded(lc: Lifecycle) -> None:
    put_policy(lc, UNTAGGED_14)
    old = lc.push("app", "old")
    lc.clock.advance(20 * DAY)
    with lc.ctx.db.write() as session:  # a stored policy the evaluator cannot read
        session.execute(update(m.LifecyclePolicy).values(policy_text='{"rules": "broken"}'))
    lc.drain()
    assert digests(lc) == {old}
    (run,) = executions(lc)
    assert run.error is not None
    assert "InvalidParameter" in run.error
    assert (run.expired, run.transitioned, json.loads(run.actions or "")) == (0, 0, [])
    with lc.ctx.db.read() as session:
        job = session.scalars(select(m.Job).where(m.Job.kind == "lifecycle-apply")).one()
        assert (job.status, job.attempts) == ("queued", 1)  # retried later, with backoff


def test_repositories_without_policy_are_left_alone(lc: Lifecycle) -> None:
    lc.registry.create_repository("other")
    put_policy(lc, policy(rule(1, "any", "imageCountMoreThan", 1)))
    lc.push("app", "a", "a")
    lc.push("other", "x", "x")
    lc.push("other", "y", "y")
    lc.clock.advance(DAY)
    lc.push("app", "b", "b")
    lc.drain()
    assert len(digests(lc)) == 1
    assert len(digests(lc, "other")) == 2
    assert [r.repository_name for r in executions(lc)] == ["app"]


# --- stiva lifecycle run / preview -----------------------------------------------------------


def test_cli_run_applies_now_and_prints_what_it_did(lc: Lifecycle) -> None:
    put_policy(lc, policy(rule(1, "any", "imageCountMoreThan", 1)))
    old = lc.push("app", "old", "v1")
    lc.clock.advance(DAY)
    new = lc.push("app", "new", "v2")
    data_dir = str(lc.registry.settings.data_dir)
    previewed = CliRunner().invoke(
        main, ["lifecycle", "preview", "--data-dir", data_dir, "--repository", "app"]
    )
    assert previewed.exit_code == 0, previewed.output
    doc = json.loads(previewed.output)
    assert [r["imageDigest"] for r in doc["previewResults"]] == [old]
    assert doc["summary"]["stivaBytesFreed"] > 0
    assert digests(lc) == {old, new}  # a preview changes nothing
    ran = CliRunner().invoke(main, ["lifecycle", "run", "--data-dir", data_dir])
    assert ran.exit_code == 0, ran.output
    assert f"{lc.account_id}/app: 1 expired, 0 transitioned" in ran.output
    assert f"EXPIRE {old} [v1] (rule 1)" in ran.output
    assert digests(lc) == {new}
    again = CliRunner().invoke(
        main, ["lifecycle", "run", "--data-dir", data_dir, "--repository", "app", "--json"]
    )
    assert again.exit_code == 0, again.output
    (execution,) = json.loads(again.output)
    assert (execution["repositoryName"], execution["expired"], execution["actions"]) == (
        "app",
        0,
        [],
    )


def test_cli_names_what_is_missing(lc: Lifecycle, tmp_path: Path) -> None:
    data_dir = str(lc.registry.settings.data_dir)
    no_policy = CliRunner().invoke(
        main, ["lifecycle", "run", "--data-dir", data_dir, "--repository", "app"]
    )
    assert no_policy.exit_code == 1
    assert "Lifecycle policy does not exist for the repository with name 'app'" in no_policy.output
    nowhere = CliRunner().invoke(main, ["lifecycle", "run", "--data-dir", str(tmp_path / "none")])
    assert nowhere.exit_code == 1
    assert "stiva serve" in nowhere.output
