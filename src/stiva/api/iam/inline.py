"""Inline policies: Put/Get/List/Delete for users (UserName), groups (GroupName) and roles
(RoleName); one handler per verb, given the kind of entity."""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from stiva.api.iam import resources, shapes
from stiva.api.iam.call import Operation, QueryCall
from stiva.metadata.database import Session
from stiva.services.iam import inline as svc
from stiva.services.iam.entities import Kind, Owner, find_owner

NAME_MEMBER: Final[dict[Kind, str]] = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def owner_of(session: Session, call: QueryCall, kind: Kind) -> Owner:
    name = call.params[NAME_MEMBER[kind]]
    return find_owner(session, account_id=call.account_id, kind=kind, name=name)


def put_policy(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    svc.put_inline_policy(
        session,
        owner=owner_of(session, call, kind),
        name=call.params["PolicyName"],
        document=call.params["PolicyDocument"],
    )
    return {}


def get_policy(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    owner = owner_of(session, call, kind)
    policy = svc.get_inline_policy(session, owner=owner, name=call.params["PolicyName"])
    return {
        NAME_MEMBER[kind]: owner.name,
        "PolicyName": policy.name,
        "PolicyDocument": policy.document,
    }


def list_policies(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    page = svc.list_inline_policies(
        session,
        owner=owner_of(session, call, kind),
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    return shapes.listing(page, "PolicyNames", page.items)


def delete_policy(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    owner = owner_of(session, call, kind)
    svc.delete_inline_policy(session, owner=owner, name=call.params["PolicyName"])
    return {}


_USER = resources.entity("user", "UserName")
_GROUP = resources.entity("group", "GroupName")
_ROLE = resources.entity("role", "RoleName")

OPERATIONS = {
    "PutUserPolicy": Operation(partial(put_policy, "user"), _USER, writes=True),
    "GetUserPolicy": Operation(partial(get_policy, "user"), _USER),
    "ListUserPolicies": Operation(partial(list_policies, "user"), _USER),
    "DeleteUserPolicy": Operation(partial(delete_policy, "user"), _USER, writes=True),
    "PutGroupPolicy": Operation(partial(put_policy, "group"), _GROUP, writes=True),
    "GetGroupPolicy": Operation(partial(get_policy, "group"), _GROUP),
    "ListGroupPolicies": Operation(partial(list_policies, "group"), _GROUP),
    "DeleteGroupPolicy": Operation(partial(delete_policy, "group"), _GROUP, writes=True),
    "PutRolePolicy": Operation(partial(put_policy, "role"), _ROLE, writes=True),
    "GetRolePolicy": Operation(partial(get_policy, "role"), _ROLE),
    "ListRolePolicies": Operation(partial(list_policies, "role"), _ROLE),
    "DeleteRolePolicy": Operation(partial(delete_policy, "role"), _ROLE, writes=True),
}
