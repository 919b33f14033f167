"""Everything that differs between SQLite and PostgreSQL, in one place.

- SQLite: WAL journal, NORMAL sync, foreign keys on, a busy timeout, and `BEGIN IMMEDIATE` for
  write transactions (a deferred transaction that later writes can fail with SQLITE_BUSY at once,
  busy timeout or not). The pysqlite driver's own transaction handling is turned off so that
  SQLAlchemy's `begin` event decides how each transaction starts.
- PostgreSQL: plain `BEGIN`; `insert_ignore` maps to `ON CONFLICT DO NOTHING` on both;
  `skip_locked` adds `FOR UPDATE SKIP LOCKED` to job claims.
- Blob locks (`lock_blobs`): the mutual exclusion garbage collection relies on (see
  `stiva.services.gc`). On SQLite a write unit of work already excludes every other writer
  (`BEGIN IMMEDIATE`), so taking them only makes sure that transaction has begun; on PostgreSQL
  they are transaction-scoped advisory locks keyed by the digest, because the rows GC and a push
  contend for may not exist yet (an upload re-creating a deleted blob) and `FOR UPDATE` cannot
  lock an absent row. They need READ COMMITTED (PostgreSQL's default): each statement after the
  lock sees everything committed before it was granted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, create_engine, event, text
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


def _lock_key(digest: str) -> int:
    """A signed 64-bit advisory-lock key for a digest (collisions only serialize more)."""
    encoded = digest.partition(":")[2] or digest
    try:
        value = int(encoded[:16], 16)
    except ValueError:
        value = int.from_bytes(digest.encode()[:8].ljust(8, b"\0"), "big")
    return value - (1 << 64) if value >= 1 << 63 else value


def lock_blobs(session: Session, digests: Iterable[str]) -> None:
    """Hold, until this write unit of work ends, the locks of these blobs.

    Every unit of work that creates, links, references or deletes a blob takes its lock before
    reading what it decides on: upload completion, blob mounts, manifest pushes (the blobs they
    reference) and garbage collection. Locks are taken in digest order, so two units of work
    locking several blobs cannot deadlock each other.
    """
    connection = session.connection()  # begins the transaction: BEGIN IMMEDIATE on SQLite
    if not connection.get_execution_options().get(WRITE_OPTION, False):
        raise RuntimeError("blob locks need a write unit of work")
    if connection.dialect.name != "postgresql":
        return  # SQLite: the write transaction excludes every other writer already
    for digest in sorted(set(digests)):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(digest)})
