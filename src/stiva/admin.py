"""`stiva admin`: account administration against the database, beside a running server."""

from __future__ import annotations

import re
from typing import Any

from stiva.app import open_database, open_secrets
from stiva.config import Settings
from stiva.errors import ConfigError
from stiva.metadata.database import Database
from stiva.metadata.migrate import current_revision, head_revision
from stiva.services import identity


def _database(settings: Settings) -> Database:
    db = open_database(settings)
    if current_revision(db.engine) != head_revision():
        db.dispose()
        raise ConfigError(
            f"no Stiva database at its current schema in {settings.database_url.split('@')[-1]}: "
            "start `stiva serve` once with this data directory (or configuration) first"
        )
    return db


def create_account(settings: Settings, *, account_id: str | None) -> dict[str, Any]:
    """A new account with a root access key: {"accountId", "accessKeyId", "secretAccessKey"}."""
    if account_id is not None and not re.fullmatch(r"\d{12}", account_id):
        raise ConfigError(f"'{account_id}' is not a 12-digit account id")
    box = open_secrets(settings)
    db = _database(settings)
    try:
        with db.write() as session:
            wanted = account_id or identity.new_account_id()
            if any(a.id == wanted for a in identity.list_accounts(session)):
                raise ConfigError(f"account {wanted} already exists")
            result = identity.create_account(session, box, account_id=wanted, admin_user=False)
    finally:
        db.dispose()
    return {
        "accountId": result.account_id,
        "accessKeyId": result.access_key_id,
        "secretAccessKey": result.secret_access_key,
    }


def list_accounts(settings: Settings) -> list[dict[str, Any]]:
    db = _database(settings)
    try:
        with db.read() as session:
            return [
                {
                    "accountId": account.id,
                    "default": account.is_default,
                    "createdAt": account.created_at.isoformat(),
                }
                for account in identity.list_accounts(session)
            ]
    finally:
        db.dispose()
