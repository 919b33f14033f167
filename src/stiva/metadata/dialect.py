"""Everything that differs between SQLite and PostgreSQL, in one place.

- SQLite: WAL journal, NORMAL sync, foreign keys on, a busy timeout, and `BEGIN IMMEDIATE` for
  write transactions (a deferred transaction that later writes can fail with SQLITE_BUSY at once,
  busy timeout or not). The pysqlite driver's own transaction handling is turned off so that
  SQLAlchemy's `begin` event decides how each transaction starts.
- PostgreSQL: plain `BEGIN`; `insert_ignore` maps to `ON CONFLICT DO NOTHING` on both;
  `skip_locked` adds `FOR UPDATE SKIP LOCKED` to job claims.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table

WRITE_OPTION = "stiva_write"
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    # One pooled connection per worker thread that may use it (anyio's default limiter: 40):
    # a smaller pool closes and reopens "overflow" connections (and reruns the PRAGMAs) under load.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=40,
        max_overflow=10,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event emits BEGIN
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def skip_locked(session: Session, query: Select[T]) -> Select[T]:
    """Row-lock a claim query so concurrent workers skip each other's rows (PostgreSQL);
    SQLite's write transactions are serialized already (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, silently skipping any whose key already exists."""
    if not rows:
        return
    name = session.get_bind().dialect.name
    if name == "sqlite":
        session.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)
    elif name == "postgresql":
        session.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    else:
        raise NotImplementedError(f"unsupported database dialect {name}")
