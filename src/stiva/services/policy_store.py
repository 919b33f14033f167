"""The policies an authorization decision needs, read from the metadata database.

- identity policies of a principal: a user's inline and attached policies and those of its
  groups; a role session's role's inline and attached policies; none for root (the engine
  knows root is all-powerful in its own account);
- a repository's resource policy and resource tags;
- an account's registry policy and its REGISTRY_POLICY_SCOPE.

Attached policies are customer managed (by ARN, in `iam_managed_policies`) or AWS managed
(`stiva.iam.managed`). Documents were validated when stored; one that no longer parses (a newer
release's grammar, manual edits) is skipped and logged, never allowed by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.iam.managed import AWS_MANAGED
from stiva.iam.policy import Policy, PolicyError, parse_policy
from stiva.metadata import models as m
from stiva.services.identity import Principal
from stiva.services.settings import get_setting

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RepositoryFacts:
    policy: Policy | None
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class RegistryFacts:
    policy: Policy | None
    scope: str  # REGISTRY_POLICY_SCOPE: V1 | V2


def _parse(text: str, where: str, *, resource_based: bool) -> Policy | None:
    try:
        return parse_policy(text, resource_based=resource_based)
    except PolicyError as exc:
        log.error("ignoring the unparsable policy %s: %s", where, exc)
        return None


def _inline(session: Session, kind: str, owner_ids: Iterable[int]) -> list[Policy]:
    rows = session.execute(
        select(m.IamInlinePolicy.name, m.IamInlinePolicy.document).where(
            m.IamInlinePolicy.owner_kind == kind, m.IamInlinePolicy.owner_id.in_(list(owner_ids))
        )
    ).all()
    parsed = (
        _parse(doc, f"{kind} inline policy {name}", resource_based=False) for name, doc in rows
    )
    return [p for p in parsed if p is not None]


def _attached(session: Session, kind: str, owner_ids: Iterable[int]) -> list[Policy]:
    arns = set(
        session.scalars(
            select(m.IamPolicyAttachment.policy_arn).where(
                m.IamPolicyAttachment.owner_kind == kind,
                m.IamPolicyAttachment.owner_id.in_(list(owner_ids)),
            )
        )
    )
    policies = [AWS_MANAGED[arn].policy for arn in sorted(arns) if arn in AWS_MANAGED]
    customer = session.execute(
        select(m.IamManagedPolicy.arn, m.IamManagedPolicy.document).where(
            m.IamManagedPolicy.arn.in_(arns - AWS_MANAGED.keys())
        )
    ).all()
    for arn, document in customer:
        parsed = _parse(document, arn, resource_based=False)
        if parsed is not None:
            policies.append(parsed)
    return policies


def identity_policies(session: Session, principal: Principal) -> tuple[Policy, ...]:
    """Every identity policy that applies to the principal (empty for root and unknown ids)."""
    if principal.kind == "user":
        user = session.scalar(select(m.IamUser.id).where(m.IamUser.user_id == principal.user_id))
        if user is None:
            return ()
        groups = list(
            session.scalars(
                select(m.IamGroupMember.group_id).where(m.IamGroupMember.user_id == user)
            )
        )
        return tuple(
            _inline(session, "user", [user])
            + _attached(session, "user", [user])
            + _inline(session, "group", groups)
            + _attached(session, "group", groups)
        )
    if principal.kind == "assumed-role":
        role_unique_id = principal.user_id.split(":", 1)[0]
        role = session.scalar(select(m.IamRole.id).where(m.IamRole.role_id == role_unique_id))
        if role is None:
            return ()
        return tuple(_inline(session, "role", [role]) + _attached(session, "role", [role]))
    return ()


def repository_facts(session: Session, *, account_id: str, name: str) -> RepositoryFacts:
    repo = session.execute(
        select(m.Repository.id, m.Repository.policy_text).where(
            m.Repository.account_id == account_id, m.Repository.name == name
        )
    ).first()
    if repo is None:
        return RepositoryFacts(None, {})
    policy = None
    if repo.policy_text:
        policy = _parse(repo.policy_text, f"of repository {name}", resource_based=True)
    tags = dict(
        session.execute(
            select(m.RepositoryTag.key, m.RepositoryTag.value).where(
                m.RepositoryTag.repository_id == repo.id
            )
        ).all()
    )
    return RepositoryFacts(policy, tags)


def registry_facts(session: Session, *, account_id: str) -> RegistryFacts:
    text = session.scalar(
        select(m.RegistryPolicy.policy_text).where(m.RegistryPolicy.account_id == account_id)
    )
    policy = _parse(text, f"of registry {account_id}", resource_based=True) if text else None
    scope = get_setting(session, account_id=account_id, name="REGISTRY_POLICY_SCOPE")
    return RegistryFacts(policy, scope)
