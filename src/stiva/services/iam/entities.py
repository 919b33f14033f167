"""Finding users, groups and roles by name, and the one view of any of them that can hold
policies (`Owner`), with IAM's NoSuchEntity texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.errors import StivaError
from stiva.metadata import models as m
from stiva.services.iam.errors import DeleteConflict, NoSuchEntity
from stiva.services.iam.names import iam_arn, same_name

Kind = Literal["user", "group", "role"]


@dataclass(frozen=True, slots=True)
class Owner:
    """A user, group or role as the holder of inline policies and attachments."""

    kind: Kind
    id: int
    name: str
    path: str
    account_id: str

    @property
    def arn(self) -> str:
        return iam_arn(self.account_id, self.kind, self.path, self.name)


def user_or_none(session: Session, *, account_id: str, name: str) -> m.IamUser | None:
    return session.scalar(
        select(m.IamUser).where(
            m.IamUser.account_id == account_id,
            m.IamUser.is_root.is_(False),
            same_name(m.IamUser.name, name),
        )
    )


def find_user(session: Session, *, account_id: str, name: str) -> m.IamUser:
    user = user_or_none(session, account_id=account_id, name=name)
    if user is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return user


def group_or_none(session: Session, *, account_id: str, name: str) -> m.IamGroup | None:
    return session.scalar(
        select(m.IamGroup).where(
            m.IamGroup.account_id == account_id, same_name(m.IamGroup.name, name)
        )
    )


def find_group(session: Session, *, account_id: str, name: str) -> m.IamGroup:
    group = group_or_none(session, account_id=account_id, name=name)
    if group is None:
        raise NoSuchEntity(f"The group with name {name} cannot be found.")
    return group


def role_or_none(session: Session, *, account_id: str, name: str) -> m.IamRole | None:
    return session.scalar(
        select(m.IamRole).where(m.IamRole.account_id == account_id, same_name(m.IamRole.name, name))
    )


def find_role(session: Session, *, account_id: str, name: str) -> m.IamRole:
    role = role_or_none(session, account_id=account_id, name=name)
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


def find_owner(session: Session, *, account_id: str, kind: Kind, name: str) -> Owner:
    """The user, group or role `name` of the account; NoSuchEntity in IAM's words."""
    row: m.IamUser | m.IamGroup | m.IamRole
    if kind == "user":
        row = find_user(session, account_id=account_id, name=name)
    elif kind == "group":
        row = find_group(session, account_id=account_id, name=name)
    else:
        row = find_role(session, account_id=account_id, name=name)
    return Owner(kind, row.id, row.name, row.path, row.account_id)


def owner_path(session: Session, *, account_id: str, kind: Kind, name: str) -> str:
    """The path of an existing entity, else "/" (to name a resource before it exists)."""
    row: m.IamUser | m.IamGroup | m.IamRole | None
    if kind == "user":
        row = user_or_none(session, account_id=account_id, name=name)
    elif kind == "group":
        row = group_or_none(session, account_id=account_id, name=name)
    else:
        row = role_or_none(session, account_id=account_id, name=name)
    return row.path if row is not None else "/"


def check_no_policies(session: Session, *, kind: str, owner_id: int) -> None:
    """DeleteConflict unless the user, group or role holds no inline or attached policy."""
    inline = exists().where(
        m.IamInlinePolicy.owner_kind == kind, m.IamInlinePolicy.owner_id == owner_id
    )
    if session.scalar(select(inline)):
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    attached = exists().where(
        m.IamPolicyAttachment.owner_kind == kind, m.IamPolicyAttachment.owner_id == owner_id
    )
    if session.scalar(select(attached)):
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")


def add_unique(session: Session, row: m.Base, conflict: StivaError) -> None:
    """Insert `row` in a savepoint; `conflict` if a concurrent writer took its name first
    (the check before the insert covers the common case, this the race on PostgreSQL)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise conflict from None
