"""Managed policies: customer managed ones (one version, v1, the default) and the AWS managed
ones Stiva knows, and their attachments to users, groups and roles.

A customer managed policy's ARN is `arn:aws:iam::<account>:policy<path><name>`; only the
account's own policies and AWS managed ones can be read or attached. At most 10 managed
policies are attached to one user, group or role (IAM's default quota); a policy still
attached cannot be deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stiva.errors import LimitExceeded
from stiva.metadata import models as m
from stiva.services.iam.aws_managed import AwsPolicy, aws_policies, aws_policy, is_aws_arn
from stiva.services.iam.documents import identity_policy
from stiva.services.iam.entities import Owner, add_unique
from stiva.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    NoSuchEntity,
)
from stiva.services.iam.names import POLICY_PREFIX, Page, iam_arn, paginate, same_name, under_path
from stiva.services.identity import new_unique_id

ATTACHMENTS_PER_ENTITY: Final = 10
_ARN = re.compile(r"arn:aws:iam::(?P<account>[0-9]{12}|aws):policy(?P<rest>/.*)", re.ASCII)
_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A managed policy as IAM describes it (GetPolicy, ListPolicies, GetPolicyVersion)."""

    name: str
    policy_id: str
    arn: str
    path: str
    default_version_id: str
    description: str | None
    document: str
    created_at: datetime
    updated_at: datetime
    attachment_count: int
    aws_managed: bool


def _view(policy: m.IamManagedPolicy | AwsPolicy, count: int) -> ManagedPolicy:
    aws = isinstance(policy, AwsPolicy)
    return ManagedPolicy(
        name=policy.name,
        policy_id=policy.policy_id,
        arn=policy.arn,
        path=policy.path,
        default_version_id=policy.default_version_id,
        description=policy.description,
        document=policy.document,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
        attachment_count=count,
        aws_managed=aws,
    )


def check_arn(arn: str) -> None:
    """InvalidInput unless `arn` has the shape of a managed policy's ARN."""
    match = _ARN.fullmatch(arn)
    name = match["rest"].rsplit("/", 1)[-1] if match else ""
    if match is None or _NAME.fullmatch(name) is None:
        raise InvalidInput(f"ARN {arn} is not valid.")


def _resolve(session: Session, account_id: str, arn: str) -> m.IamManagedPolicy | AwsPolicy | None:
    check_arn(arn)
    if is_aws_arn(arn):
        return aws_policy(arn)
    return session.scalar(
        select(m.IamManagedPolicy).where(
            m.IamManagedPolicy.account_id == account_id, m.IamManagedPolicy.arn == arn
        )
    )


def attachment_counts(session: Session, *, account_id: str) -> dict[str, int]:
    """How many of the account's users, groups and roles each policy ARN is attached to."""
    counts: dict[str, int] = {}
    a = m.IamPolicyAttachment
    for kind, model in (("user", m.IamUser), ("group", m.IamGroup), ("role", m.IamRole)):
        rows = session.execute(
            select(a.policy_arn, func.count())
            .join(model, model.id == a.owner_id)
            .where(a.owner_kind == kind, model.account_id == account_id)
            .group_by(a.policy_arn)
        )
        for arn, count in rows:
            counts[arn] = counts.get(arn, 0) + count
    return counts


def create_policy(
    session: Session,
    *,
    account_id: str,
    name: str,
    path: str,
    document: str,
    description: str | None,
) -> ManagedPolicy:
    identity_policy(document)
    taken = select(m.IamManagedPolicy.id).where(
        m.IamManagedPolicy.account_id == account_id, same_name(m.IamManagedPolicy.name, name)
    )
    conflict = EntityAlreadyExists(
        f"A policy called {name} already exists. Duplicate names are not allowed."
    )
    if session.scalar(taken) is not None:
        raise conflict
    row = m.IamManagedPolicy(
        account_id=account_id,
        name=name,
        path=path,
        arn=iam_arn(account_id, "policy", path, name),
        policy_id=new_unique_id(POLICY_PREFIX),
        description=description,
        document=document,
    )
    add_unique(session, row, conflict)
    return _view(row, 0)


def get_policy(session: Session, *, account_id: str, arn: str) -> ManagedPolicy:
    policy = _resolve(session, account_id, arn)
    if policy is None:
        raise NoSuchEntity(f"Policy {arn} was not found.")
    return _view(policy, attachment_counts(session, account_id=account_id).get(arn, 0))


def get_policy_version(
    session: Session, *, account_id: str, arn: str, version_id: str
) -> ManagedPolicy:
    """The policy with its document, if `version_id` is its (only) version."""
    policy = get_policy(session, account_id=account_id, arn=arn)
    if version_id != policy.default_version_id:
        raise NoSuchEntity(
            f"Policy {arn} version {version_id} does not exist or is not attachable."
        )
    return policy


def list_policies(
    session: Session,
    *,
    account_id: str,
    scope: str = "All",
    only_attached: bool = False,
    path_prefix: str | None = None,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> Page[ManagedPolicy]:
    counts = attachment_counts(session, account_id=account_id)
    found: list[m.IamManagedPolicy | AwsPolicy] = []
    if scope in ("All", "Local"):
        found.extend(
            session.scalars(
                select(m.IamManagedPolicy).where(m.IamManagedPolicy.account_id == account_id)
            )
        )
    if scope in ("All", "AWS"):
        found.extend(aws_policies())
    views = [
        _view(policy, counts.get(policy.arn, 0))
        for policy in found
        if under_path(policy.path, path_prefix) and (counts.get(policy.arn) or not only_attached)
    ]
    views.sort(key=_position)
    return paginate(
        views, position=_position, marker=marker, max_items=max_items, key=key, kind="ListPolicies"
    )


def _position(policy: ManagedPolicy) -> str:
    return f"{policy.name.lower()} {int(policy.aws_managed)}"


def delete_policy(session: Session, *, account_id: str, arn: str) -> None:
    """Delete a customer managed policy that is attached to nothing."""
    policy = _resolve(session, account_id, arn)
    if not isinstance(policy, m.IamManagedPolicy):
        raise NoSuchEntity(f"Policy {arn} was not found.")
    attached = select(m.IamPolicyAttachment.owner_id).where(m.IamPolicyAttachment.policy_arn == arn)
    if session.scalar(attached.limit(1)) is not None:
        raise DeleteConflict("Cannot delete a policy attached to entities.")
    session.delete(policy)


def _attachments(session: Session, owner: Owner) -> list[m.IamPolicyAttachment]:
    return list(
        session.scalars(
            select(m.IamPolicyAttachment).where(
                m.IamPolicyAttachment.owner_kind == owner.kind,
                m.IamPolicyAttachment.owner_id == owner.id,
            )
        )
    )


def attach_policy(session: Session, *, owner: Owner, arn: str) -> None:
    """Attach a managed policy (idempotent); NoSuchEntity for one the account cannot use."""
    if _resolve(session, owner.account_id, arn) is None:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    current = _attachments(session, owner)
    if any(a.policy_arn == arn for a in current):
        return
    if len(current) >= ATTACHMENTS_PER_ENTITY:
        raise LimitExceeded(
            f"Cannot exceed quota for PoliciesPer{owner.kind.title()}: {ATTACHMENTS_PER_ENTITY}"
        )
    session.add(m.IamPolicyAttachment(owner_kind=owner.kind, owner_id=owner.id, policy_arn=arn))


def detach_policy(session: Session, *, owner: Owner, arn: str) -> None:
    check_arn(arn)
    for attachment in _attachments(session, owner):
        if attachment.policy_arn == arn:
            session.delete(attachment)
            return
    raise NoSuchEntity(f"Policy {arn} was not found.")


def list_attached_policies(
    session: Session,
    *,
    owner: Owner,
    path_prefix: str | None,
    marker: str | None,
    max_items: int | None,
    key: bytes,
) -> Page[tuple[str, str]]:
    """(policy name, policy ARN) of every managed policy attached to the entity."""
    attached: list[tuple[str, str]] = []
    for attachment in _attachments(session, owner):
        arn = attachment.policy_arn
        path, _, name = arn.split(":", 5)[-1].removeprefix("policy").rpartition("/")
        if under_path(path + "/", path_prefix):
            attached.append((name, arn))
    attached.sort(key=lambda item: (item[0].lower(), int(is_aws_arn(item[1]))))
    return paginate(
        attached,
        position=lambda item: f"{item[0].lower()} {int(is_aws_arn(item[1]))}",
        marker=marker,
        max_items=max_items,
        key=key,
        kind=f"ListAttached{owner.kind.title()}Policies:{owner.id}",
    )
