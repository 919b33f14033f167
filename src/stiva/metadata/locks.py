"""Exclusive locks on upload sessions, held across nodes while a chunk is written or a session
is completed.

Chunks of one session must be appended one at a time, and completion must see the bytes it
hashed: two PATCHes racing on one session (a client retrying a chunk whose first attempt still
runs, or a hostile client) could otherwise write at the same offset — on S3 the later segment
object replaces the earlier one — while each node keeps the hash of its own bytes, and a
completion could then accept content under another content's digest. Under the lock each chunk
starts where the previous one ended, so the size a cached hash state was computed at identifies
the bytes it covers.

- PostgreSQL: a transaction-level advisory lock keyed by the upload id (collisions only
  serialize more). Taken within a unit of work (`session` given: completing a session, an ECR
  layer part), on that unit's own connection, and released when it ends: one connection per
  request, so a busy pool cannot leave requests each holding one connection and waiting for a
  second. Otherwise (a PATCH streaming a chunk) on a connection of its own, inside a
  transaction held open until the release: the lock lives and dies with that transaction, so
  it also holds behind a pooler in transaction mode (PgBouncer), where a session-level lock
  could be taken and released on different server sessions.
- SQLite (one machine, possibly several server processes): `flock` on one of 256 lock files
  beside the database file, chosen by the upload id; they are never deleted.

A lock is not re-entrant: take it once per operation.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

STRIPES = 256
_NAMESPACE = b"stiva-upload:"


class UploadLock(Protocol):
    def acquire(self) -> None: ...

    def release(self) -> None: ...


def _key(upload_id: str) -> int:
    value = int.from_bytes(hashlib.sha256(_NAMESPACE + upload_id.encode()).digest()[:8], "big")
    return value - (1 << 64) if value >= 1 << 63 else value


_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


class _AdvisoryLock:
    """On a connection of its own, in a transaction open from acquire to release."""

    def __init__(self, engine: Engine, key: int) -> None:
        self._engine, self._key = engine, key
        self._connection: Any = None

    def acquire(self) -> None:
        connection = self._engine.connect()
        try:
            connection.execute(_XACT_LOCK, {"k": self._key})  # begins the transaction
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()  # rolls the transaction back, which releases the lock


class _TransactionLock:
    """Within a unit of work, on its connection; released when the unit of work ends."""

    def __init__(self, session: Session, key: int) -> None:
        self._session, self._key = session, key

    def acquire(self) -> None:
        self._session.execute(_XACT_LOCK, {"k": self._key})

    def release(self) -> None:
        pass  # held until the unit of work commits or rolls back


class _FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


class UploadLocks:
    """Hands out the lock of an upload session for a deployment's database."""

    def __init__(self, engine: Engine | None) -> None:
        """`engine` None: locks within this process only (tests of storage alone)."""
        self._engine = engine
        database = engine.url.database if engine is not None else None
        self._directory = (
            Path(f"{database}.upload-locks")
            if engine is not None
            and engine.dialect.name == "sqlite"
            and database
            and database != ":memory:"
            else None
        )
        self._stripes = [threading.Lock() for _ in range(STRIPES)]

    def lock(self, upload_id: str, session: Session | None = None) -> UploadLock:
        """The session's lock; taken in `session`'s unit of work when given (PostgreSQL)."""
        key = _key(upload_id)
        if self._engine is not None and self._engine.dialect.name == "postgresql":
            return (
                _AdvisoryLock(self._engine, key)
                if session is None
                else _TransactionLock(session, key)
            )
        if self._directory is not None:
            return _FileLock(self._directory / f"{key % STRIPES:03d}")
        return _ThreadLock(self._stripes[key % STRIPES])


class _ThreadLock:
    """For a database without a file (in memory: one process): a lock per stripe."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def acquire(self) -> None:
        self._lock.acquire()

    def release(self) -> None:
        self._lock.release()
