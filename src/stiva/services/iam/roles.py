"""IAM roles: a trust policy (who may assume the role) and a maximum session duration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services.iam.documents import trust_policy
from stiva.services.iam.entities import add_unique, check_no_policies, find_role, role_or_none
from stiva.services.iam.errors import EntityAlreadyExists
from stiva.services.iam.names import ROLE_PREFIX, Page, paginate, under_path
from stiva.services.identity import new_unique_id

DEFAULT_MAX_SESSION = 3600


def create_role(
    session: Session,
    *,
    account_id: str,
    name: str,
    trust_document: str,
    path: str = "/",
    description: str | None = None,
    max_session_duration: int | None = None,
) -> m.IamRole:
    trust_policy(trust_document)
    taken = EntityAlreadyExists(f"Role with name {name} already exists.")
    if role_or_none(session, account_id=account_id, name=name) is not None:
        raise taken
    role = m.IamRole(
        account_id=account_id,
        name=name,
        path=path,
        role_id=new_unique_id(ROLE_PREFIX),
        trust_policy=trust_document,
        description=description,
        max_session_duration=max_session_duration or DEFAULT_MAX_SESSION,
    )
    add_unique(session, role, taken)
    return role


def get_role(session: Session, *, account_id: str, name: str) -> m.IamRole:
    return find_role(session, account_id=account_id, name=name)


def list_roles(
    session: Session,
    *,
    account_id: str,
    path_prefix: str | None,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> Page[m.IamRole]:
    rows = session.scalars(select(m.IamRole).where(m.IamRole.account_id == account_id))
    roles = sorted(
        (role for role in rows if under_path(role.path, path_prefix)),
        key=lambda role: role.name.lower(),
    )
    return paginate(
        roles,
        position=lambda role: role.name.lower(),
        marker=marker,
        max_items=max_items,
        key=key,
        kind="ListRoles",
    )


def update_assume_role_policy(
    session: Session, *, account_id: str, name: str, trust_document: str
) -> None:
    trust_policy(trust_document)
    find_role(session, account_id=account_id, name=name).trust_policy = trust_document


def update_role(
    session: Session,
    *,
    account_id: str,
    name: str,
    description: str | None,
    max_session_duration: int | None,
) -> None:
    role = find_role(session, account_id=account_id, name=name)
    if description is not None:
        role.description = description
    if max_session_duration is not None:
        role.max_session_duration = max_session_duration


def delete_role(session: Session, *, account_id: str, name: str) -> None:
    """Delete a role without policies (its sessions end with it)."""
    role = find_role(session, account_id=account_id, name=name)
    check_no_policies(session, kind="role", owner_id=role.id)
    session.delete(role)
