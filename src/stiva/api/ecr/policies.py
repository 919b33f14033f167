"""Repository policies and the registry policy: stored and validated (IAM enforces them)."""

from __future__ import annotations

from stiva.api.ecr.call import Operation

OPERATIONS: dict[str, Operation] = {}
