"""Layer operations of ECR's own tooling: check, initiate, upload part, complete, download URL."""

from __future__ import annotations

from stiva.api.ecr.call import Operation

OPERATIONS: dict[str, Operation] = {}
