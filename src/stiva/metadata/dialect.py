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
- Deployment locks (`lock_deployment`): nodes starting together against one PostgreSQL database
  migrate and bootstrap one at a time (a transaction-scoped advisory lock); SQLite's `BEGIN
  IMMEDIATE` (and Alembic's single transaction) serialize them already.
- Collation: names (repositories, tags, templates, IAM names) are listed and paginated in byte
  order, as SQLite compares text: on PostgreSQL their columns collate as "C"
  (`models.byte_ordered`, migration 0007) whatever the database's locale. A database should still
  be created with `LOCALE 'C'` so every other comparison matches SQLite's; `collation_problem`
  says when it is not (a warning at start).
- Pools: SQLite keeps one connection per worker thread; PostgreSQL pools are sized by
  `database.pool_size` / `database.max_overflow` (`PoolOptions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table

WRITE_OPTION = "stiva_write"
T = TypeVar("T")


# Advisory-lock key of deployment-wide start-up work (migrations, bootstrap): "stivaDEP".
DEPLOYMENT_LOCK = 0x7374697661444550


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """Connection-pool sizing for server databases (PostgreSQL); None picks the default."""

    size: int | None = None  # connections kept open (default 10)
    max_overflow: int | None = None  # extra connections under load (default 20)
    timeout_seconds: float | None = None  # wait for a free connection (default 30)
    recycle_seconds: int | None = None  # reopen connections older than this (default 1800)


def make_engine(url: str, pool: PoolOptions | None = None) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    options = pool or PoolOptions()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10 if options.size is None else options.size,
        max_overflow=20 if options.max_overflow is None else options.max_overflow,
        pool_timeout=30 if options.timeout_seconds is None else options.timeout_seconds,
        pool_recycle=1800 if options.recycle_seconds is None else options.recycle_seconds,
    )


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


def blob_lock_key(digest: str) -> int:
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
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": blob_lock_key(digest)})


def lock_deployment(connection: Connection) -> None:
    """Hold, until `connection`'s transaction ends, the lock of deployment-wide start-up work."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEPLOYMENT_LOCK})


def collation_problem(connection: Connection) -> str | None:
    """Why this database would not order names byte by byte (PostgreSQL), or None."""
    if connection.dialect.name != "postgresql":
        return None
    # Byte order puts upper case before lower case and "-" before "." before "_" before "a".
    probe = "SELECT 'B' < 'a' AND '-' < '.' AND '.' < '_' AND '_' < 'a'"
    if connection.execute(text(probe)).scalar_one():
        return None
    collation = connection.execute(
        text("SELECT datcollate FROM pg_database WHERE datname = current_database()")
    ).scalar_one()
    return (
        f'the database collates text as {collation!r}, not "C": names keep byte order (their '
        "columns collate as C), but other text comparisons follow that locale; create the "
        "database with LOCALE 'C'"
    )
