"""Every lifecycle example of the ECR user guide (reference §3.5), through the preview API of a
live server with boto3 and its `lifecycle_policy_preview_complete` waiter.

Images are pushed with PutImage, then aged by writing their push / pull / archive times into
the server's SQLite database (the server reads them from there); each example's outcome is
AWS's documented one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.e2e.test_ecr_images import Images
from tests.support.databases import connect
from tests.support.lifecycle import EXAMPLES, Example, Img, outcome
from tests.support.live import LiveServer

FAST = {"Delay": 1, "MaxAttempts": 60}


def sql_time(when: datetime) -> str:
    """A timestamp as Stiva's SQLite columns hold it (naive UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def age(server: LiveServer, repository: str, digest: str, **ages: float | None) -> None:
    """Set `pushed_at`, `last_pulled_at`, `last_archived_at` to that many days ago."""
    now = datetime.now(UTC)
    values = {k: sql_time(now - timedelta(days=v)) for k, v in ages.items() if v is not None}
    if not values:
        return
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    with connect(server.data_dir) as db:
        changed = db.execute(
            text(
                f"UPDATE manifests SET {assignments} WHERE digest = :digest AND repository_id = "
                "(SELECT id FROM repositories WHERE name = :name AND account_id = :account)"
            ),
            {**values, "digest": digest, "name": repository, "account": server.account_id},
        ).rowcount
    assert changed == 1


def push_example(server: LiveServer, repo: Images, image: Img) -> str:
    doc = repo.image(f"{repo.name} {image.label}")
    tags = list(image.tags)
    digest, text = repo.put(doc, tags[0] if tags else None)
    for tag in tags[1:]:
        repo.ecr.put_image(repositoryName=repo.name, imageManifest=text, imageTag=tag)
    if image.archived_days is not None:
        repo.storage_class({"imageDigest": digest}, "ARCHIVE")
    age(
        server,
        repo.name,
        digest,
        pushed_at=image.pushed_days,
        last_pulled_at=image.pulled_days,
        last_archived_at=image.archived_days,
    )
    return digest


def preview(repo: Images, text: str | None = None) -> dict[str, Any]:
    """Start a preview, wait for it with boto3's waiter, and return every result page merged."""
    params: dict[str, Any] = {"repositoryName": repo.name}
    if text is not None:
        params["lifecyclePolicyText"] = text
    started = repo.ecr.start_lifecycle_policy_preview(**params)
    assert started["status"] == "IN_PROGRESS"
    repo.ecr.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=repo.name, WaiterConfig=FAST
    )
    pages = repo.ecr.get_paginator("get_lifecycle_policy_preview").paginate(
        repositoryName=repo.name, PaginationConfig={"PageSize": 2}
    )
    merged: dict[str, Any] = {"previewResults": []}
    for page in pages:
        merged["previewResults"] += page["previewResults"]
        merged.update({k: v for k, v in page.items() if k != "previewResults"})
    return merged


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_aws_example(server: LiveServer, example: Example) -> None:
    repo = Images(server, f"lifecycle/example-{example.name}")
    labels = {push_example(server, repo, image): image.label for image in example.images}
    got = preview(repo, example.policy_text)
    assert got["status"] == "COMPLETE"
    assert got["lifecyclePolicyText"] == example.policy_text
    assert outcome(got["previewResults"], labels) == example.expected
    expiring = sum(1 for action, _ in example.expected.values() if action == "EXPIRE")
    transitioning = len(example.expected) - expiring
    assert got["summary"]["expiringImageTotalCount"] == expiring
    if transitioning:
        assert got["summary"]["transitioningImageTotalCounts"] == [
            {"targetStorageClass": "ARCHIVE", "imageTotalCount": transitioning}
        ]
    else:
        assert "transitioningImageTotalCounts" not in got["summary"]
    archived = {i.label for i in example.images if i.archived_days is not None}
    for result in got["previewResults"]:
        label = labels[result["imageDigest"]]
        assert result["storageClass"] == ("ARCHIVE" if label in archived else "STANDARD")
