"""ECR account settings: stored values, defaults, and the effects other services ask about."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m

DEFAULTS: dict[str, str] = {
    "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE",
    "REGISTRY_POLICY_SCOPE": "V2",
    "BLOB_MOUNTING": "ENABLED",
}


def get_setting(session: Session, *, account_id: str, name: str) -> str:
    """The account's value for setting `name`, or its default."""
    value = session.scalar(
        select(m.AccountSetting.value).where(
            m.AccountSetting.account_id == account_id, m.AccountSetting.name == name
        )
    )
    return value if value is not None else DEFAULTS[name]


def blob_mounting_enabled(session: Session, *, account_id: str) -> bool:
    """Whether cross-repository blob mounts are allowed in this account's registry."""
    return get_setting(session, account_id=account_id, name="BLOB_MOUNTING") == "ENABLED"
