"""GetAuthorizationToken."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services.tokens import get_authorization_token as issue


def get_authorization_token(session: Session, call: EcrCall) -> dict[str, Any]:
    del session
    data = issue(
        call.principal, key=call.ctx.keys.token, deployment=call.ctx.deployment, now=call.ctx.now()
    )
    registries = call.params.get("registryIds") or [call.principal.account_id]
    return {
        "authorizationData": [
            {
                "authorizationToken": data.authorization_token,
                "expiresAt": data.expires_at,
                "proxyEndpoint": call.ctx.deployment.proxy_endpoint(registry),
            }
            for registry in registries
        ]
    }


OPERATIONS: dict[str, Operation] = {
    "GetAuthorizationToken": Operation(get_authorization_token, "*"),
}
