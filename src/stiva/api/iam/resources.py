"""Which ARN `iam:<Action>` is authorized on, per operation (the `resource` of a table row).

Entities are named by their full ARN, path included (read from the database for existing
ones, taken from `Path` for ones being created), as IAM policies see them; operations that
take an optional `UserName` act on the caller when it is absent. Listings are authorized on
the account's `arn:aws:iam::<account>:<kind>/`, as IAM reports them.
"""

from __future__ import annotations

from stiva.api.iam.call import QueryCall, Resource
from stiva.metadata.database import Session
from stiva.services.iam.access_keys import access_key_last_used
from stiva.services.iam.entities import Kind, owner_path
from stiva.services.iam.errors import NoSuchEntity
from stiva.services.iam.names import iam_arn


def listing(kind: str) -> Resource:
    def resolve(session: Session, call: QueryCall) -> str:
        del session
        return f"arn:aws:iam::{call.account_id}:{kind}/"

    return resolve


def entity(kind: Kind, member: str) -> Resource:
    """The existing user, group or role named by `member` (the caller when absent)."""

    def resolve(session: Session, call: QueryCall) -> str:
        name = call.params.get(member)
        if name is None:
            return call.principal.arn
        path = owner_path(session, account_id=call.account_id, kind=kind, name=name)
        return iam_arn(call.account_id, kind, path, name)

    return resolve


def new_entity(kind: str, member: str) -> Resource:
    """The entity a Create* call names, at its `Path`."""

    def resolve(session: Session, call: QueryCall) -> str:
        del session
        path = call.params.get("Path", "/")
        return iam_arn(call.account_id, kind, path, call.params[member])

    return resolve


def policy_arn(session: Session, call: QueryCall) -> str:
    del session
    return str(call.params["PolicyArn"])


def access_key_user(session: Session, call: QueryCall) -> str:
    """GetAccessKeyLastUsed: the user the key belongs to (the caller if there is none)."""
    key_id = call.params["AccessKeyId"]
    try:
        _key, user = access_key_last_used(session, account_id=call.account_id, access_key_id=key_id)
    except NoSuchEntity:
        return call.principal.arn
    if user.is_root:
        return f"arn:aws:iam::{call.account_id}:root"
    return iam_arn(call.account_id, "user", user.path, user.name)
