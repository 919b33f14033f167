"""CreateRepository, DescribeRepositories, DeleteRepository, PutImageTagMutability."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr import shapes
from stiva.api.ecr.call import EcrCall, Operation
from stiva.errors import InvalidParameter
from stiva.metadata.database import Session
from stiva.services import repositories as svc
from stiva.services.replication.destination import create_destination_repository

DEFAULT_PAGE = 100


def create_repository(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    if call.replicated:  # REPLICATION templates, else defaults (services.replication)
        repo = create_destination_repository(
            session, account_id=call.account_id, name=p["repositoryName"]
        )
        return {"repository": shapes.repository(repo, call.ctx.deployment)}
    encryption = p.get("encryptionConfiguration", {})
    spec = svc.RepositorySpec(
        name=p["repositoryName"],
        tag_mutability=p.get("imageTagMutability", "MUTABLE"),
        mutability_filters=shapes.filter_values(p.get("imageTagMutabilityExclusionFilters")),
        scan_on_push=bool(p.get("imageScanningConfiguration", {}).get("scanOnPush", False)),
        encryption_type=encryption.get("encryptionType", "AES256"),
        kms_key=encryption.get("kmsKey"),
        tags=[(t["Key"], t["Value"]) for t in p.get("tags", [])],
    )
    repo = svc.create_repository(session, account_id=call.account_id, spec=spec)
    return {"repository": shapes.repository(repo, call.ctx.deployment)}


def describe_repositories(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    if p.get("repositoryNames"):
        for member in ("maxResults", "nextToken"):
            if member in p:
                raise InvalidParameter(
                    f"Invalid parameter at '{member}' failed to satisfy constraint: 'This "
                    "option cannot be used when you specify repositories with repositoryNames'"
                )
    repos, token = svc.describe_repositories(
        session,
        account_id=call.account_id,
        names=p.get("repositoryNames"),
        max_results=p.get("maxResults", DEFAULT_PAGE),
        next_token=p.get("nextToken"),
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


def put_image_tag_mutability(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = svc.put_image_tag_mutability(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        mutability=call.params["imageTagMutability"],
        filters=shapes.filter_values(call.params.get("imageTagMutabilityExclusionFilters")),
    )
    shape = shapes.repository(repo, call.ctx.deployment)
    keys = (
        "registryId",
        "repositoryName",
        "imageTagMutability",
        "imageTagMutabilityExclusionFilters",  # when the setting has filters
    )
    return {key: shape[key] for key in keys if key in shape}


OPERATIONS: dict[str, Operation] = {
    "CreateRepository": Operation(create_repository, "repository", writes=True),
    "DescribeRepositories": Operation(describe_repositories, "repositories"),
    "DeleteRepository": Operation(delete_repository, "repository", writes=True),
    "PutImageTagMutability": Operation(put_image_tag_mutability, "repository", writes=True),
}
