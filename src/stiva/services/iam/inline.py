"""Inline policies of users, groups and roles (Put/Get/List/Delete{User,Group,Role}Policy).

IAM's quota on inline policies is the total size of an entity's documents, white space not
counted: 2,048 characters for a user, 5,120 for a group, 10,240 for a role.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.errors import LimitExceeded
from stiva.metadata import models as m
from stiva.services.iam.documents import identity_policy, policy_size
from stiva.services.iam.entities import Owner
from stiva.services.iam.errors import NoSuchEntity
from stiva.services.iam.names import Page, paginate, same_name

SIZE_QUOTAS: Final = {"user": 2048, "group": 5120, "role": 10240}


def _policies(session: Session, owner: Owner) -> list[m.IamInlinePolicy]:
    return list(
        session.scalars(
            select(m.IamInlinePolicy).where(
                m.IamInlinePolicy.owner_kind == owner.kind,
                m.IamInlinePolicy.owner_id == owner.id,
            )
        )
    )


def _policy_or_none(session: Session, owner: Owner, name: str) -> m.IamInlinePolicy | None:
    return session.scalar(
        select(m.IamInlinePolicy).where(
            m.IamInlinePolicy.owner_kind == owner.kind,
            m.IamInlinePolicy.owner_id == owner.id,
            same_name(m.IamInlinePolicy.name, name),
        )
    )


def put_inline_policy(session: Session, *, owner: Owner, name: str, document: str) -> None:
    """Add or replace the inline policy `name` of a user, group or role."""
    identity_policy(document)
    existing = _policy_or_none(session, owner, name)
    others = [p for p in _policies(session, owner) if existing is None or p.id != existing.id]
    total = sum(policy_size(p.document) for p in others) + policy_size(document)
    quota = SIZE_QUOTAS[owner.kind]
    if total > quota:
        raise LimitExceeded(
            f"Maximum policy size of {quota} bytes exceeded for {owner.kind} {owner.name}"
        )
    if existing is not None:
        existing.document = document
        return
    session.add(
        m.IamInlinePolicy(owner_kind=owner.kind, owner_id=owner.id, name=name, document=document)
    )


def get_inline_policy(session: Session, *, owner: Owner, name: str) -> m.IamInlinePolicy:
    policy = _policy_or_none(session, owner, name)
    if policy is None:
        raise NoSuchEntity(f"The {owner.kind} policy with name {name} cannot be found.")
    return policy


def list_inline_policies(
    session: Session, *, owner: Owner, marker: str | None, max_items: int | None, key: bytes
) -> Page[str]:
    names = sorted((p.name for p in _policies(session, owner)), key=str.lower)
    return paginate(
        names,
        position=str.lower,
        marker=marker,
        max_items=max_items,
        key=key,
        kind=f"List{owner.kind.title()}Policies:{owner.id}",
    )


def delete_inline_policy(session: Session, *, owner: Owner, name: str) -> None:
    session.delete(get_inline_policy(session, owner=owner, name=name))
