"""TagResource, UntagResource, ListTagsForResource: resource tags on a repository, by ARN.

The account these calls are about is the one the ARN names, not the caller's: their operations
are `resource-arn` operations, which the dispatcher authorizes on the ARN against its account.
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import repositories as svc
from stiva.services.tags import RepositoryRef, parse_repository_arn


def _repository(call: EcrCall, action: str) -> RepositoryRef:
    del action  # authorized by the dispatcher on the ARN
    return parse_repository_arn(str(call.params["resourceArn"]), region=call.ctx.deployment.region)


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
