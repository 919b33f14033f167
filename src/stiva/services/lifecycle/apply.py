"""Applying a repository's lifecycle policy: what the sweep does, in one transaction.

`apply_lifecycle_policy` locks the repository's policy row (two sweeps of one repository, on
two nodes or from `stiva lifecycle run`, take turns), evaluates the policy against the images as
they are in that transaction (`stiva.lifecycle.evaluate.plan`), and carries the plan out:

- EXPIRE deletes the manifest and its tags (`manifests.delete_manifest`); blobs are left to
  garbage collection. An index's children go only once no index lists them: indexes in the plan
  are deleted first, then the children they freed; a child some remaining index still lists is
  skipped (the plan should never ask for that; the audit trail says so if it does).
- TRANSITION archives the image with what goes with it (`manifests.storage_class_closure`: an
  index's children, any image's referrers), as UpdateImageStorageClass does; each image archived
  along is recorded as carried by the image the plan named.

Then it stamps the policy's `last_evaluated_at`, writes one `lifecycle_executions` row (counts,
and every image action as JSON: the audit trail) and one "ECR Image Action" event per image
deleted (action-type DELETE) or archived (UPDATE_STORAGE_CLASS, target-storage-class ARCHIVE).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.errors import ManifestNotFound
from stiva.lifecycle.evaluate import Action, Image, plan
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.services import events, manifests
from stiva.services.lifecycle.policies import parse_policy, stored_policy
from stiva.services.lifecycle.snapshot import repository_images
from stiva.services.manifests import ACTIVE, ARCHIVED
from stiva.services.repositories import get_repository

SWEEP_JOB = "lifecycle-sweep"
APPLY_JOB = "lifecycle-apply"
EXPIRE, TRANSITION = "EXPIRE", "TRANSITION"
SUCCESS, SKIPPED = "SUCCESS", "SKIPPED"


def apply_dedup_key(repository_id: int) -> str:
    return f"{APPLY_JOB}:{repository_id}"


@dataclass(frozen=True, slots=True)
class AppliedAction:
    digest: str
    tags: tuple[str, ...]
    action: str  # EXPIRE | TRANSITION
    rule_priority: int
    result: str  # SUCCESS | SKIPPED
    target_storage_class: str | None = None
    reason: str | None = None  # why it was skipped
    carried_by: str | None = None  # archived along with this image (its index or subject)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "imageDigest": self.digest,
            "imageTags": list(self.tags),
            "action": self.action,
            "rulePriority": self.rule_priority,
            "result": self.result,
        }
        optional = {
            "targetStorageClass": self.target_storage_class,
            "reason": self.reason,
            "carriedBy": self.carried_by,
        }
        return {**doc, **{k: v for k, v in optional.items() if v is not None}}


@dataclass(frozen=True, slots=True)
class Execution:
    id: int
    account_id: str
    repository_name: str
    expired: int
    transitioned: int
    actions: list[AppliedAction]

    def to_json(self) -> dict[str, Any]:
        return {
            "executionId": self.id,
            "registryId": self.account_id,
            "repositoryName": self.repository_name,
            "expired": self.expired,
            "transitioned": self.transitioned,
            "actions": [a.to_json() for a in self.actions],
        }


# --- which repositories ----------------------------------------------------------------------


def repositories_with_policies(session: Session, *, account_id: str | None = None) -> list[int]:
    """The ids of the repositories that have a lifecycle policy (of one account, or all)."""
    query = select(m.LifecyclePolicy.repository_id).join(
        m.Repository, m.Repository.id == m.LifecyclePolicy.repository_id
    )
    if account_id is not None:
        query = query.where(m.Repository.account_id == account_id)
    return list(session.scalars(query.order_by(m.LifecyclePolicy.repository_id)))


def policy_repository(session: Session, *, account_id: str, name: str) -> int:
    """The id of a named repository that has a policy (RepositoryNotFound /
    LifecyclePolicyNotFound otherwise)."""
    repo = get_repository(session, account_id=account_id, name=name)
    stored_policy(session, repository=repo)
    return repo.id


# --- applying --------------------------------------------------------------------------------


def apply_lifecycle_policy(
    session: Session, *, repository_id: int, now: datetime
) -> Execution | None:
    """Apply the repository's policy now; the execution recorded (None: no policy any more)."""
    policy_row = session.get(m.LifecyclePolicy, repository_id, with_for_update=True)
    repo = session.get(m.Repository, repository_id)
    if policy_row is None or repo is None:
        return None
    images = {image.digest: image for image in repository_images(session, repository_id=repo.id)}
    actions = plan(parse_policy(policy_row.policy_text), list(images.values()), now)
    applied = _expire(session, repo, [a for a in actions if a.action == EXPIRE], images, now)
    applied += _transition(
        session, repo, [a for a in actions if a.action == TRANSITION], images, now
    )
    policy_row.last_evaluated_at = now
    return _record(session, repo, policy_row.policy_text, applied, now)


def _skipped(action: Action, image: Image, reason: str) -> AppliedAction:
    return AppliedAction(
        action.digest,
        tuple(image.tags),
        action.action,
        action.rule_priority,
        SKIPPED,
        action.target_storage_class,
        reason,
    )


def _expire(
    session: Session,
    repo: m.Repository,
    actions: Sequence[Action],
    images: dict[str, Image],
    now: datetime,
) -> list[AppliedAction]:
    """Delete the images, indexes before the children they list."""
    applied: list[AppliedAction] = []
    pending = list(actions)
    while pending:
        listed = {
            a.digest: manifests.index_using(session, repository_id=repo.id, digest=a.digest)
            for a in pending
        }
        ready = [a for a in pending if listed[a.digest] is None]
        if not ready:
            applied += [
                _skipped(a, images[a.digest], f"listed by the image index {listed[a.digest]}")
                for a in pending
            ]
            break
        applied += [_delete(session, repo, a, images[a.digest], now) for a in ready]
        pending = [a for a in pending if listed[a.digest] is not None]
    return applied


def _delete(
    session: Session, repo: m.Repository, action: Action, image: Image, now: datetime
) -> AppliedAction:
    try:
        tags = manifests.delete_manifest(
            session, repository=repo, digest=Digest.parse(image.digest)
        )
    except ManifestNotFound:
        return _skipped(action, image, "no longer in the repository")
    events.image_action(
        session, repository=repo, digest=image.digest, action_type="DELETE", tags=tags, now=now
    )
    return AppliedAction(image.digest, tuple(tags), EXPIRE, action.rule_priority, SUCCESS)


def _transition(
    session: Session,
    repo: m.Repository,
    actions: Sequence[Action],
    images: dict[str, Image],
    now: datetime,
) -> list[AppliedAction]:
    """Archive the images with their closure, indexes and subjects before what they carry."""
    applied: list[AppliedAction] = []
    archived: set[int] = set()
    order = sorted(
        actions,
        key=lambda a: (bool(images[a.digest].parents), images[a.digest].subject is not None),
    )
    for action in order:
        row = session.scalar(
            select(m.Manifest).where(
                m.Manifest.repository_id == repo.id, m.Manifest.digest == action.digest
            )
        )
        if row is not None and row.id in archived:
            continue  # carried along by an image archived before it in this run
        if row is None or row.image_status != ACTIVE:
            why = "no longer in the repository" if row is None else "already archived"
            applied.append(_skipped(action, images[action.digest], why))
            continue
        members = manifests.storage_class_closure(
            session, repository_id=repo.id, manifest_id=row.id, archiving=True
        )
        manifests.set_storage_status(session, manifest_ids=members, status=ARCHIVED, now=now)
        archived |= members
        applied += _archived(session, repo, action, row.id, members, now)
    return applied


def _archived(
    session: Session,
    repo: m.Repository,
    action: Action,
    named: int,
    members: Collection[int],
    now: datetime,
) -> list[AppliedAction]:
    rows = session.scalars(
        select(m.Manifest).where(m.Manifest.id.in_(list(members))).order_by(m.Manifest.id)
    )
    tags = _tags_of(session, members)
    applied = []
    for row in sorted(rows, key=lambda r: r.id != named):
        extra = {"target-storage-class": "ARCHIVE", "manifest-media-type": row.media_type}
        artifact = row.config_media_type or row.artifact_type
        if artifact:
            extra["artifact-media-type"] = artifact
        row_tags = tags.get(row.id, ())
        events.image_action(
            session,
            repository=repo,
            digest=row.digest,
            action_type="UPDATE_STORAGE_CLASS",
            tags=row_tags,
            now=now,
            extra=extra,
        )
        applied.append(
            AppliedAction(
                row.digest,
                row_tags,
                TRANSITION,
                action.rule_priority,
                SUCCESS,
                target_storage_class="ARCHIVE",
                carried_by=None if row.id == named else action.digest,
            )
        )
    return applied


def _tags_of(session: Session, manifest_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    tags: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(m.ImageTag.manifest_id, m.ImageTag.name)
        .where(m.ImageTag.manifest_id.in_(list(manifest_ids)))
        .order_by(m.ImageTag.name)
    )
    for manifest_id, name in rows:
        tags[manifest_id].append(name)
    return {k: tuple(v) for k, v in tags.items()}


# --- the audit trail -------------------------------------------------------------------------


def _record(
    session: Session,
    repo: m.Repository,
    policy_text: str,
    applied: list[AppliedAction],
    now: datetime,
) -> Execution:
    done = [a for a in applied if a.result == SUCCESS]
    row = m.LifecycleExecution(
        account_id=repo.account_id,
        repository_id=repo.id,
        repository_name=repo.name,
        policy_text=policy_text,
        started_at=now,
        finished_at=now,
        expired=sum(1 for a in done if a.action == EXPIRE),
        transitioned=sum(1 for a in done if a.action == TRANSITION),
        actions=json.dumps([a.to_json() for a in applied]),
    )
    session.add(row)
    session.flush()
    return Execution(
        row.id, repo.account_id, repo.name, row.expired, row.transitioned, list(applied)
    )


def record_failed_execution(
    session: Session, *, repository_id: int, error: str, now: datetime
) -> None:
    """Write the audit row of a run that failed (its changes were rolled back)."""
    repo = session.get(m.Repository, repository_id)
    policy = session.get(m.LifecyclePolicy, repository_id)
    if repo is None or policy is None:
        return
    session.add(
        m.LifecycleExecution(
            account_id=repo.account_id,
            repository_id=repo.id,
            repository_name=repo.name,
            policy_text=policy.policy_text,
            started_at=now,
            finished_at=now,
            actions="[]",
            error=error[:4000],
        )
    )
