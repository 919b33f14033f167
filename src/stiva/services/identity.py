"""Accounts, principals and their credentials; the first-start bootstrap; shared deployment keys."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.iam.sigv4 import Credential
from stiva.metadata import models as m
from stiva.metadata.dialect import insert_ignore

TOKEN_KEY = "registry-token-key"  # noqa: S105 - a key name, not a key
PAGINATION_KEY = "pagination-token-key"
_KEY_ALPHABET = string.ascii_uppercase + "234567"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, identified by one of its access keys.

    `kind` is "root" (the account itself, `...:root`), "user" (an IAM user) or "assumed-role" (an
    STS role session, `arn:aws:sts::<account>:assumed-role/<role>/<session>`). `user_id` is AWS's
    unique id (`aws:userid`): the account id for root, `AIDA...` for a user, `AROA...:<session>`
    for a role session. `expires_at` (epoch seconds) bounds temporary credentials.
    """

    arn: str
    account_id: str
    user_id: str
    access_key_id: str
    kind: str = "user"
    expires_at: int | None = None

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    account_id: str
    user_arn: str
    access_key_id: str
    secret_access_key: str


def user_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:user{path}{name}"


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def _new_access_key() -> tuple[str, str]:
    key_id = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return key_id, secrets.token_urlsafe(30)


def default_account(session: Session) -> str | None:
    return session.scalar(select(m.Account.id).where(m.Account.is_default))


def create_account(session: Session, *, account_id: str, default: bool = False) -> BootstrapResult:
    """Create an account with an administrator user `admin` and one access key for it."""
    session.add(m.Account(id=account_id, is_default=default))
    user = m.IamUser(
        account_id=account_id,
        name="admin",
        user_id="AIDA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17)),
    )
    session.add(user)
    session.flush()
    key_id, secret = _new_access_key()
    session.add(m.AccessKey(access_key_id=key_id, secret_access_key=secret, user_id=user.id))
    return BootstrapResult(account_id, user_arn(account_id, "admin"), key_id, secret)


def bootstrap(session: Session, *, account_id: str | None) -> BootstrapResult | None:
    """On a database with no default account, create it; otherwise do nothing (return None)."""
    if default_account(session) is not None:
        return None
    return create_account(session, account_id=account_id or new_account_id(), default=True)


def ensure_key(session: Session, name: str, size: int = 32) -> bytes:
    """The deployment key `name`, created once for every node that shares this database."""
    insert_ignore(
        session,
        m.DeploymentSecret.__table__,  # type: ignore[arg-type]
        [{"name": name, "value": secrets.token_bytes(size), "created_at": m.utcnow()}],
    )
    value = session.scalar(select(m.DeploymentSecret.value).where(m.DeploymentSecret.name == name))
    assert value is not None
    return value


def lookup_access_key(session: Session, access_key_id: str) -> tuple[Credential, Principal] | None:
    """The secret and the principal behind an active access key, or None."""
    row = session.execute(
        select(m.AccessKey.secret_access_key, m.IamUser)
        .join(m.IamUser, m.IamUser.id == m.AccessKey.user_id)
        .where(m.AccessKey.access_key_id == access_key_id, m.AccessKey.status == "Active")
    ).first()
    if row is None:
        return None
    secret, user = row
    principal = Principal(
        arn=user_arn(user.account_id, user.name, user.path),
        account_id=user.account_id,
        user_id=user.user_id,
        access_key_id=access_key_id,
    )
    return Credential(secret_access_key=secret), principal
