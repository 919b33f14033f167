"""CreateRole, GetRole, ListRoles, DeleteRole, UpdateRole, UpdateAssumeRolePolicy."""

from __future__ import annotations

from typing import Any

from stiva.api.iam import resources, shapes
from stiva.api.iam.call import Operation, QueryCall, refuse_unsupported
from stiva.metadata.database import Session
from stiva.services.iam import roles as svc


def create_role(session: Session, call: QueryCall) -> dict[str, Any]:
    refuse_unsupported(
        call, ("Tags", "PermissionsBoundary", "MaxSigninSessionDuration"), "IAM roles"
    )
    p = call.params
    role = svc.create_role(
        session,
        account_id=call.account_id,
        name=p["RoleName"],
        trust_document=p["AssumeRolePolicyDocument"],
        path=p.get("Path", "/"),
        description=p.get("Description"),
        max_session_duration=p.get("MaxSessionDuration"),
    )
    return {"Role": shapes.role(role)}


def get_role(session: Session, call: QueryCall) -> dict[str, Any]:
    role = svc.get_role(session, account_id=call.account_id, name=call.params["RoleName"])
    return {"Role": {**shapes.role(role), "RoleLastUsed": {}}}


def list_roles(session: Session, call: QueryCall) -> dict[str, Any]:
    page = svc.list_roles(
        session,
        account_id=call.account_id,
        path_prefix=call.params.get("PathPrefix"),
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    return shapes.listing(page, "Roles", [shapes.role(role) for role in page.items])


def update_role(session: Session, call: QueryCall) -> dict[str, Any]:
    refuse_unsupported(call, ("MaxSigninSessionDuration",), "IAM roles")
    svc.update_role(
        session,
        account_id=call.account_id,
        name=call.params["RoleName"],
        description=call.params.get("Description"),
        max_session_duration=call.params.get("MaxSessionDuration"),
    )
    return {}


def update_assume_role_policy(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.update_assume_role_policy(
        session,
        account_id=call.account_id,
        name=call.params["RoleName"],
        trust_document=call.params["PolicyDocument"],
    )
    return {}


def delete_role(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.delete_role(session, account_id=call.account_id, name=call.params["RoleName"])
    return {}


_ROLE = resources.entity("role", "RoleName")

OPERATIONS = {
    "CreateRole": Operation(create_role, resources.new_entity("role", "RoleName"), writes=True),
    "GetRole": Operation(get_role, _ROLE),
    "ListRoles": Operation(list_roles, resources.listing("role")),
    "UpdateRole": Operation(update_role, _ROLE, writes=True),
    "UpdateAssumeRolePolicy": Operation(update_assume_role_policy, _ROLE, writes=True),
    "DeleteRole": Operation(delete_role, _ROLE, writes=True),
}
