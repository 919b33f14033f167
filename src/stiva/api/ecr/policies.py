"""Repository policies and the registry policy: stored and validated (IAM enforces them).

Authorization resources: the repository-policy operations act on the repository they name; the
registry-policy operations on the registry as a whole (`*`). Validation rules, the lock-out check
and the stored text's shape are described in `stiva.services.policies`.
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import policies as svc


def _repository_result(call: EcrCall, text: str) -> dict[str, Any]:
    return {
        "registryId": call.account_id,
        "repositoryName": call.repository_name,
        "policyText": text,
    }


def set_repository_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.set_repository_policy(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        policy_text=str(call.params["policyText"]),
        force=bool(call.params.get("force", False)),
        locks_out=lambda policy: (
            not call.ctx.authorizer.decide(
                call.principal,
                "ecr:SetRepositoryPolicy",
                account_id=call.account_id,
                resource=call.repository_arn(),
                facts=call.facts,
                repository_policy=policy,
            )[1].allowed
        ),
    )
    return _repository_result(call, text)


def get_repository_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.get_repository_policy(session, account_id=call.account_id, name=call.repository_name)
    return _repository_result(call, text)


def delete_repository_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.delete_repository_policy(
        session, account_id=call.account_id, name=call.repository_name
    )
    return _repository_result(call, text)


def put_registry_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.put_registry_policy(
        session, account_id=call.account_id, policy_text=str(call.params["policyText"])
    )
    return {"registryId": call.account_id, "policyText": text}


def get_registry_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.get_registry_policy(session, account_id=call.account_id)
    return {"registryId": call.account_id, "policyText": text}


def delete_registry_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.delete_registry_policy(session, account_id=call.account_id)
    return {"registryId": call.account_id, "policyText": text}


OPERATIONS: dict[str, Operation] = {
    "SetRepositoryPolicy": Operation(set_repository_policy, "repository", writes=True),
    "GetRepositoryPolicy": Operation(get_repository_policy, "repository"),
    "DeleteRepositoryPolicy": Operation(delete_repository_policy, "repository", writes=True),
    "PutRegistryPolicy": Operation(put_registry_policy, "*", writes=True),
    "GetRegistryPolicy": Operation(get_registry_policy, "*"),
    "DeleteRegistryPolicy": Operation(delete_registry_policy, "*", writes=True),
}
