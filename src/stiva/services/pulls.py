"""Pull-time recording without a write per request.

Each pull notes (manifest id, digest, puller's ARN) → time in memory: one dict update under a
lock, nothing else on the pull path. The digest goes with the id because the write comes
seconds later: an image deleted meanwhile may have left its id to a new row (SQLite reuses the
highest id), and a pull time must never land on an image nobody pulled. A background task
flushes the notes in one transaction every few seconds (and at shutdown); ECR itself only
promises daily accuracy for `lastRecordedPullTime`.

Pull-time update exclusions are applied at flush time, in the same transaction, against the
database: a pull by a principal its registry excludes is dropped, whichever node served it or
registered the exclusion. So every node honours an exclusion from its next flush on; a pull
served up to one flush interval before a Register (or Deregister) follows the list as it stands
when the pull is written, not when it was served.
"""

from __future__ import annotations

import threading
from datetime import datetime

from stiva.metadata.database import Database
from stiva.services.exclusions import excluded_pulls
from stiva.services.manifests import record_pulls

Key = tuple[int, str, str]  # manifest id, its digest, the puller's ARN


class PullRecorder:
    def __init__(self) -> None:
        self._pending: dict[Key, datetime] = {}
        self._lock = threading.Lock()

    def record(self, manifest_id: int, digest: str, when: datetime, principal_arn: str) -> None:
        """Note a pull of image `manifest_id` (whose digest is `digest`) by `principal_arn`."""
        key = (manifest_id, digest, principal_arn)
        with self._lock:
            previous = self._pending.get(key)
            if previous is None or previous < when:
                self._pending[key] = when

    def flush(self, db: Database) -> int:
        """Write the noted pull times; the number of manifests whose pull time was written.

        Notes that fail to be written are kept for the next flush.
        """
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            with db.write() as session:
                excluded = excluded_pulls(session, {(i, arn) for i, _d, arn in pending})
                latest: dict[tuple[int, str], datetime] = {}
                for (manifest_id, digest, arn), when in pending.items():
                    previous = latest.get((manifest_id, digest))
                    if (manifest_id, arn) not in excluded and (previous is None or previous < when):
                        latest[(manifest_id, digest)] = when
                record_pulls(session, latest)
        except Exception:
            self._restore(pending)
            raise
        return len(latest)

    def _restore(self, pending: dict[Key, datetime]) -> None:
        with self._lock:
            for key, when in pending.items():
                current = self._pending.get(key)
                if current is None or current < when:
                    self._pending[key] = when
