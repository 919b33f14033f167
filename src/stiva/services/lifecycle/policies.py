"""PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy: one stored policy a repository.

The text is validated by the pure grammar (`stiva.lifecycle.policy`) and stored in ECR's
normalised form (compact JSON, rules in priority order), which Put, Get and Delete return.
A validation failure is ECR's InvalidParameterException: "Invalid parameter at
'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure:
<detail>'". `lastEvaluatedAt` is the last time the sweep applied the policy; ECR answers 0 (the
epoch) when it never ran (the aws CLI's documented delete-lifecycle-policy output).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.errors import InvalidParameter, LifecyclePolicyNotFound
from stiva.lifecycle.policy import (
    LifecyclePolicy,
    LifecyclePolicyError,
    normalize_lifecycle_policy,
    parse_lifecycle_policy,
)
from stiva.metadata import models as m
from stiva.services.repositories import get_repository

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    text: str
    last_evaluated_at: datetime  # the epoch when the policy was never applied


def invalid_policy(detail: str) -> InvalidParameter:
    return InvalidParameter(
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        f"'Lifecycle policy validation failure: {detail}'"
    )


def parse_policy(text: str) -> LifecyclePolicy:
    """The policy `text` holds, or ECR's InvalidParameterException naming what is wrong."""
    try:
        return parse_lifecycle_policy(text)
    except LifecyclePolicyError as exc:
        raise invalid_policy(exc.detail) from None


def _normalized(text: str) -> str:
    parse_policy(text)
    try:
        return normalize_lifecycle_policy(text)
    except LifecyclePolicyError as exc:
        raise invalid_policy(exc.detail) from None


def _stored(row: m.LifecyclePolicy) -> StoredPolicy:
    return StoredPolicy(row.policy_text, row.last_evaluated_at or EPOCH)


def put_lifecycle_policy(
    session: Session, *, account_id: str, name: str, policy_text: str, now: datetime
) -> str:
    """Validate and store (or replace) a repository's policy; the stored (normalised) text."""
    repo = get_repository(session, account_id=account_id, name=name)
    text = _normalized(policy_text)
    row = session.get(m.LifecyclePolicy, repo.id)
    if row is None:
        try:
            with session.begin_nested():  # a concurrent Put may insert first: then update it
                session.add(
                    m.LifecyclePolicy(repository_id=repo.id, policy_text=text, updated_at=now)
                )
                session.flush()
            return text
        except IntegrityError:
            row = session.get(m.LifecyclePolicy, repo.id, populate_existing=True)
            assert row is not None
    row.policy_text, row.updated_at = text, now
    return text


def stored_policy(session: Session, *, repository: m.Repository) -> StoredPolicy:
    row = session.get(m.LifecyclePolicy, repository.id)
    if row is None:
        raise LifecyclePolicyNotFound(repository.name, repository.account_id)
    return _stored(row)


def get_lifecycle_policy(session: Session, *, account_id: str, name: str) -> StoredPolicy:
    repo = get_repository(session, account_id=account_id, name=name)
    return stored_policy(session, repository=repo)


def delete_lifecycle_policy(session: Session, *, account_id: str, name: str) -> StoredPolicy:
    """Remove a repository's policy; what it was (Delete returns it)."""
    repo = get_repository(session, account_id=account_id, name=name)
    row = session.get(m.LifecyclePolicy, repo.id)
    if row is None:
        raise LifecyclePolicyNotFound(repo.name, repo.account_id)
    stored = _stored(row)
    session.delete(row)
    return stored
