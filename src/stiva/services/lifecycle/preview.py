"""StartLifecyclePolicyPreview and GetLifecyclePolicyPreview: a dry run of a policy.

A repository has at most one preview (`lifecycle_previews`). Start validates the policy (the
text given, else the repository's own; LifecyclePolicyNotFound when neither), marks the preview
IN_PROGRESS and queues a `lifecycle-preview` job (dedup key `lifecycle-preview:<repository id>`)
in the same transaction; while that preview runs another Start answers
LifecyclePolicyPreviewInProgress. The job (`compute_preview` in a read, `record_preview` in a
write) evaluates the policy against the repository's images as they are then, and stores the
results with a summary; Get reads them.

Shapes (botocore's model): previewResults[] {imageTags, imageDigest, imagePushedAt, action {type
EXPIRE|TRANSITION, targetStorageClass}, appliedRulePriority, storageClass STANDARD|ARCHIVE} for
each image the policy would act on; summary {expiringImageTotalCount,
transitioningImageTotalCounts (only when something transitions)}. Stiva adds `stivaBytesFreed`
to the summary: the bytes the blob store would shrink by once the expired images are gone
(`snapshot.bytes_freed`; blobs shared with any surviving image of the deployment are not
counted, shared ones among the expired counted once). AWS clients ignore the extra member.

A preview whose job ended without recording anything (it failed for good) reads as FAILED, and
a new preview may start. Previews never turn EXPIRED in Stiva.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from stiva.errors import (
    InvalidParameter,
    LifecyclePolicyPreviewInProgress,
    LifecyclePolicyPreviewNotFound,
)
from stiva.lifecycle.evaluate import Action, Image, plan
from stiva.metadata import models as m
from stiva.services import jobs
from stiva.services.images import ImageId, require_image_id, token_position
from stiva.services.lifecycle.policies import parse_policy, stored_policy
from stiva.services.lifecycle.snapshot import bytes_freed, repository_images
from stiva.services.pagination import encode_token
from stiva.services.repositories import get_repository

PREVIEW_JOB = "lifecycle-preview"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
DEFAULT_PAGE = 100
_PAGE_KIND = "lifecycle-preview"


def dedup_key(repository_id: int) -> str:
    return f"{PREVIEW_JOB}:{repository_id}"


@dataclass(frozen=True, slots=True)
class PreviewResult:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    action: str  # EXPIRE | TRANSITION
    target_storage_class: str | None  # ARCHIVE for transitions
    rule_priority: int
    storage_class: str  # STANDARD | ARCHIVE: where the image is now

    def to_json(self) -> dict[str, Any]:
        """The result as stored (the API's shape, with the push time in ISO 8601)."""
        action = {"type": self.action}
        if self.target_storage_class:
            action["targetStorageClass"] = self.target_storage_class
        return {
            "imageDigest": self.digest,
            "imageTags": list(self.tags),
            "imagePushedAt": self.pushed_at.isoformat(),
            "action": action,
            "appliedRulePriority": self.rule_priority,
            "storageClass": self.storage_class,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PreviewResult:
        return cls(
            digest=doc["imageDigest"],
            tags=tuple(doc["imageTags"]),
            pushed_at=datetime.fromisoformat(doc["imagePushedAt"]),
            action=doc["action"]["type"],
            target_storage_class=doc["action"].get("targetStorageClass"),
            rule_priority=doc["appliedRulePriority"],
            storage_class=doc["storageClass"],
        )


@dataclass(frozen=True, slots=True)
class PreviewSummary:
    expiring: int
    transitioning: dict[str, int] = field(default_factory=dict)  # target storage class: count
    bytes_freed: int = 0
    blobs_freed: int = 0


@dataclass(frozen=True, slots=True)
class Preview:
    results: list[PreviewResult]
    summary: PreviewSummary

    def to_json(self) -> dict[str, Any]:
        """The preview as `stiva lifecycle preview` prints it (the API's names, times in ISO)."""
        summary: dict[str, Any] = {"expiringImageTotalCount": self.summary.expiring}
        if self.summary.transitioning:
            summary["transitioningImageTotalCounts"] = [
                {"targetStorageClass": target, "imageTotalCount": count}
                for target, count in sorted(self.summary.transitioning.items())
            ]
        summary["stivaBytesFreed"] = self.summary.bytes_freed
        summary["stivaBlobsFreed"] = self.summary.blobs_freed
        return {"previewResults": [r.to_json() for r in self.results], "summary": summary}


@dataclass(frozen=True, slots=True)
class PreviewPage:
    policy_text: str
    status: str
    results: list[PreviewResult]
    summary: PreviewSummary | None  # only once COMPLETE
    next_token: str | None = None


# --- start -----------------------------------------------------------------------------------


def _job_live(session: Session, repository_id: int) -> bool:
    return bool(session.scalar(select(exists().where(m.Job.dedup_key == dedup_key(repository_id)))))


def start_lifecycle_policy_preview(
    session: Session, *, account_id: str, name: str, policy_text: str | None, now: datetime
) -> str:
    """Start a preview of `policy_text` (else the repository's policy); the text previewed."""
    repo = get_repository(session, account_id=account_id, name=name)
    if policy_text is None:
        policy_text = stored_policy(session, repository=repo).text
    else:
        parse_policy(policy_text)
    row = session.get(m.LifecyclePreview, repo.id)
    if row is not None and row.status == IN_PROGRESS and _job_live(session, repo.id):
        raise LifecyclePolicyPreviewInProgress(repo.name, repo.account_id)
    job = jobs.enqueue(
        session, kind=PREVIEW_JOB, payload={"repository_id": repo.id}, dedup_key=dedup_key(repo.id)
    )
    if job is None:  # the last preview's job is still finishing
        raise LifecyclePolicyPreviewInProgress(repo.name, repo.account_id)
    if row is None:
        row = m.LifecyclePreview(repository_id=repo.id, status=IN_PROGRESS, policy_text="")
        session.add(row)
    row.status, row.policy_text, row.started_at = IN_PROGRESS, policy_text, now
    row.finished_at = row.results = row.summary = row.error = None
    return policy_text


# --- the job ---------------------------------------------------------------------------------


def pending_preview(session: Session, *, repository_id: int) -> str | None:
    """The policy text of the repository's preview if it still waits for its results."""
    row = session.get(m.LifecyclePreview, repository_id)
    return row.policy_text if row is not None and row.status == IN_PROGRESS else None


def _result(image: Image, action: Action) -> PreviewResult:
    return PreviewResult(
        digest=image.digest,
        tags=tuple(image.tags),
        pushed_at=image.pushed_at,
        action=action.action,
        target_storage_class=action.target_storage_class,
        rule_priority=action.rule_priority,
        storage_class="ARCHIVE" if image.status == "ARCHIVED" else "STANDARD",
    )


def compute_preview(
    session: Session, *, repository_id: int, policy_text: str, now: datetime
) -> Preview:
    """What `policy_text` would do to the repository now (reads only)."""
    policy = parse_policy(policy_text)
    images = repository_images(session, repository_id=repository_id)
    by_digest = {image.digest: image for image in images}
    actions = plan(policy, images, now)
    results = sorted(
        (_result(by_digest[a.digest], a) for a in actions),
        key=lambda r: (r.rule_priority, r.pushed_at, r.digest),
    )
    expiring = [r.digest for r in results if r.action == "EXPIRE"]
    transitioning = Counter(
        r.target_storage_class
        for r in results
        if r.action == "TRANSITION" and r.target_storage_class
    )
    freed = bytes_freed(session, repository_id=repository_id, digests=expiring)
    summary = PreviewSummary(len(expiring), dict(transitioning), freed.bytes, freed.blobs)
    return Preview(results, summary)


def preview_repository(
    session: Session, *, account_id: str, name: str, policy_text: str | None, now: datetime
) -> Preview:
    """A preview computed on the spot (reads only): of `policy_text`, else the repository's."""
    repo = get_repository(session, account_id=account_id, name=name)
    if policy_text is None:
        policy_text = stored_policy(session, repository=repo).text
    return compute_preview(session, repository_id=repo.id, policy_text=policy_text, now=now)


def _summary_json(summary: PreviewSummary) -> str:
    return json.dumps(
        {
            "expiring": summary.expiring,
            "transitioning": summary.transitioning,
            "bytesFreed": summary.bytes_freed,
            "blobsFreed": summary.blobs_freed,
        }
    )


def _summary(text: str) -> PreviewSummary:
    doc = json.loads(text)
    return PreviewSummary(
        doc["expiring"], dict(doc["transitioning"]), doc["bytesFreed"], doc["blobsFreed"]
    )


def record_preview(
    session: Session,
    *,
    repository_id: int,
    preview: Preview | None,
    error: str | None,
    now: datetime,
) -> bool:
    """Store a preview's outcome (results, or the error that failed it); False if no preview of
    the repository waits for one any more."""
    row = session.get(m.LifecyclePreview, repository_id)
    if row is None or row.status != IN_PROGRESS:
        return False
    row.finished_at = now
    if preview is None:
        row.status, row.error = FAILED, (error or "the preview failed")[:4000]
        return True
    row.status = COMPLETE
    row.results = json.dumps([r.to_json() for r in preview.results])
    row.summary = _summary_json(preview.summary)
    return True


# --- get -------------------------------------------------------------------------------------


def _matches(result: PreviewResult, image_ids: Sequence[ImageId] | None, tag_status: str) -> bool:
    if tag_status == "TAGGED" and not result.tags:
        return False
    if tag_status == "UNTAGGED" and result.tags:
        return False
    if not image_ids:
        return True
    return any(
        (i.digest is None or i.digest == result.digest) and (i.tag is None or i.tag in result.tags)
        for i in image_ids
    )


def _offset(token: str | None, key: bytes, row: m.LifecyclePreview) -> int:
    if not token:
        return 0
    position = token_position(token, key, _PAGE_KIND, row.repository_id)
    if position.get("preview") != row.started_at.isoformat():
        raise InvalidParameter(
            "Invalid parameter at 'nextToken': the token belongs to an earlier preview"
        )
    return int(position["after"])


def get_lifecycle_policy_preview(
    session: Session,
    *,
    account_id: str,
    name: str,
    image_ids: Sequence[ImageId] | None,
    tag_status: str,
    max_results: int | None,
    next_token: str | None,
    key: bytes,
) -> PreviewPage:
    """The repository's preview: its status, and a page of its results filtered as asked."""
    repo = get_repository(session, account_id=account_id, name=name)
    row = session.get(m.LifecyclePreview, repo.id)
    if row is None:
        raise LifecyclePolicyPreviewNotFound(repo.name, repo.account_id)
    if image_ids and (max_results is not None or next_token):
        raise InvalidParameter(
            "Invalid parameter at 'imageIds' failed to satisfy constraint: "
            "'imageIds cannot be used with maxResults or nextToken'"
        )
    for image_id in image_ids or ():  # neither tag nor digest would match every result
        require_image_id(image_id)
    if row.status != COMPLETE or row.results is None or row.summary is None:
        failed = row.status == IN_PROGRESS and not _job_live(session, repo.id)
        return PreviewPage(row.policy_text, FAILED if failed else row.status, [], None)
    results = [PreviewResult.from_json(doc) for doc in json.loads(row.results)]
    results = [r for r in results if _matches(r, image_ids, tag_status)]
    start = _offset(next_token, key, row)
    limit = max_results or DEFAULT_PAGE
    page, token = results[start : start + limit], None
    if not image_ids and start + limit < len(results):
        position = {
            "kind": _PAGE_KIND,
            "repository": repo.id,
            "preview": row.started_at.isoformat(),
            "after": start + limit,
        }
        token = encode_token(position, key)
    return PreviewPage(row.policy_text, COMPLETE, page, _summary(row.summary), token)
