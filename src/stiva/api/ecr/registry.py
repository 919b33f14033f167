"""DescribeRegistry, GetAccountSetting, PutAccountSetting."""

from __future__ import annotations

from stiva.api.ecr.call import Operation

OPERATIONS: dict[str, Operation] = {}
