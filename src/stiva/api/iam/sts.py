"""STS: GetCallerIdentity and AssumeRole; the table of STS operations, served or not (why)."""

from __future__ import annotations

from typing import Any, Final

from stiva.api.iam.call import Operation, QueryCall, refuse_unsupported
from stiva.metadata.database import Session
from stiva.services import sts as svc

_UNSUPPORTED: Final = (
    "Policy",
    "PolicyArns",
    "Tags",
    "TransitiveTagKeys",
    "SerialNumber",
    "TokenCode",
    "SourceIdentity",
    "ProvidedContexts",
)


def get_caller_identity(session: Session, call: QueryCall) -> dict[str, Any]:
    del session
    p = call.principal
    return {"UserId": p.user_id, "Account": p.account_id, "Arn": p.arn}


def assume_role(session: Session, call: QueryCall) -> dict[str, Any]:
    refuse_unsupported(call, _UNSUPPORTED, "AssumeRole")
    p = call.params
    issued = svc.assume_role(
        session,
        call.ctx.secrets,
        caller=call.principal,
        role_arn=p["RoleArn"],
        session_name=p["RoleSessionName"],
        duration=p.get("DurationSeconds"),
        external_id=p.get("ExternalId"),
        now=call.ctx.now(),
    )
    return {
        "Credentials": {
            "AccessKeyId": issued.access_key_id,
            "SecretAccessKey": issued.secret_access_key,
            "SessionToken": issued.session_token,
            "Expiration": issued.expires_at,
        },
        "AssumedRoleUser": {"AssumedRoleId": issued.assumed_role_id, "Arn": issued.arn},
    }


OPERATIONS: Final = {
    # GetCallerIdentity needs no permission (IAM: even an explicit deny does not stop it);
    # AssumeRole's permission is the role's trust policy, decided by the service.
    "GetCallerIdentity": Operation(get_caller_identity, None),
    "AssumeRole": Operation(assume_role, None, writes=True),
}

_FEDERATION = "federation (SAML and OpenID Connect identity providers) is not part of Stiva"
_USER_SESSIONS = "temporary credentials for IAM users are not implemented yet (only AssumeRole)"

NOT_YET: Final = {
    "AssumeRoleWithSAML": _FEDERATION,
    "AssumeRoleWithWebIdentity": _FEDERATION,
    "GetWebIdentityToken": _FEDERATION,
    "GetSessionToken": _USER_SESSIONS,
    "GetFederationToken": _USER_SESSIONS,
    "AssumeRoot": "Organizations (centralised root access) is not part of Stiva",
    "DecodeAuthorizationMessage": "Stiva's AccessDenied messages are not encoded",
    "GetAccessKeyInfo": "it is not implemented yet",
    "GetDelegatedAccessToken": "it is not implemented yet",
    "GetScopedCredentials": "it is not implemented yet",
}
