"""Pull-time update exclusions: Register/Deregister/ListPullTimeUpdateExclusions."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import exclusions as svc

DEFAULT_PAGE = 100


def register(session: Session, call: EcrCall) -> dict[str, Any]:
    row = svc.register_exclusion(
        session,
        account_id=call.account_id,
        principal_arn=call.params["principalArn"],
        now=call.ctx.now(),
    )
    return {"principalArn": row.principal_arn, "createdAt": row.created_at}


def deregister(session: Session, call: EcrCall) -> dict[str, Any]:
    arn = call.params["principalArn"]
    svc.deregister_exclusion(session, account_id=call.account_id, principal_arn=arn)
    return {"principalArn": arn}


def list_exclusions(session: Session, call: EcrCall) -> dict[str, Any]:
    arns, token = svc.list_exclusions(
        session,
        account_id=call.account_id,
        max_results=call.params.get("maxResults", DEFAULT_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    return {"pullTimeUpdateExclusions": arns, **({"nextToken": token} if token else {})}


OPERATIONS: dict[str, Operation] = {
    "RegisterPullTimeUpdateExclusion": Operation(register, "*", writes=True),
    "DeregisterPullTimeUpdateExclusion": Operation(deregister, "*", writes=True),
    "ListPullTimeUpdateExclusions": Operation(list_exclusions, "*"),
}
