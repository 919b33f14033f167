"""IAM users: CreateUser, GetUser, ListUsers, DeleteUser, and the caller's own user."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services.iam.entities import add_unique, check_no_policies, find_user, user_or_none
from stiva.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    IamValidationError,
    NoSuchEntity,
)
from stiva.services.iam.names import USER_PREFIX, Page, paginate, under_path
from stiva.services.identity import Principal, new_unique_id


def create_user(session: Session, *, account_id: str, name: str, path: str = "/") -> m.IamUser:
    taken = EntityAlreadyExists(f"User with name {name} already exists.")
    if user_or_none(session, account_id=account_id, name=name) is not None:
        raise taken
    user = m.IamUser(
        account_id=account_id, name=name, path=path, user_id=new_unique_id(USER_PREFIX)
    )
    add_unique(session, user, taken)
    return user


def get_user(session: Session, *, account_id: str, name: str) -> m.IamUser:
    return find_user(session, account_id=account_id, name=name)


def caller_user(session: Session, principal: Principal) -> m.IamUser:
    """The user row behind the caller's credentials (the root row for the root principal).

    Role sessions have none: IAM's ValidationError, as for GetUser without UserName.
    """
    if principal.kind == "assumed-role":
        raise IamValidationError("Must specify userName when calling with non-User credentials")
    where: ColumnElement[bool]
    if principal.kind == "root":
        where = (m.IamUser.account_id == principal.account_id) & m.IamUser.is_root.is_(True)
    else:
        where = m.IamUser.user_id == principal.user_id
    user = session.scalar(select(m.IamUser).where(where))
    if user is None:
        raise NoSuchEntity(f"The user with name {principal.name} cannot be found.")
    return user


def list_users(
    session: Session,
    *,
    account_id: str,
    path_prefix: str | None,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> Page[m.IamUser]:
    rows = session.scalars(
        select(m.IamUser).where(m.IamUser.account_id == account_id, m.IamUser.is_root.is_(False))
    )
    users = sorted(
        (user for user in rows if under_path(user.path, path_prefix)),
        key=lambda user: user.name.lower(),
    )
    return paginate(
        users,
        position=lambda user: user.name.lower(),
        marker=marker,
        max_items=max_items,
        key=key,
        kind="ListUsers",
    )


def delete_user(session: Session, *, account_id: str, name: str) -> None:
    """Delete a user that has no access keys, policies or group memberships left (IAM's rule)."""
    user = find_user(session, account_id=account_id, name=name)
    if session.scalar(select(exists().where(m.AccessKey.user_id == user.id))):
        raise DeleteConflict("Cannot delete entity, must delete access keys first.")
    check_no_policies(session, kind="user", owner_id=user.id)
    if session.scalar(select(exists().where(m.IamGroupMember.user_id == user.id))):
        raise DeleteConflict("Cannot delete entity, must remove users from group first.")
    session.delete(user)
