"""What every ECR operation handler receives, and how an operation is described in the tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from stiva.metadata.database import Session
from stiva.services.authorization import RequestFacts
from stiva.services.context import RegistryContext
from stiva.services.identity import Principal


@dataclass(slots=True)
class EcrCall:
    ctx: RegistryContext
    principal: Principal
    params: dict[str, Any]
    account_id: str  # the registry the call is about: registryId, else the caller's account
    facts: RequestFacts = field(default_factory=RequestFacts)
    raw: object = None  # the body as sent, for Stiva extensions the model does not know
    replicated: bool = False  # a peer replicating on behalf of a source account

    @property
    def repository_name(self) -> str:
        return str(self.params["repositoryName"])

    def repository_arn(self, name: str | None = None) -> str:
        return self.ctx.deployment.repository_arn(self.account_id, name or self.repository_name)

    def authorize(
        self, action: str, *, account_id: str | None = None, resource: str | None = None
    ) -> None:
        """Raise AccessDenied unless the caller may also do `action` (default: on the repository
        the call names, in the registry the call addresses)."""
        self.ctx.authorizer.authorize(
            self.principal,
            action,
            account_id=account_id or self.account_id,
            resource=resource or self.repository_arn(),
            facts=self.facts,
        )


Handler = Callable[[Session, EcrCall], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Operation:
    """An ECR operation Stiva serves.

    `resource` says what `ecr:<Operation>` is authorized on: the repository the call names
    (`repositoryName`), the repositories it lists (`repositoryNames`, else all), the repository a
    resource ARN names (`resourceArn`, for tagging), or the registry as a whole (`*`).
    `writes` runs the handler in a committing unit of work. `prepare`, when given, runs first,
    outside any unit of work (slow storage work the handler then finds done).
    """

    handler: Handler
    resource: Literal["repository", "repositories", "resource-arn", "*"]
    writes: bool = False
    prepare: Callable[[EcrCall], None] | None = None

    def account_for(self, params: dict[str, Any], caller_account: str) -> str:
        """The registry a call addresses: the resource ARN's account, else registryId, else the
        caller's own account."""
        if self.resource == "resource-arn":
            parts = str(params.get("resourceArn", "")).split(":", 5)
            if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit():
                return parts[4]
        return str(params.get("registryId") or caller_account)

    def resources(self, call: EcrCall) -> list[str]:
        if self.resource == "repository":
            return [call.repository_arn()]
        if self.resource == "repositories":
            names = call.params.get("repositoryNames") or ["*"]
            return [call.repository_arn(name) for name in names]
        if self.resource == "resource-arn":
            return [str(call.params["resourceArn"])]
        return ["*"]
