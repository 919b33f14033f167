"""The Alembic tree builds exactly the schema the models describe, and refuses newer schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from stiva.errors import ConfigError
from stiva.metadata.database import Database
from stiva.metadata.migrate import current_revision, head_revision, upgrade
from stiva.metadata.models import Base
from tests.support.databases import empty_database_url


def test_upgrade_matches_models_and_is_idempotent(tmp_path: Path) -> None:
    db = Database(empty_database_url(tmp_path))
    upgrade(db.engine)
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    db.dispose()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = Database(empty_database_url(tmp_path))
    upgrade(db.engine)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    with pytest.raises(ConfigError, match="newer release"):
        upgrade(db.engine)
    db.dispose()


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(empty_database_url(tmp_path))
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


@pytest.mark.postgres
def test_a_database_not_collating_in_byte_order_is_reported(tmp_path: Path) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from stiva.metadata.dialect import collation_problem
    from tests.support import databases

    if databases.ACTIVE is None:
        pytest.skip("needs STIVA_TEST_DATABASE=postgresql")
    ours = Database(databases.ACTIVE.url_for(tmp_path))
    with ours.engine.connect() as connection:
        assert collation_problem(connection) is None  # the test databases collate as C
    ours.dispose()
    name = f"{databases.ACTIVE.prefix}_icu"
    admin = create_engine(
        databases.ACTIVE.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as connection:
        connection.execute(
            text(
                f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu '
                "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        )
    icu = Database(databases.ACTIVE.url(name))
    try:
        with icu.engine.connect() as connection:
            problem = collation_problem(connection)
        assert problem is not None
        assert "LOCALE 'C'" in problem
        upgrade(icu.engine)  # names still list in byte order: their columns collate as "C"
        repos = ["b", "B", "a-b", "a.b", "a_b", "ab", "A"]
        with icu.engine.begin() as connection:
            connection.execute(text("INSERT INTO accounts (id, is_default, created_at) "
                                    "VALUES ('123456789012', false, now())"))  # fmt: skip
            for repo in repos:
                connection.execute(
                    text("INSERT INTO repositories (account_id, name, created_at, "
                         "image_tag_mutability, scan_on_push, encryption_type) VALUES "
                         "('123456789012', :name, now(), 'MUTABLE', false, 'AES256')"),
                    {"name": repo},
                )  # fmt: skip
            listed = connection.execute(text("SELECT name FROM repositories ORDER BY name"))
            assert list(listed.scalars()) == sorted(repos)  # Python sorts by code point
    finally:
        icu.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
