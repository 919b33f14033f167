"""The IAM policy evaluation engine: one request, the policies that apply to it, one verdict.

`decide(context, identity_policies=..., resource_policies=...)` follows IAM's evaluation order
for the policy types Stiva has (no SCPs, permission boundaries or session policies):

1. **Explicit deny wins.** If an applicable statement of any of the policies says Deny, the
   verdict is EXPLICIT_DENY. A statement applies when it covers the action, names the caller
   (resource policies only: see `stiva.iam.principals`), covers the resource, and all its
   conditions hold.
2. **Within one account** (the caller's account owns the resource): ALLOW if an identity policy
   allows, or if a resource policy allows while naming the caller directly (`"*"`, the caller's
   ARN, or its role's ARN). A resource policy naming only the caller's *account* delegates to
   the account's identity policies and grants nothing by itself, as in IAM.
3. **Across accounts**: ALLOW only if a resource policy allows the caller (directly or through
   its account) *and* the caller's own identity policies allow.
4. Otherwise IMPLICIT_DENY.

The root user's identity side always allows: it may do anything in its own account that no
policy explicitly denies, and in another account anything a resource policy there grants to its
account (or to anyone). Explicit denies in resource policies bind it too.

Identity policies are the caller's: an IAM user's inline and attached managed policies and
those of its groups; a role session's role's. Resource policies are the repository policy and/or
the registry policy; the caller passes the registry policy only when `registry_policy_applies`:
with REGISTRY_POLICY_SCOPE `V2` for every ECR action (a registry-wide resource policy beside
the repository policy), with the legacy `V1` only for ecr:ReplicateImage,
ecr:BatchImportUpstreamImage and ecr:CreateRepository.

Condition keys come from `RequestContext.keys` (names case-insensitive). Unless the caller
gives them, the context supplies aws:PrincipalArn (a session's role ARN, as in IAM),
aws:PrincipalAccount, aws:PrincipalType, aws:username (IAM users) and aws:userid (root: the
account id); a key given with an empty list of values is absent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from stiva.iam.patterns import KeyValues
from stiva.iam.policy import Policy, Statement
from stiva.iam.principals import PrincipalMatch
from stiva.iam.statements import compile_policy

PRINCIPAL_KINDS: Final = ("root", "user", "assumed-role")
_PRINCIPAL_TYPES: Final = {"root": "Account", "user": "User", "assumed-role": "AssumedRole"}
REGISTRY_POLICY_V1_ACTIONS: Final = frozenset(
    {"ecr:replicateimage", "ecr:batchimportupstreamimage", "ecr:createrepository"}
)

Side = Literal["identity", "resource"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks to do what to which resource, with the request's condition keys.

    `principal_arn`: `arn:aws:iam::<acct>:root`, `arn:aws:iam::<acct>:user/<path><name>` or
    `arn:aws:sts::<acct>:assumed-role/<role>/<session>`; `role_arn` the session's role
    (`arn:aws:iam::<acct>:role/<path><name>`), else None. `resource`: an ARN, or `*` for actions
    without one; `resource_account` owns it (for `*`, the account the call addresses). `keys`:
    condition key values by name (case-insensitive); a string or a list of strings.
    """

    principal_arn: str
    principal_account: str
    principal_kind: str
    role_arn: str | None
    action: str
    resource: str
    resource_account: str
    keys: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    key_values: KeyValues = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.principal_kind not in PRINCIPAL_KINDS:
            raise ValueError(f"principal_kind must be one of {', '.join(PRINCIPAL_KINDS)}")
        object.__setattr__(self, "key_values", self._key_values())

    @property
    def cross_account(self) -> bool:
        return self.principal_account != self.resource_account

    def _key_values(self) -> dict[str, tuple[str, ...]]:
        values: dict[str, tuple[str, ...]] = {
            "aws:principalarn": (self.role_arn or self.principal_arn,),
            "aws:principalaccount": (self.principal_account,),
            "aws:principaltype": (_PRINCIPAL_TYPES[self.principal_kind],),
        }
        if self.principal_kind == "user":
            values["aws:username"] = (self.principal_arn.rpartition("/")[2],)
        if self.principal_kind == "root":
            values["aws:userid"] = (self.principal_account,)
        for name, given in self.keys.items():
            items = (given,) if isinstance(given, str) else tuple(given)
            if items:
                values[name.lower()] = items
            else:
                values.pop(name.lower(), None)
        return values


class Decision(enum.Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision, why (for logs), and the side of the policies that decided it.

    `side`: for EXPLICIT_DENY the side holding the Deny; for IMPLICIT_DENY the side that did not
    allow; for ALLOW the side that granted (`resource` across accounts, where both must; the
    root user's own account: `identity`). `statement`: the deciding statement, if any."""

    decision: Decision
    reason: str
    side: Side | None = None
    statement: Statement | None = None

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


@dataclass(frozen=True, slots=True)
class _Hit:
    """An applicable statement: where it is, for the verdict's reason."""

    side: Side
    number: int  # the policy's position among its side's, from 1
    policy: Policy
    index: int  # the statement's position in its policy, from 1
    statement: Statement

    def describe(self) -> str:
        policy = f"{self.side}-based policy {self.number}"
        if self.policy.id:
            policy += f" ({self.policy.id!r})"
        sid = self.statement.sid
        return f"{policy}, statement {sid!r}" if sid else f"{policy}, statement {self.index}"


def decide(
    context: RequestContext,
    *,
    identity_policies: Sequence[Policy],
    resource_policies: Sequence[Policy],
) -> Verdict:
    """Evaluate the request (see the module docstring for the rules)."""
    deny, identity_allow = _scan(context, identity_policies, "identity")
    resource_allow = None
    if deny is None:
        deny, resource_allow = _scan(context, resource_policies, "resource")
    if deny is not None:
        return Verdict(
            Decision.EXPLICIT_DENY, f"explicit deny in {deny.describe()}", deny.side, deny.statement
        )
    if context.cross_account:
        return _across_accounts(context, identity_allow, resource_allow)
    if identity_allow is not None:
        return _allow(f"allowed by {identity_allow.describe()}", identity_allow)
    if context.principal_kind == "root":
        return Verdict(
            Decision.ALLOW, f"the root user of account {context.principal_account}", "identity"
        )
    if resource_allow is not None:
        return _allow(f"allowed by {resource_allow.describe()}", resource_allow)
    return _implicit_deny(context, "identity")


def _scan(
    context: RequestContext, policies: Sequence[Policy], side: Side
) -> tuple[_Hit | None, _Hit | None]:
    """(the first applicable Deny, the first applicable Allow that grants) among `policies`."""
    allow: _Hit | None = None
    keys = context.key_values
    for number, policy in enumerate(policies, 1):
        for index, statement in enumerate(compile_policy(policy).statements, 1):
            if allow is not None and not statement.deny:
                continue  # one Allow is enough: only a Deny can change the outcome
            if not statement.covers_action(context.action):
                continue
            grants = True
            if side == "resource":
                named = statement.principal_match(
                    arn=context.principal_arn,
                    role_arn=context.role_arn,
                    account=context.principal_account,
                )
                if named is PrincipalMatch.NONE:
                    continue
                grants = named is PrincipalMatch.DIRECT or context.cross_account
            if not (
                statement.covers_resource(context.resource, keys)
                and statement.conditions_hold(keys)
            ):
                continue
            hit = _Hit(side, number, policy, index, statement.source)
            if statement.deny:
                return hit, allow
            if grants:
                allow = hit
    return None, allow


def _across_accounts(
    context: RequestContext, identity_allow: _Hit | None, resource_allow: _Hit | None
) -> Verdict:
    if resource_allow is None:
        return _implicit_deny(context, "resource")
    if identity_allow is None and context.principal_kind != "root":
        return _implicit_deny(context, "identity")
    identity = (
        identity_allow.describe()
        if identity_allow
        else f"the root user of account {context.principal_account}"
    )
    return _allow(f"allowed by {resource_allow.describe()} and by {identity}", resource_allow)


def _allow(reason: str, hit: _Hit) -> Verdict:
    return Verdict(Decision.ALLOW, reason, hit.side, hit.statement)


def _implicit_deny(context: RequestContext, side: Side) -> Verdict:
    reason = f"no {side}-based policy allows the {context.action} action"
    if context.cross_account:
        reason += (
            f" (a caller of account {context.principal_account} on a resource of account"
            f" {context.resource_account} needs both an identity-based and a resource-based allow)"
        )
    return Verdict(Decision.IMPLICIT_DENY, reason, side)


def access_denied_message(context: RequestContext, verdict: Verdict) -> str:
    """IAM's AccessDenied text for a denied request, e.g. `User: arn:... is not authorized to
    perform: ecr:BatchGetImage on resource: arn:... because no identity-based policy allows the
    ecr:BatchGetImage action`."""
    subject = (
        f"User: {context.principal_arn} is not authorized to perform: {context.action}"
        f" on resource: {context.resource}"
    )
    side = verdict.side or "identity"
    if verdict.decision is Decision.EXPLICIT_DENY:
        article = "an" if side == "identity" else "a"
        return f"{subject} with an explicit deny in {article} {side}-based policy"
    return f"{subject} because no {side}-based policy allows the {context.action} action"


def registry_policy_applies(scope: str, action: str) -> bool:
    """Whether the registry policy takes part in deciding `action` under REGISTRY_POLICY_SCOPE
    `scope` (`V2`: every ECR action; `V1`: only the replication, pull-through-cache import and
    repository-creation permissions). ValueError for another scope."""
    name = action.lower()
    if scope == "V2":
        return name.startswith("ecr:")
    if scope == "V1":
        return name in REGISTRY_POLICY_V1_ACTIONS
    raise ValueError(f"unknown REGISTRY_POLICY_SCOPE {scope!r} (V1 or V2)")
