"""The table of every ECR operation in the model: served (an `Operation`), or not yet (why).

Each handler module owns its rows (`OPERATIONS`); this module merges them. An operation the model
has and neither table lists is a bug, and a test says so.
"""

from __future__ import annotations

from stiva.api.ecr import (
    auth,
    exclusions,
    images,
    layers,
    lifecycle,
    policies,
    registry,
    replication,
    repositories,
    scanning,
    tags,
    templates,
)
from stiva.api.ecr.call import Operation

OPERATIONS: dict[str, Operation] = {
    **auth.OPERATIONS,
    **repositories.OPERATIONS,
    **images.OPERATIONS,
    **layers.OPERATIONS,
    **policies.OPERATIONS,
    **registry.OPERATIONS,
    **tags.OPERATIONS,
    **templates.OPERATIONS,
    **exclusions.OPERATIONS,
    **lifecycle.OPERATIONS,
    **scanning.OPERATIONS,
    **replication.OPERATIONS,
}

_PULL_THROUGH = "pull-through cache rules are not implemented yet"
_SIGNING = "managed signing is not implemented yet"

_IN_PROGRESS = "this operation is not implemented yet"

NOT_YET: dict[str, str] = {
    # the control-plane issue: each line goes when its operation joins OPERATIONS
    # later issues
    "CreatePullThroughCacheRule": _PULL_THROUGH,
    "DescribePullThroughCacheRules": _PULL_THROUGH,
    "UpdatePullThroughCacheRule": _PULL_THROUGH,
    "DeletePullThroughCacheRule": _PULL_THROUGH,
    "ValidatePullThroughCacheRule": _PULL_THROUGH,
    "PutSigningConfiguration": _SIGNING,
    "GetSigningConfiguration": _SIGNING,
    "DeleteSigningConfiguration": _SIGNING,
    "DescribeImageSigningStatus": _SIGNING,
}
