"""Pull-time update exclusions: IAM principals whose pulls do not move lastRecordedPullTime.

ECR's Register/Deregister/ListPullTimeUpdateExclusions, per registry (account), at most
`MAX_EXCLUSIONS` principals. The pull recorder (`services/pulls.py`) consults them when it
writes pull times, every few seconds, not on each pull (`excluded_pulls`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stiva.errors import ExclusionAlreadyExists, ExclusionNotFound, InvalidParameter, LimitExceeded
from stiva.metadata import models as m
from stiva.services.pagination import decode_token, encode_token

MAX_EXCLUSIONS = 100  # ECR's quota: pull-time update exclusions per registry
_CHUNK = 500  # bound IN lists, for any database's parameter limit


def register_exclusion(
    session: Session, *, account_id: str, principal_arn: str, now: datetime
) -> m.PullTimeExclusion:
    if session.get(m.PullTimeExclusion, (account_id, principal_arn)) is not None:
        raise ExclusionAlreadyExists(
            f"The pull time update exclusion for principal '{principal_arn}' already exists "
            f"in the registry with id '{account_id}'"
        )
    count = session.scalar(
        select(func.count())
        .select_from(m.PullTimeExclusion)
        .where(m.PullTimeExclusion.account_id == account_id)
    )
    if (count or 0) >= MAX_EXCLUSIONS:
        raise LimitExceeded(
            f"The registry with id '{account_id}' already has {MAX_EXCLUSIONS} pull time update "
            f"exclusions, the maximum; deregister one before registering '{principal_arn}'"
        )
    row = m.PullTimeExclusion(account_id=account_id, principal_arn=principal_arn, created_at=now)
    session.add(row)
    session.flush()
    return row


def deregister_exclusion(session: Session, *, account_id: str, principal_arn: str) -> None:
    row = session.get(m.PullTimeExclusion, (account_id, principal_arn))
    if row is None:
        raise ExclusionNotFound(
            f"The pull time update exclusion for principal '{principal_arn}' does not exist "
            f"in the registry with id '{account_id}'"
        )
    session.delete(row)


def list_exclusions(
    session: Session, *, account_id: str, max_results: int, next_token: str | None, key: bytes
) -> tuple[list[str], str | None]:
    """The registry's excluded principals in ARN order, a page at a time."""
    after = ""
    if next_token:
        position = decode_token(next_token, key, kind="pull-time-exclusions")
        if position.get("account") != account_id:
            raise InvalidParameter(
                "Invalid parameter at 'nextToken': the token belongs to another registry"
            )
        after = str(position["after"])
    arns = list(
        session.scalars(
            select(m.PullTimeExclusion.principal_arn)
            .where(
                m.PullTimeExclusion.account_id == account_id,
                m.PullTimeExclusion.principal_arn > after,
            )
            .order_by(m.PullTimeExclusion.principal_arn)
            .limit(max_results + 1)
        )
    )
    if len(arns) <= max_results:
        return arns, None
    arns = arns[:max_results]
    position = {"kind": "pull-time-exclusions", "account": account_id, "after": arns[-1]}
    return arns, encode_token(position, key)


def excluded_pulls(session: Session, pulls: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (manifest id, principal ARN) pulls the manifest's registry excludes."""
    wanted = list(pulls)
    excluded: set[tuple[int, str]] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(m.Manifest.id, m.PullTimeExclusion.principal_arn)
            .join(m.Repository, m.Repository.id == m.Manifest.repository_id)
            .join(m.PullTimeExclusion, m.PullTimeExclusion.account_id == m.Repository.account_id)
            .where(
                m.Manifest.id.in_({manifest_id for manifest_id, _ in chunk}),
                m.PullTimeExclusion.principal_arn.in_({arn for _, arn in chunk}),
            )
        )
        excluded |= {(manifest_id, arn) for manifest_id, arn in rows}
    return excluded & set(wanted)
