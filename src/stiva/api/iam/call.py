"""What every IAM / STS handler receives, and how an operation is described in the tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stiva.api.iam.model import QueryModel
from stiva.errors import Unsupported
from stiva.metadata.database import Session
from stiva.services.authorization import RequestFacts
from stiva.services.context import RegistryContext
from stiva.services.identity import Principal


@dataclass(slots=True)
class QueryCall:
    ctx: RegistryContext
    principal: Principal
    params: dict[str, Any]
    facts: RequestFacts = field(default_factory=RequestFacts)  # for IAM condition keys

    @property
    def account_id(self) -> str:
        """IAM has no cross-account calls: every call addresses the caller's own account."""
        return self.principal.account_id

    @property
    def page_key(self) -> bytes:
        return self.ctx.keys.pagination


Handler = Callable[[Session, QueryCall], dict[str, Any]]
Resource = Callable[[Session, QueryCall], str]


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation Stiva serves.

    `resource` names the ARN `<service>:<Operation>` is authorized on (it may read the database,
    e.g. for a user's path), before the handler runs, in the same unit of work; None when the
    operation needs no authorization (GetCallerIdentity) or its service decides (AssumeRole).
    `writes` runs both in a committing unit of work.
    """

    handler: Handler
    resource: Resource | None
    writes: bool = False


@dataclass(frozen=True, slots=True)
class QueryService:
    """A query-protocol service on `POST /`: its signing name, model and operation tables."""

    name: str  # the SigV4 service name and IAM action prefix: iam | sts
    model: QueryModel
    operations: Mapping[str, Operation]
    not_yet: Mapping[str, str]  # operation -> why Stiva does not serve it
    url_encoded: frozenset[str] = frozenset()  # output string shapes sent percent-encoded


def refuse_unsupported(call: QueryCall, members: tuple[str, ...], where: str) -> None:
    """Unsupported (NotImplemented) for a parameter Stiva cannot honour, never a silent drop."""
    for member in members:
        if call.params.get(member):
            raise Unsupported(f"Stiva does not support {member} on {where} yet.")
