"""The registry's long-lived parts, built once by `create_app` and shared by both API surfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from stiva.config import ReplicationConfig
from stiva.metadata.database import Database
from stiva.services.authorization import Authorizer
from stiva.services.deployment import Deployment
from stiva.services.pulls import PullRecorder
from stiva.services.secrets import SecretBox
from stiva.services.uploads import Uploads
from stiva.services.usage import KeyUsageRecorder
from stiva.storage.base import Storage


@dataclass(frozen=True, slots=True)
class Keys:
    """Deployment keys shared by every node through the database."""

    token: bytes
    pagination: bytes
    download: bytes  # signs layer download URLs (services/downloads.py)


@dataclass(slots=True)
class RegistryContext:
    db: Database
    storage: Storage
    uploads: Uploads
    deployment: Deployment
    keys: Keys
    clock_skew_seconds: int
    secrets: SecretBox
    authorizer: Authorizer
    pulls: PullRecorder = field(default_factory=PullRecorder)
    key_usage: KeyUsageRecorder = field(default_factory=KeyUsageRecorder)
    replication: ReplicationConfig = field(default_factory=ReplicationConfig)  # peers, retries

    def flush(self) -> None:
        """Write what the recorders noted (pull times, key last use)."""
        self.pulls.flush(self.db)
        self.key_usage.flush(self.db)

    def now(self) -> datetime:
        return self.db.clock.now()
