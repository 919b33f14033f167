"""CreateUser, GetUser, ListUsers, DeleteUser."""

from __future__ import annotations

from typing import Any

from stiva.api.iam import resources, shapes
from stiva.api.iam.call import Operation, QueryCall, refuse_unsupported
from stiva.metadata.database import Session
from stiva.metadata.models import IamUser
from stiva.services.iam import users as svc


def target_user(session: Session, call: QueryCall) -> IamUser:
    """The user `UserName` names, else the caller's own (root included)."""
    name = call.params.get("UserName")
    if name is None:
        return svc.caller_user(session, call.principal)
    return svc.get_user(session, account_id=call.account_id, name=name)


def create_user(session: Session, call: QueryCall) -> dict[str, Any]:
    refuse_unsupported(call, ("Tags", "PermissionsBoundary"), "IAM users")
    p = call.params
    user = svc.create_user(
        session, account_id=call.account_id, name=p["UserName"], path=p.get("Path", "/")
    )
    return {"User": shapes.user(user)}


def get_user(session: Session, call: QueryCall) -> dict[str, Any]:
    return {"User": shapes.user(target_user(session, call))}


def list_users(session: Session, call: QueryCall) -> dict[str, Any]:
    page = svc.list_users(
        session,
        account_id=call.account_id,
        path_prefix=call.params.get("PathPrefix"),
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    return shapes.listing(page, "Users", [shapes.user(user) for user in page.items])


def delete_user(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.delete_user(session, account_id=call.account_id, name=call.params["UserName"])
    return {}


OPERATIONS = {
    "CreateUser": Operation(create_user, resources.new_entity("user", "UserName"), writes=True),
    "GetUser": Operation(get_user, resources.entity("user", "UserName")),
    "ListUsers": Operation(list_users, resources.listing("user")),
    "DeleteUser": Operation(delete_user, resources.entity("user", "UserName"), writes=True),
}
