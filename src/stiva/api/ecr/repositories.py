"""CreateRepository, DescribeRepositories, DeleteRepository."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr import shapes
from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import repositories as svc

DEFAULT_PAGE = 100


def create_repository(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    spec = svc.RepositorySpec(
        name=p["repositoryName"],
        tag_mutability=p.get("imageTagMutability", "MUTABLE"),
        scan_on_push=bool(p.get("imageScanningConfiguration", {}).get("scanOnPush", False)),
        encryption_type=p.get("encryptionConfiguration", {}).get("encryptionType", "AES256"),
        kms_key=p.get("encryptionConfiguration", {}).get("kmsKey"),
        tags=[(t["Key"], t.get("Value", "")) for t in p.get("tags", [])],
    )
    repo = svc.create_repository(session, account_id=call.account_id, spec=spec)
    return {"repository": shapes.repository(repo, call.ctx.deployment)}


def describe_repositories(session: Session, call: EcrCall) -> dict[str, Any]:
    repos, token = svc.describe_repositories(
        session,
        account_id=call.account_id,
        names=call.params.get("repositoryNames"),
        max_results=call.params.get("maxResults", DEFAULT_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    result: dict[str, Any] = {
        "repositories": [shapes.repository(r, call.ctx.deployment) for r in repos]
    }
    if token:
        result["nextToken"] = token
    return result


def delete_repository(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = svc.delete_repository(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        force=bool(call.params.get("force", False)),
    )
    return {"repository": shapes.repository(repo, call.ctx.deployment)}


OPERATIONS: dict[str, Operation] = {
    "CreateRepository": Operation(create_repository, "repository", writes=True),
    "DescribeRepositories": Operation(describe_repositories, "repositories"),
    "DeleteRepository": Operation(delete_repository, "repository", writes=True),
}
