"""Repository policies and the registry policy: ECR's rules on top of the IAM grammar, storage.

Validation (both refuse with ECR's InvalidParameterException texts, verified in public reports:
"Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy
provided'" and "... 'Invalid registry policy provided'"; ECR gives no detail, so neither do we):

- Both are resource-based IAM policies (`stiva.iam.policy`): Principal or NotPrincipal in every
  statement.
- A repository policy names no Resource / NotResource: the repository is implied, and ECR refuses
  a `Resource` element (reported by users and AWS's own CDK, which strips it). Its actions must be
  ECR's: `*`, `ecr:*`, `ecr:<pattern>` matching at least one ECR action, or a known ECR action
  name (case-insensitive), never `ecr:GetAuthorizationToken` (ECR refuses it there since 2020: it
  has no repository resource).
- The registry policy needs Resource / NotResource (repository ARNs or `*`; ECR does not check
  their shape, so neither do we). Under REGISTRY_POLICY_SCOPE `V2` (default) its actions follow
  the same ECR-actions rule (GetAuthorizationToken included); under `V1` every statement must
  list Action (no NotAction, no wildcard) drawn only from ecr:ReplicateImage,
  ecr:BatchImportUpstreamImage and ecr:CreateRepository.

Stored and returned text: ECR re-serialises an accepted policy with Jackson's default pretty
printer (the aws CLI's documented set-repository-policy output: `{\\n  "Version" : ...,
\\n  "Statement" : [ {\\n    "Sid" : ...` with arrays of scalars on one line), and returns that
text from Set, Get and Delete. `pretty_json` reproduces it; the registry policy is assumed to get
the same treatment (same service; not verified).

Lock-out (SetRepositoryPolicy without `force`): ECR refuses a policy "that would prevent you from
setting another policy in the future". Repository policies only ever add to the caller's
identity permissions within its own account, so the one way a new policy can certainly lock the
caller out is an explicit Deny. The approximation: refuse when some statement is a Deny without
conditions whose actions cover ecr:SetRepositoryPolicy and whose principal element covers the
caller (`*`, its ARN, its account id or its account's root ARN; or a NotPrincipal not naming it).
Conditional denies are let through (they may not apply); `force=true` skips the check. The refusal
text is ours (ECR's is not public), in ECR's InvalidParameterException form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stiva.errors import InvalidParameter, RegistryPolicyNotFound, RepositoryPolicyNotFound
from stiva.iam.policy import (
    Policy,
    PolicyError,
    Statement,
    action_matches,
    load_json_object,
    parse_policy,
)
from stiva.metadata import models as m
from stiva.metadata.dialect import insert_ignore
from stiva.services.repositories import get_repository
from stiva.services.settings import registry_policy_scope

# Every IAM action of the ECR service: one per API operation, plus the permission-only ones.
ECR_ACTIONS: Final = frozenset(
    f"ecr:{name}".lower()
    for name in [
        "BatchCheckLayerAvailability",
        "BatchDeleteImage",
        "BatchGetImage",
        "BatchGetRepositoryScanningConfiguration",
        "BatchImportUpstreamImage",
        "CompleteLayerUpload",
        "CreatePullThroughCacheRule",
        "CreateRepository",
        "CreateRepositoryCreationTemplate",
        "DeleteLifecyclePolicy",
        "DeletePullThroughCacheRule",
        "DeleteRegistryPolicy",
        "DeleteRepository",
        "DeleteRepositoryCreationTemplate",
        "DeleteRepositoryPolicy",
        "DeleteSigningConfiguration",
        "DeregisterPullTimeUpdateExclusion",
        "DescribeImageReplicationStatus",
        "DescribeImageScanFindings",
        "DescribeImageSigningStatus",
        "DescribeImages",
        "DescribePullThroughCacheRules",
        "DescribeRegistry",
        "DescribeReplicationBackfillResults",
        "DescribeRepositories",
        "DescribeRepositoryCreationTemplates",
        "GetAccountSetting",
        "GetAuthorizationToken",
        "GetDownloadUrlForLayer",
        "GetLifecyclePolicy",
        "GetLifecyclePolicyPreview",
        "GetRegistryPolicy",
        "GetRegistryScanningConfiguration",
        "GetRepositoryPolicy",
        "GetSigningConfiguration",
        "InitiateLayerUpload",
        "ListImageReferrers",
        "ListImages",
        "ListPullTimeUpdateExclusions",
        "ListReplicationBackfills",
        "ListTagsForResource",
        "PutAccountSetting",
        "PutImage",
        "PutImageScanningConfiguration",
        "PutImageTagMutability",
        "PutLifecyclePolicy",
        "PutRegistryPolicy",
        "PutRegistryScanningConfiguration",
        "PutReplicationConfiguration",
        "PutSigningConfiguration",
        "RegisterPullTimeUpdateExclusion",
        "ReplicateImage",
        "SetRepositoryPolicy",
        "StartImageScan",
        "StartLifecyclePolicyPreview",
        "StartReplicationBackfill",
        "StopReplicationBackfill",
        "TagResource",
        "UntagResource",
        "UpdateImageStorageClass",
        "UpdatePullThroughCacheRule",
        "UpdateRepositoryCreationTemplate",
        "UploadLayerPart",
        "ValidatePullThroughCacheRule",
    ]
)
V1_REGISTRY_ACTIONS: Final = frozenset(
    {"ecr:replicateimage", "ecr:batchimportupstreamimage", "ecr:createrepository"}
)
NOT_IN_REPOSITORY_POLICY: Final = frozenset({"ecr:getauthorizationtoken"})

INVALID_REPOSITORY_POLICY: Final = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY: Final = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid registry policy provided'"
)
LOCKOUT: Final = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The repository policy "
    "would deny the caller ecr:SetRepositoryPolicy, preventing it from changing the policy "
    "again; set force to apply it anyway'"
)


# --------------------------------------------------------------------------- validation


def is_ecr_action(pattern: str, *, excluded: frozenset[str] = frozenset()) -> bool:
    """Whether an Action entry speaks about ECR: `*`, or `ecr:` + a pattern or name of ECR's."""
    lowered = pattern.lower()
    if lowered == "*":
        return True
    if not lowered.startswith("ecr:"):
        return False
    if "*" in lowered or "?" in lowered:
        return any(action_matches(lowered, action) for action in ECR_ACTIONS)
    return lowered in ECR_ACTIONS and lowered not in excluded


def check_repository_policy(text: str) -> Policy:
    """The parsed policy, or InvalidParameter in ECR's words."""
    try:
        policy = parse_policy(text, resource_based=True)
    except PolicyError:
        raise InvalidParameter(INVALID_REPOSITORY_POLICY) from None
    for statement in policy.statements:
        if statement.resource is not None or statement.not_resource is not None:
            raise InvalidParameter(INVALID_REPOSITORY_POLICY)
        if not all(
            is_ecr_action(p, excluded=NOT_IN_REPOSITORY_POLICY) for p in statement.action_patterns
        ):
            raise InvalidParameter(INVALID_REPOSITORY_POLICY)
    return policy


def _registry_statement_ok(statement: Statement, scope: str) -> bool:
    if statement.resource is None and statement.not_resource is None:
        return False
    if scope == "V1":
        return statement.action is not None and all(
            a.lower() in V1_REGISTRY_ACTIONS for a in statement.action
        )
    return all(is_ecr_action(p) for p in statement.action_patterns)


def check_registry_policy(text: str, *, scope: str) -> Policy:
    """The parsed policy, valid for REGISTRY_POLICY_SCOPE `scope`; InvalidParameter otherwise."""
    try:
        policy = parse_policy(text, resource_based=True)
    except PolicyError:
        raise InvalidParameter(INVALID_REGISTRY_POLICY) from None
    if not all(_registry_statement_ok(s, scope) for s in policy.statements):
        raise InvalidParameter(INVALID_REGISTRY_POLICY)
    return policy


# --------------------------------------------------------------------------- rendering


def _json_string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20:
            short = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(code)
            out.append(short or f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _pretty(value: object, depth: int) -> str:
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "\n" + "  " * (depth + 1)
        fields = [f"{pad}{_json_string(k)} : {_pretty(v, depth + 1)}" for k, v in value.items()]
        return "{" + ",".join(fields) + "\n" + "  " * depth + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(_pretty(v, depth) for v in value) + " ]"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value)


def pretty_json(document: object) -> str:
    """`document` as Jackson's DefaultPrettyPrinter writes it (ECR's stored policy text).

    Objects one member a line (`"key" : value`, two-space indent per object level), arrays on one
    line (`[ a, b ]`, objects inside them opening on the same line), `{ }` / `[ ]` when empty,
    non-ASCII characters as they are. Floats use Python's spelling (`1e+16`, where Jackson writes
    `1.0E16`); policies rarely hold any.
    """
    return _pretty(document, 0)


def _canonical(text: str) -> str:
    return pretty_json(load_json_object(text))


# --------------------------------------------------------------------------- repository policy


def set_repository_policy(
    session: Session,
    *,
    account_id: str,
    name: str,
    policy_text: str,
    force: bool,
    locks_out: Callable[[Policy], bool],
) -> str:
    """SetRepositoryPolicy: validate, check for lock-out unless `force`, store; the stored text.

    `locks_out(policy)` says whether, under `policy`, the caller could no longer call
    SetRepositoryPolicy on this repository (the IAM engine answers it).
    """
    repo = get_repository(session, account_id=account_id, name=name)
    policy = check_repository_policy(policy_text)
    if not force and locks_out(policy):
        raise InvalidParameter(LOCKOUT)
    repo.policy_text = _canonical(policy_text)
    return repo.policy_text


def get_repository_policy(session: Session, *, account_id: str, name: str) -> str:
    repo = get_repository(session, account_id=account_id, name=name)
    if repo.policy_text is None:
        raise RepositoryPolicyNotFound(name, account_id)
    return repo.policy_text


def delete_repository_policy(session: Session, *, account_id: str, name: str) -> str:
    """DeleteRepositoryPolicy: remove the policy; the text it had."""
    repo = get_repository(session, account_id=account_id, name=name)
    if repo.policy_text is None:
        raise RepositoryPolicyNotFound(name, account_id)
    text, repo.policy_text = repo.policy_text, None
    return text


# --------------------------------------------------------------------------- registry policy


def put_registry_policy(session: Session, *, account_id: str, policy_text: str) -> str:
    """PutRegistryPolicy: validate for the account's policy scope, store; the stored text."""
    scope = registry_policy_scope(session, account_id=account_id)
    check_registry_policy(policy_text, scope=scope)
    text, now = _canonical(policy_text), m.utcnow()
    row = {"account_id": account_id, "policy_text": text, "updated_at": now}
    insert_ignore(session, m.RegistryPolicy.__table__, [row])  # type: ignore[arg-type]
    session.execute(
        update(m.RegistryPolicy)
        .where(m.RegistryPolicy.account_id == account_id)
        .values(policy_text=text, updated_at=now)
    )
    return text


def get_registry_policy(session: Session, *, account_id: str) -> str:
    text = session.scalar(
        select(m.RegistryPolicy.policy_text).where(m.RegistryPolicy.account_id == account_id)
    )
    if text is None:
        raise RegistryPolicyNotFound(account_id)
    return text


def delete_registry_policy(session: Session, *, account_id: str) -> str:
    """DeleteRegistryPolicy: remove the policy; the text it had."""
    row = session.get(m.RegistryPolicy, account_id)
    if row is None:
        raise RegistryPolicyNotFound(account_id)
    text = row.policy_text
    session.delete(row)
    return text
