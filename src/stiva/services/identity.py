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
from stiva.services.secrets import PREFIX, SecretBox

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
    """A new account and the one credential it starts with (shown once, never stored in clear)."""

    account_id: str
    user_arn: str
    access_key_id: str
    secret_access_key: str


ROOT_NAME = "<root>"  # the root principal's row; not a valid IAM user name, so never a clash
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def user_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:user{path}{name}"


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def new_unique_id(prefix: str) -> str:
    """An AWS-style unique id: AIDA (user), AGPA (group), AROA (role), ANPA (policy), ..."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))


def default_account(session: Session) -> str | None:
    return session.scalar(select(m.Account.id).where(m.Account.is_default))


def list_accounts(session: Session) -> list[m.Account]:
    return list(session.scalars(select(m.Account).order_by(m.Account.created_at, m.Account.id)))


def add_access_key(
    session: Session, box: SecretBox, *, user_id: int, prefix: str = "AKIA"
) -> tuple[str, str]:
    """A new active access key for the user row `user_id`: (key id, secret), sealed at rest."""
    key_id = prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    secret = secrets.token_urlsafe(30)
    sealed = box.seal(secret, context=key_id)
    session.add(m.AccessKey(access_key_id=key_id, secret_access_key=sealed, user_id=user_id))
    return key_id, secret


def create_account(
    session: Session,
    box: SecretBox,
    *,
    account_id: str,
    default: bool = False,
    admin_user: bool = True,
) -> BootstrapResult:
    """Create an account and its root principal, plus its first credential.

    With `admin_user`, the credential belongs to an IAM user `admin` with AdministratorAccess
    attached (the bootstrap); otherwise it is a root access key (`stiva admin create-account`).
    """
    session.add(m.Account(id=account_id, is_default=default))
    root = m.IamUser(account_id=account_id, name=ROOT_NAME, user_id=account_id, is_root=True)
    session.add(root)
    owner, arn = root, root_arn(account_id)
    if admin_user:
        owner = m.IamUser(account_id=account_id, name="admin", user_id=new_unique_id("AIDA"))
        session.add(owner)
        arn = user_arn(account_id, "admin")
    session.flush()
    if admin_user:
        session.add(
            m.IamPolicyAttachment(owner_kind="user", owner_id=owner.id, policy_arn=ADMIN_POLICY_ARN)
        )
    key_id, secret = add_access_key(session, box, user_id=owner.id)
    return BootstrapResult(account_id, arn, key_id, secret)


def bootstrap(
    session: Session, box: SecretBox, *, account_id: str | None
) -> BootstrapResult | None:
    """On a database with no default account, create it; otherwise do nothing (return None)."""
    if default_account(session) is not None:
        return None
    return create_account(session, box, account_id=account_id or new_account_id(), default=True)


def seal_stored_secrets(session: Session, box: SecretBox) -> int:
    """Seal any secret an earlier release stored in clear; how many there were."""
    rows = session.scalars(
        select(m.AccessKey).where(~m.AccessKey.secret_access_key.startswith(PREFIX))
    ).all()
    for row in rows:
        row.secret_access_key = box.seal(row.secret_access_key, context=row.access_key_id)
    return len(rows)


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


def principal_of(user: m.IamUser, access_key_id: str) -> Principal:
    if user.is_root:
        return Principal(
            arn=root_arn(user.account_id),
            account_id=user.account_id,
            user_id=user.account_id,
            access_key_id=access_key_id,
            kind="root",
        )
    return Principal(
        arn=user_arn(user.account_id, user.name, user.path),
        account_id=user.account_id,
        user_id=user.user_id,
        access_key_id=access_key_id,
    )


def lookup_access_key(
    session: Session, box: SecretBox, access_key_id: str
) -> tuple[Credential, Principal] | None:
    """The secret and the principal behind an active long-term access key, or None."""
    row = session.execute(
        select(m.AccessKey.secret_access_key, m.IamUser)
        .join(m.IamUser, m.IamUser.id == m.AccessKey.user_id)
        .where(m.AccessKey.access_key_id == access_key_id, m.AccessKey.status == "Active")
    ).first()
    if row is None:
        return None
    sealed, user = row
    secret = box.unseal(sealed, context=access_key_id)
    return Credential(secret_access_key=secret), principal_of(user, access_key_id)
