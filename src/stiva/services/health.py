"""Readiness: whether this node can serve requests now.

Ready means the metadata database answers at this release's schema revision (or at a newer one,
during a rolling upgrade) and the blob store answers. Liveness (`/healthz`) asks nothing of
either: a node whose database is down is alive and should not be restarted for it, only taken out
of the load balancer (`/readyz`).
"""

from __future__ import annotations

import logging

from stiva.metadata.database import Database
from stiva.metadata.migrate import current_revision, head_revision, known_revision
from stiva.storage.base import Storage

log = logging.getLogger(__name__)


def schema_head() -> str:
    """The schema revision this release needs."""
    return head_revision()


def database_problem(db: Database, head: str) -> str | None:
    """Why the database is not ready (unreachable, schema behind or ahead), or None."""
    try:
        current = current_revision(db.engine)
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return f"database unreachable: {type(exc).__name__}"
    if current == head:
        return None
    if current is not None and not known_revision(current):
        # Migrated by a newer release during a rolling upgrade: this node keeps serving until it
        # is replaced (deployment.md: migrations between releases that keep old nodes serving
        # are additive; stop old nodes first otherwise).
        log.warning("readiness: the schema is at %s, newer than this release (%s)", current, head)
        return None
    return f"database schema is at revision {current or 'none'}, this node needs {head}"


def storage_problem(storage: Storage) -> str | None:
    """Why the blob store is not ready, or None."""
    try:
        storage.check()
    except Exception as exc:
        log.warning("readiness: storage unusable: %s", exc)
        return f"storage unreachable: {type(exc).__name__}"
    return None


def readiness_problems(db: Database, storage: Storage, *, head: str) -> list[str]:
    """Everything that keeps this node from serving; empty when it is ready."""
    return [p for p in (database_problem(db, head), storage_problem(storage)) if p is not None]
