"""Access keys of IAM users: at most two per user, the secret sealed at rest and shown once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stiva.errors import LimitExceeded
from stiva.metadata import models as m
from stiva.services.iam.errors import NoSuchEntity
from stiva.services.iam.names import Page, paginate
from stiva.services.identity import add_access_key
from stiva.services.secrets import SecretBox

KEYS_PER_USER = 2


def create_access_key(
    session: Session, box: SecretBox, *, user: m.IamUser
) -> tuple[m.AccessKey, str]:
    """A new active key for `user` and its secret (the only time the secret is given out)."""
    count = session.scalar(select(func.count()).where(m.AccessKey.user_id == user.id)) or 0
    if count >= KEYS_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")
    key_id, secret = add_access_key(session, box, user_id=user.id)
    session.flush()
    row = session.get(m.AccessKey, key_id)
    assert row is not None
    return row, secret


def list_access_keys(
    session: Session, *, user: m.IamUser, marker: str | None, max_items: int | None, key: bytes
) -> Page[m.AccessKey]:
    rows = session.scalars(
        select(m.AccessKey)
        .where(m.AccessKey.user_id == user.id)
        .order_by(m.AccessKey.created_at, m.AccessKey.access_key_id)
    ).all()
    return paginate(
        rows,
        position=lambda row: f"{row.created_at.isoformat()} {row.access_key_id}",
        marker=marker,
        max_items=max_items,
        key=key,
        kind=f"ListAccessKeys:{user.user_id}",
    )


def _key_of(session: Session, user: m.IamUser, access_key_id: str) -> m.AccessKey:
    row = session.get(m.AccessKey, access_key_id)
    if row is None or row.user_id != user.id:
        raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
    return row


def update_access_key(
    session: Session, *, user: m.IamUser, access_key_id: str, status: str
) -> None:
    """Activate or deactivate a key; an inactive key no longer authenticates anything."""
    _key_of(session, user, access_key_id).status = status


def delete_access_key(session: Session, *, user: m.IamUser, access_key_id: str) -> None:
    session.delete(_key_of(session, user, access_key_id))


def access_key_last_used(
    session: Session, *, account_id: str, access_key_id: str
) -> tuple[m.AccessKey, m.IamUser]:
    """A key of the account with its user, for GetAccessKeyLastUsed."""
    row = session.execute(
        select(m.AccessKey, m.IamUser)
        .join(m.IamUser, m.IamUser.id == m.AccessKey.user_id)
        .where(m.AccessKey.access_key_id == access_key_id, m.IamUser.account_id == account_id)
    ).first()
    if row is None:
        raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
    return row[0], row[1]
