"""STS: temporary credentials from AssumeRole, and the principals behind them.

A role session is a row (`role_sessions`): an `ASIA...` access key id, its secret sealed like
any access-key secret, the SHA-256 of its session token (the token itself is never stored: a
request proves it by carrying a token with that hash, `Credential.session_token_sha256`), the
role, the session name, the caller who assumed it and the expiry. Sessions end with their role
(deleted with it). `lookup_session` raises `ExpiredToken` for a session past its expiry, on
every surface; rows expired for more than a day are purged by the next AssumeRole.

Who may assume a role is decided by the policy engine (`stiva.iam.evaluate`) with the role's
trust policy as the resource policy and the caller's identity policies: a trust policy naming
the caller (its ARN, its role's ARN or `*`) suffices within the role's account; one naming only
the caller's account delegates to the caller's identity policies (`sts:AssumeRole` on the
role), which are always needed across accounts. A refusal, an unknown role included, is
AccessDenied in STS's words. Sessions last `DurationSeconds` (900 up to the role's
MaxSessionDuration; 1 hour at most when a role session assumes another role: role chaining).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stiva.errors import AccessDenied
from stiva.iam.evaluate import RequestContext, decide
from stiva.iam.policy import PolicyError, parse_policy
from stiva.iam.sigv4 import Credential
from stiva.iam.sigv4_errors import ExpiredToken
from stiva.metadata import models as m
from stiva.services.iam.entities import role_or_none
from stiva.services.iam.errors import IamValidationError
from stiva.services.iam.names import iam_arn
from stiva.services.identity import Principal
from stiva.services.policy_store import identity_policies
from stiva.services.secrets import SecretBox

SESSION_KEY_PREFIX: Final = "ASIA"
DEFAULT_DURATION: Final = 3600
CHAINED_MAX_DURATION: Final = 3600
PURGE_AFTER: Final = timedelta(days=1)
_KEY_ALPHABET: Final = string.ascii_uppercase + "234567"
_ROLE_ARN: Final = re.compile(r"arn:aws:iam::([0-9]{12}):role(/(?:[!-~]*/)?)?([\w+=,.@-]+)")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """AssumeRole's answer: the credentials (the secret and token shown once) and the session."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: datetime
    assumed_role_id: str  # AROA...:<session name>
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session name>


def session_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lookup_session(
    session: Session, box: SecretBox, access_key_id: str, *, now: datetime
) -> tuple[Credential, Principal] | None:
    """The credential (with its session token's hash) and principal of a live role session;
    None for an unknown key id; ExpiredToken once the session has expired."""
    row = session.execute(
        select(m.RoleSession, m.IamRole)
        .join(m.IamRole, m.IamRole.id == m.RoleSession.role_id)
        .where(m.RoleSession.access_key_id == access_key_id)
    ).first()
    if row is None:
        return None
    record, role = row
    if record.expires_at <= now:
        raise ExpiredToken()
    secret = box.unseal(record.secret_access_key, context=access_key_id)
    principal = Principal(
        arn=session_arn(role.account_id, role.name, record.session_name),
        account_id=role.account_id,
        user_id=f"{role.role_id}:{record.session_name}",
        access_key_id=access_key_id,
        kind="assumed-role",
        expires_at=int(record.expires_at.timestamp()),
    )
    credential = Credential(
        secret_access_key=secret, session_token_sha256=record.session_token_sha256
    )
    return credential, principal


def assume_role(
    session: Session,
    box: SecretBox,
    *,
    caller: Principal,
    role_arn: str,
    session_name: str,
    duration: int | None,
    external_id: str | None,
    now: datetime,
) -> IssuedSession:
    """Temporary credentials for `role_arn`, if its trust policy (and, where IAM needs them,
    the caller's identity policies) allow the caller; AccessDenied otherwise."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise IamValidationError("Request ARN is invalid")
    role = role_or_none(session, account_id=match[1], name=match[3])
    if role is None or not _allowed(session, caller, role, external_id):
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}"
        )
    seconds = _duration(caller, role, duration)
    session.execute(delete(m.RoleSession).where(m.RoleSession.expires_at < now - PURGE_AFTER))
    key_id = SESSION_KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    secret, token = secrets.token_urlsafe(30), secrets.token_urlsafe(192)
    expires_at = (now + timedelta(seconds=seconds)).replace(microsecond=0)
    session.add(
        m.RoleSession(
            access_key_id=key_id,
            secret_access_key=box.seal(secret, context=key_id),
            session_token_sha256=_token_hash(token),
            role_id=role.id,
            session_name=session_name,
            source_identity=caller.arn,
            expires_at=expires_at,
        )
    )
    return IssuedSession(
        access_key_id=key_id,
        secret_access_key=secret,
        session_token=token,
        expires_at=expires_at,
        assumed_role_id=f"{role.role_id}:{session_name}",
        arn=session_arn(role.account_id, role.name, session_name),
    )


def _duration(caller: Principal, role: m.IamRole, requested: int | None) -> int:
    seconds = requested or DEFAULT_DURATION
    if seconds > role.max_session_duration:
        raise IamValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    if caller.kind == "assumed-role" and seconds > CHAINED_MAX_DURATION:
        raise IamValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles "
            "assumed by role chaining."
        )
    return seconds


def _allowed(session: Session, caller: Principal, role: m.IamRole, external_id: str | None) -> bool:
    try:
        trust = parse_policy(role.trust_policy, resource_based=True)
    except PolicyError:
        return False  # validated when stored; a document that no longer parses grants nothing
    context = RequestContext(
        principal_arn=caller.arn,
        principal_account=caller.account_id,
        principal_kind=caller.kind,
        role_arn=_caller_role_arn(session, caller),
        action="sts:AssumeRole",
        resource=iam_arn(role.account_id, "role", role.path, role.name),
        resource_account=role.account_id,
        keys={"sts:ExternalId": external_id} if external_id is not None else {},
    )
    verdict = decide(
        context,
        identity_policies=identity_policies(session, caller),
        resource_policies=[trust],
    )
    return verdict.allowed


def _caller_role_arn(session: Session, caller: Principal) -> str | None:
    """The role behind a role session (None for users and root)."""
    if caller.kind != "assumed-role":
        return None
    role = session.scalar(
        select(m.IamRole).where(m.IamRole.role_id == caller.user_id.split(":", 1)[0])
    )
    return iam_arn(role.account_id, "role", role.path, role.name) if role is not None else None
