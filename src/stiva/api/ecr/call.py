"""What every ECR operation handler receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stiva.services.context import RegistryContext
from stiva.services.identity import Principal


@dataclass(slots=True)
class EcrCall:
    ctx: RegistryContext
    principal: Principal
    params: dict[str, Any]
    account_id: str  # the registry the call is about: registryId, else the caller's account

    @property
    def repository_name(self) -> str:
        return str(self.params["repositoryName"])

    def repository_arn(self, name: str | None = None) -> str:
        return self.ctx.deployment.repository_arn(self.account_id, name or self.repository_name)
