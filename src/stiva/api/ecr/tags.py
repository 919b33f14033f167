"""TagResource, UntagResource, ListTagsForResource: resource tags on a repository, by ARN.

The account these calls are about is the one the ARN names, not the caller's: each handler
authorizes `ecr:<Operation>` on the ARN against the ARN's account (the dispatcher's check, made
with the caller's account before the ARN is parsed, cannot see a cross-account ARN).
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import repositories as svc
from stiva.services.authorization import authorize
from stiva.services.tags import RepositoryRef, parse_repository_arn


def _repository(call: EcrCall, action: str) -> RepositoryRef:
    arn = str(call.params["resourceArn"])
    ref = parse_repository_arn(arn, region=call.ctx.deployment.region)
    authorize(call.principal, f"ecr:{action}", account_id=ref.account_id, resource=arn)
    return ref


def tag_resource(session: Session, call: EcrCall) -> dict[str, Any]:
    ref = _repository(call, "TagResource")
    tags = [(t["Key"], t["Value"]) for t in call.params["tags"]]
    svc.tag_repository(session, account_id=ref.account_id, name=ref.name, tags=tags)
    return {}


def untag_resource(session: Session, call: EcrCall) -> dict[str, Any]:
    ref = _repository(call, "UntagResource")
    keys = [str(k) for k in call.params["tagKeys"]]
    svc.untag_repository(session, account_id=ref.account_id, name=ref.name, keys=keys)
    return {}


def list_tags_for_resource(session: Session, call: EcrCall) -> dict[str, Any]:
    ref = _repository(call, "ListTagsForResource")
    tags = svc.list_repository_tags(session, account_id=ref.account_id, name=ref.name)
    return {"tags": [{"Key": key, "Value": value} for key, value in tags]}


OPERATIONS: dict[str, Operation] = {
    "TagResource": Operation(tag_resource, "resource-arn", writes=True),
    "UntagResource": Operation(untag_resource, "resource-arn", writes=True),
    "ListTagsForResource": Operation(list_tags_for_resource, "resource-arn"),
}
