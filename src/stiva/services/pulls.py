"""Pull-time recording without a write per request.

Each pull notes (manifest id, time) in memory; a background task flushes the notes in one
transaction every few seconds (and at shutdown). ECR itself only promises daily accuracy for
`lastRecordedPullTime`.
"""

from __future__ import annotations

import threading
from datetime import datetime

from stiva.metadata.database import Database
from stiva.services.manifests import record_pulls


class PullRecorder:
    def __init__(self) -> None:
        self._pending: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def record(self, manifest_id: int, when: datetime, principal_arn: str) -> None:
        """Note a pull of `manifest_id` by `principal_arn` at `when`."""
        del principal_arn  # pull-time update exclusions will consult it
        with self._lock:
            previous = self._pending.get(manifest_id)
            if previous is None or previous < when:
                self._pending[manifest_id] = when

    def flush(self, db: Database) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            with db.write() as session:
                record_pulls(session, pending)
        return len(pending)
