"""Authorization decisions, in one place, for every API surface.

`Authorizer.authorize(principal, action, account_id=..., resource=..., facts=...)` gathers what
IAM evaluates — the principal's identity policies, the repository policy and the registry policy
(when REGISTRY_POLICY_SCOPE makes it apply to the action), the repository's tags, the request's
condition keys — and asks the pure engine (`stiva.iam.evaluate.decide`). Denials raise
`AccessDenied` with IAM's message.

The policies are cached per principal, repository and registry for a few seconds, so the pull
hot path evaluates in memory. Writes on this node that touch policy-bearing tables drop the
cache at once (`Database.on_commit_touching`); other nodes' changes are seen within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from stiva.errors import AccessDenied
from stiva.iam.evaluate import (
    RequestContext,
    Verdict,
    access_denied_message,
    decide,
    registry_policy_applies,
)
from stiva.iam.policy import Policy
from stiva.metadata.database import Database
from stiva.services.identity import Principal
from stiva.services.policy_store import (
    RegistryFacts,
    RepositoryFacts,
    identity_policies,
    registry_facts,
    repository_facts,
)

T = TypeVar("T")
POLICY_TABLES = frozenset(
    {
        "iam_users",
        "iam_groups",
        "iam_group_members",
        "iam_roles",
        "iam_inline_policies",
        "iam_managed_policies",
        "iam_policy_attachments",
        "repositories",
        "repository_tags",
        "registry_policies",
        "account_settings",
    }
)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What a request tells the condition keys: where it came from, how, which tags it sets."""

    source_ip: str | None = None
    secure_transport: bool = False
    request_tags: Mapping[str, str] = field(default_factory=dict)


def _repository_of(resource: str) -> tuple[str, str] | None:
    """(account, name) of an ECR repository ARN, else None."""
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[2] == "ecr" and parts[5].startswith("repository/"):
        name = parts[5][len("repository/") :]
        if name and "*" not in name:
            return parts[4], name
    return None


def role_arn_of(principal: Principal) -> str | None:
    """The role ARN behind an assumed-role session ARN."""
    if principal.kind != "assumed-role":
        return None
    _, _, rest = principal.arn.partition(":assumed-role/")
    role = rest.rsplit("/", 1)[0]
    return f"arn:aws:iam::{principal.account_id}:role/{role}"


class Authorizer:
    def __init__(self, db: Database, *, ttl: float = 5.0) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[tuple[str, ...], tuple[int, float, object]] = {}
        self._epoch = 0
        self._lock = threading.Lock()
        db.on_commit_touching(POLICY_TABLES, self.invalidate)

    def invalidate(self) -> None:
        with self._lock:
            self._epoch += 1
            self._cache.clear()

    def _cached(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            epoch = self._epoch
        if hit is not None and hit[0] == epoch and hit[1] > now:
            return hit[2]  # type: ignore[return-value]
        value = load()
        with self._lock:
            if self._epoch == epoch:
                self._cache[key] = (epoch, now + self._ttl, value)
        return value

    def _identity(self, principal: Principal) -> tuple[Policy, ...]:
        def load() -> tuple[Policy, ...]:
            with self._db.read() as session:
                return identity_policies(session, principal)

        return self._cached(("identity", principal.kind, principal.user_id), load)

    def _repository(self, account_id: str, name: str) -> RepositoryFacts:
        def load() -> RepositoryFacts:
            with self._db.read() as session:
                return repository_facts(session, account_id=account_id, name=name)

        return self._cached(("repository", account_id, name), load)

    def _registry(self, account_id: str) -> RegistryFacts:
        def load() -> RegistryFacts:
            with self._db.read() as session:
                return registry_facts(session, account_id=account_id)

        return self._cached(("registry", account_id), load)

    def decide(
        self,
        principal: Principal,
        action: str,
        *,
        account_id: str,
        resource: str,
        facts: RequestFacts | None = None,
        repository_policy: Policy | bool | None = True,
    ) -> tuple[RequestContext, Verdict]:
        """The verdict for `action` on `resource` in `account_id`'s registry.

        `repository_policy`: True uses the stored one; a Policy or None evaluates as if that
        were the repository's policy (SetRepositoryPolicy's lock-out check).
        """
        keys, resource_policies = self._resource_side(
            action, account_id, resource, repository_policy
        )
        now = self._db.clock.now()
        context = RequestContext(
            principal_arn=principal.arn,
            principal_account=principal.account_id,
            principal_kind=principal.kind,
            role_arn=role_arn_of(principal),
            action=action,
            resource=resource,
            resource_account=account_id,
            keys={**keys, **_request_keys(principal, facts or RequestFacts(), now)},
        )
        identity = () if principal.kind == "root" else self._identity(principal)
        verdict = decide(context, identity_policies=identity, resource_policies=resource_policies)
        return context, verdict

    def _resource_side(
        self, action: str, account_id: str, resource: str, override: Policy | bool | None
    ) -> tuple[dict[str, str], list[Policy]]:
        keys: dict[str, str] = {}
        policies: list[Policy] = []
        repository = _repository_of(resource)
        if repository is not None:
            facts = self._repository(*repository)
            stored = facts.policy if override is True else override
            if isinstance(stored, Policy):
                policies.append(stored)
            for tag, value in facts.tags.items():
                keys[f"aws:ResourceTag/{tag}"] = value
                keys[f"ecr:ResourceTag/{tag}"] = value
        if resource != "*" and action.lower().startswith("ecr:"):
            registry = self._registry(account_id)
            if registry.policy is not None and registry_policy_applies(registry.scope, action):
                policies.append(registry.policy)
        return keys, policies

    def is_allowed(
        self,
        principal: Principal,
        action: str,
        *,
        account_id: str,
        resource: str,
        facts: RequestFacts | None = None,
    ) -> bool:
        _, verdict = self.decide(
            principal, action, account_id=account_id, resource=resource, facts=facts
        )
        return verdict.allowed

    def authorize(
        self,
        principal: Principal,
        action: str,
        *,
        account_id: str,
        resource: str,
        facts: RequestFacts | None = None,
    ) -> None:
        """Raise AccessDenied, with IAM's message, unless the request is allowed."""
        context, verdict = self.decide(
            principal, action, account_id=account_id, resource=resource, facts=facts
        )
        if not verdict.allowed:
            raise AccessDenied(access_denied_message(context, verdict))


def _request_keys(
    principal: Principal, facts: RequestFacts, now: datetime
) -> dict[str, str | list[str]]:
    keys: dict[str, str | list[str]] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if facts.secure_transport else "false",
        "aws:PrincipalArn": role_arn_of(principal) or principal.arn,
        "aws:userid": principal.user_id,
    }
    if facts.source_ip:
        keys["aws:SourceIp"] = facts.source_ip
    if facts.request_tags:
        keys["aws:TagKeys"] = sorted(facts.request_tags)
        for tag, value in facts.request_tags.items():
            keys[f"aws:RequestTag/{tag}"] = value
    return keys
