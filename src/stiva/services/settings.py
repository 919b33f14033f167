"""ECR account settings: stored values, defaults, and the effects other services ask about.

Settings (GetAccountSetting / PutAccountSetting) and what each one does in Stiva:

- `BASIC_SCAN_TYPE_VERSION`: `AWS_NATIVE` (default). ECR retired `CLAIR` (the current model and
  API reference list `AWS_NATIVE` as the only valid value), so Stiva refuses it. Stored for the
  scanning work; nothing reads it yet.
- `REGISTRY_POLICY_SCOPE`: `V2` (default: "V2 is the default registry policy scope" for new
  registries) or `V1`. V1 limits the registry policy to ecr:ReplicateImage,
  ecr:BatchImportUpstreamImage and ecr:CreateRepository (`stiva.services.policies`), and will
  limit which actions the IAM engine enforces it for. Changing the scope leaves a stored registry
  policy as it is.
- `BLOB_MOUNTING`: `DISABLED` (default) or `ENABLED`. ECR's blob mounting is opt-in: its guide
  says to turn it on ("choose Enable" / `put-account-setting --name BLOB_MOUNTING --value
  ENABLED`). The OCI mount path asks `blob_mounting_enabled`.

Rows exist only for settings that were put; an absent row reads as the default. An unknown name
or value is ECR's InvalidParameterException in its "Invalid parameter at '<member>' failed to
satisfy constraint: '<why>'" form (the form ECR uses for semantic checks even in operations that
also declare ValidationException, e.g. PutRegistryPolicy's invalid-policy error); the inner
enum text is Coral's. Not verified against ECR for these two operations.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stiva.errors import InvalidParameter
from stiva.metadata import models as m
from stiva.metadata.dialect import insert_ignore

DEFAULTS: dict[str, str] = {
    "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE",
    "REGISTRY_POLICY_SCOPE": "V2",
    "BLOB_MOUNTING": "DISABLED",
}

VALUES: dict[str, tuple[str, ...]] = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE",),
    "REGISTRY_POLICY_SCOPE": ("V1", "V2"),
    "BLOB_MOUNTING": ("ENABLED", "DISABLED"),
}


def _enum(member: str, allowed: tuple[str, ...] | list[str]) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at '{member}' failed to satisfy constraint: "
        f"'Member must satisfy enum value set: [{', '.join(allowed)}]'"
    )


def check_name(name: str) -> None:
    """Refuse a setting name ECR does not have."""
    if name not in DEFAULTS:
        raise _enum("name", list(DEFAULTS))


def get_setting(session: Session, *, account_id: str, name: str) -> str:
    """The account's value for setting `name`, or its default."""
    value = session.scalar(
        select(m.AccountSetting.value).where(
            m.AccountSetting.account_id == account_id, m.AccountSetting.name == name
        )
    )
    return value if value is not None else DEFAULTS[name]


def get_account_setting(session: Session, *, account_id: str, name: str) -> str:
    """GetAccountSetting: the value in force (stored or default) of a known setting."""
    check_name(name)
    return get_setting(session, account_id=account_id, name=name)


def put_account_setting(session: Session, *, account_id: str, name: str, value: str) -> str:
    """PutAccountSetting: store `value` for `name` (an upsert safe under concurrent writers)."""
    check_name(name)
    if value not in VALUES[name]:
        raise _enum("value", VALUES[name])
    now = m.utcnow()
    row = {"account_id": account_id, "name": name, "value": value, "updated_at": now}
    insert_ignore(session, m.AccountSetting.__table__, [row])  # type: ignore[arg-type]
    session.execute(
        update(m.AccountSetting)
        .where(m.AccountSetting.account_id == account_id, m.AccountSetting.name == name)
        .values(value=value, updated_at=now)
    )
    return value


def registry_policy_scope(session: Session, *, account_id: str) -> str:
    """`V1` or `V2`: how much of ECR the account's registry policy may speak about."""
    return get_setting(session, account_id=account_id, name="REGISTRY_POLICY_SCOPE")


def blob_mounting_enabled(session: Session, *, account_id: str) -> bool:
    """Whether cross-repository blob mounts are allowed in this account's registry."""
    return get_setting(session, account_id=account_id, name="BLOB_MOUNTING") == "ENABLED"
