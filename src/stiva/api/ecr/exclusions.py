"""Pull-time update exclusions: Register/Deregister/ListPullTimeUpdateExclusions."""

from __future__ import annotations

from stiva.api.ecr.call import Operation

OPERATIONS: dict[str, Operation] = {}
