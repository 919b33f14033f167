"""Access-key last use (IAM's GetAccessKeyLastUsed data) without a write per request.

Each verified request notes (key, time, service, region) in memory; the background flush that
writes pull times writes these too, one UPDATE per key used since the last flush.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from stiva.metadata import models as m
from stiva.metadata.database import Database


@dataclass(frozen=True, slots=True)
class KeyUse:
    when: datetime
    service: str
    region: str


class KeyUsageRecorder:
    def __init__(self) -> None:
        self._pending: dict[str, KeyUse] = {}
        self._lock = threading.Lock()

    def record(self, access_key_id: str, use: KeyUse) -> None:
        with self._lock:
            previous = self._pending.get(access_key_id)
            if previous is None or previous.when < use.when:
                self._pending[access_key_id] = use

    def flush(self, db: Database) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            with db.write() as session:
                for key_id, use in pending.items():
                    session.execute(
                        update(m.AccessKey)
                        .where(m.AccessKey.access_key_id == key_id)
                        .values(
                            last_used_at=use.when,
                            last_used_service=use.service,
                            last_used_region=use.region,
                        )
                    )
        except Exception:
            with self._lock:  # keep the notes for the next flush
                for key_id, use in pending.items():
                    self._pending.setdefault(key_id, use)
            raise
        return len(pending)
