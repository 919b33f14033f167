"""IAM groups and their members (a user is in at most 10 groups, IAM's default quota)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from stiva.errors import LimitExceeded
from stiva.metadata import models as m
from stiva.services.iam.entities import (
    add_unique,
    check_no_policies,
    find_group,
    find_user,
    group_or_none,
)
from stiva.services.iam.errors import DeleteConflict, EntityAlreadyExists, NoSuchEntity
from stiva.services.iam.names import GROUP_PREFIX, Page, paginate, under_path
from stiva.services.identity import new_unique_id

GROUPS_PER_USER: Final = 10


def create_group(session: Session, *, account_id: str, name: str, path: str = "/") -> m.IamGroup:
    taken = EntityAlreadyExists(f"Group with name {name} already exists.")
    if group_or_none(session, account_id=account_id, name=name) is not None:
        raise taken
    group = m.IamGroup(
        account_id=account_id, name=name, path=path, group_id=new_unique_id(GROUP_PREFIX)
    )
    add_unique(session, group, taken)
    return group


def get_group(
    session: Session,
    *,
    account_id: str,
    name: str,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> tuple[m.IamGroup, Page[m.IamUser]]:
    """The group and a page of its members."""
    group = find_group(session, account_id=account_id, name=name)
    members = session.scalars(
        select(m.IamUser)
        .join(m.IamGroupMember, m.IamGroupMember.user_id == m.IamUser.id)
        .where(m.IamGroupMember.group_id == group.id)
    )
    users = sorted(members, key=lambda user: user.name.lower())
    page = paginate(
        users,
        position=lambda user: user.name.lower(),
        marker=marker,
        max_items=max_items,
        key=key,
        kind=f"GetGroup:{group.group_id}",
    )
    return group, page


def _groups_page(
    groups: list[m.IamGroup], kind: str, marker: str | None, max_items: int | None, key: bytes
) -> Page[m.IamGroup]:
    groups.sort(key=lambda group: group.name.lower())
    return paginate(
        groups,
        position=lambda group: group.name.lower(),
        marker=marker,
        max_items=max_items,
        key=key,
        kind=kind,
    )


def list_groups(
    session: Session,
    *,
    account_id: str,
    path_prefix: str | None,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> Page[m.IamGroup]:
    rows = session.scalars(select(m.IamGroup).where(m.IamGroup.account_id == account_id))
    groups = [group for group in rows if under_path(group.path, path_prefix)]
    return _groups_page(groups, "ListGroups", marker, max_items, key)


def list_groups_for_user(
    session: Session,
    *,
    account_id: str,
    user_name: str,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> Page[m.IamGroup]:
    user = find_user(session, account_id=account_id, name=user_name)
    groups = list(
        session.scalars(
            select(m.IamGroup)
            .join(m.IamGroupMember, m.IamGroupMember.group_id == m.IamGroup.id)
            .where(m.IamGroupMember.user_id == user.id)
        )
    )
    return _groups_page(groups, f"ListGroupsForUser:{user.user_id}", marker, max_items, key)


def add_user_to_group(
    session: Session, *, account_id: str, group_name: str, user_name: str
) -> None:
    """Make the user a member (idempotent)."""
    group = find_group(session, account_id=account_id, name=group_name)
    user = find_user(session, account_id=account_id, name=user_name)
    if session.get(m.IamGroupMember, (group.id, user.id)) is not None:
        return
    count = session.scalar(select(func.count()).where(m.IamGroupMember.user_id == user.id)) or 0
    if count >= GROUPS_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
    session.add(m.IamGroupMember(group_id=group.id, user_id=user.id))


def remove_user_from_group(
    session: Session, *, account_id: str, group_name: str, user_name: str
) -> None:
    group = find_group(session, account_id=account_id, name=group_name)
    user = find_user(session, account_id=account_id, name=user_name)
    member = session.get(m.IamGroupMember, (group.id, user.id))
    if member is None:
        raise NoSuchEntity(f"The user with name {user.name} is not in group {group.name}.")
    session.delete(member)


def delete_group(session: Session, *, account_id: str, name: str) -> None:
    """Delete a group without members or policies (IAM's rule)."""
    group = find_group(session, account_id=account_id, name=name)
    if session.scalar(select(exists().where(m.IamGroupMember.group_id == group.id))):
        raise DeleteConflict("Cannot delete entity, must remove users from group first.")
    check_no_policies(session, kind="group", owner_id=group.id)
    session.delete(group)
