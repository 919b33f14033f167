"""Run the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

from stiva.errors import ConfigError
from stiva.metadata.dialect import WRITE_OPTION, lock_deployment

_HERE = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def known_revision(revision: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def check_not_newer(current: str | None) -> None:
    """Refuse a schema stamped by a release newer than this one."""
    if current is not None and not known_revision(current):
        raise ConfigError(
            f"the database schema is at revision {current}, which this Stiva release does not "
            "know: it was migrated by a newer release; upgrade Stiva instead"
        )


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to this release's head; refuse a database newer than the code.

    Nodes starting together take turns (`lock_deployment`); the revision found before is returned
    (None for an empty database)."""
    config = alembic_config(str(engine.url))
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
        lock_deployment(connection)  # SQLite: the write transaction (BEGIN IMMEDIATE) suffices
        current = MigrationContext.configure(connection).get_current_revision()
        check_not_newer(current)
        if current != head_revision():
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    return current
