"""The metadata backend tests run against: SQLite (default) or PostgreSQL.

`STIVA_TEST_DATABASE=postgresql` (the server at 127.0.0.1:5432) or a full
`postgresql+psycopg://user@host:port/admin-db` URL selects PostgreSQL. Then every data directory
a test builds a registry in gets its own database: created on first use by copying a template
migrated once per session (`CREATE DATABASE ... TEMPLATE`), released when the test (or module,
for module-scoped fixtures) that created it ends: its sessions are ended and its rows deleted, and
the next test gets it again (2 ms, against ~0.3 s to create and drop one). A data directory that
does not exist has no database (its URL names a database that was never created), as with
SQLite's `stiva.db`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from stiva.metadata.dialect import make_engine
from stiva.metadata.migrate import upgrade

BACKEND_ENV = "STIVA_TEST_DATABASE"
_BLANK = "ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str | None:
    """The PostgreSQL admin URL tests should use, or None for SQLite."""
    value = os.environ.get(BACKEND_ENV, "").strip()
    if value in ("", "sqlite"):
        return None
    if value in ("postgres", "postgresql"):
        return DEFAULT_SERVER
    if not value.startswith("postgresql"):
        raise RuntimeError(f"{BACKEND_ENV}={value!r}: expected sqlite, postgresql or a URL")
    return value


class PostgresDatabases:
    """Creates and drops the per-test databases on one PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self._admin: Engine = create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self.prefix = f"stiva_test_{secrets.token_hex(4)}"
        self.template = f"{self.prefix}_template"
        self.by_dir: dict[Path, str] = {}
        self.created: list[str] = []
        self._count = 0
        self._free: list[str] = []  # released databases, emptied, at the template's schema
        self._empty: set[str] = set()  # databases without the schema: dropped, not reused
        self._reset = ""

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(statement))

    def start(self) -> None:
        """Create the template: an empty database migrated to head (copies keep its "C"
        collation, which deployments are told to use: names sort in byte order, as on SQLite)."""
        self._execute(f'CREATE DATABASE "{self.template}" {_BLANK}')
        engine = make_engine(self.url(self.template))
        try:
            upgrade(engine)
            with engine.connect() as connection:
                self._reset = _reset_script(connection)
        finally:
            engine.dispose()

    def _release(self, name: str) -> None:
        """End the database's sessions; empty it for the next test (or drop it)."""
        if name in self._empty:
            self._empty.discard(name)
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        self._execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        engine = create_engine(self.url(name), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(self._reset)
        finally:
            engine.dispose()
        self._free.append(name)

    def create(self, *, empty: bool = False) -> str:
        """A new database: migrated to head (a copy of the template), or `empty`."""
        if self._free and not empty:
            name = self._free.pop()
            self.created.append(name)
            return self.url(name)
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        self._execute(
            f'CREATE DATABASE "{name}" ' + (_BLANK if empty else f'TEMPLATE "{self.template}"')
        )
        if empty:
            self._empty.add(name)
        self.created.append(name)
        return self.url(name)

    def url_for(self, data_dir: Path) -> str:
        """The database of a data directory (created on first use, if the directory exists)."""
        key = data_dir.resolve()
        name = self.by_dir.get(key)
        if name is not None:
            return self.url(name)
        if not key.is_dir():
            return self.url(f"{self.prefix}_absent")
        url = self.create()
        self.by_dir[key] = self.created[-1]
        return url

    def mark(self) -> int:
        return len(self.created)

    def release_since(self, mark: int) -> None:
        """Release the databases handed out after `mark` (a `mark()` result)."""
        names = set(self.created[mark:])
        for name in self.created[mark:]:
            self._release(name)
        self.by_dir = {k: v for k, v in self.by_dir.items() if v not in names}
        del self.created[mark:]

    def stop(self) -> None:
        self.release_since(0)
        for name in [*self._free, self.template]:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._free.clear()
        self._admin.dispose()


def _reset_script(connection: Connection) -> str:
    """SQL emptying every table (foreign keys unchecked) and restarting every sequence."""
    tables = connection.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )
    ).scalars()
    sequences = connection.execute(
        text("SELECT sequence_name FROM information_schema.sequences")
    ).scalars()
    head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    return "; ".join(
        [
            "SET session_replication_role = replica",
            *(f'DELETE FROM "{table}"' for table in tables),
            *(f"SELECT setval('\"{sequence}\"', 1, false)" for sequence in sequences),
            f"UPDATE alembic_version SET version_num = '{head}'",
            "SET session_replication_role = DEFAULT",
        ]
    )


ACTIVE: PostgresDatabases | None = None


def database_url(data_dir: Path) -> str | None:
    """The database URL a registry in `data_dir` uses under PostgreSQL; None under SQLite."""
    return ACTIVE.url_for(data_dir) if ACTIVE is not None else None


def empty_database_url(tmp_path: Path) -> str:
    """A new database without any table, on the backend under test."""
    if ACTIVE is not None:
        return ACTIVE.create(empty=True)
    return f"sqlite:///{tmp_path / 'empty.db'}"


def database_env(data_dir: Path) -> dict[str, str]:
    """Environment for a `stiva` subprocess working on `data_dir`'s database."""
    url = database_url(data_dir)
    return {"STIVA_DATABASE_URL": url} if url else {}


@contextmanager
def connect(data_dir: Path) -> Iterator[Connection]:
    """A transaction on the database of the registry in `data_dir` (either backend), committed
    when the block ends: for tests that read or adjust rows directly."""
    url = database_url(data_dir)
    if url is None:
        engine = create_engine(
            f"sqlite:///{data_dir / 'stiva.db'}", connect_args={"timeout": 30}, poolclass=NullPool
        )
    else:
        engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()
