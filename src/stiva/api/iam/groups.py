"""CreateGroup, GetGroup, ListGroups, ListGroupsForUser, DeleteGroup, AddUserToGroup,
RemoveUserFromGroup."""

from __future__ import annotations

from typing import Any

from stiva.api.iam import resources, shapes
from stiva.api.iam.call import Operation, QueryCall
from stiva.metadata.database import Session
from stiva.services.iam import groups as svc


def create_group(session: Session, call: QueryCall) -> dict[str, Any]:
    p = call.params
    group = svc.create_group(
        session, account_id=call.account_id, name=p["GroupName"], path=p.get("Path", "/")
    )
    return {"Group": shapes.group(group)}


def get_group(session: Session, call: QueryCall) -> dict[str, Any]:
    group, page = svc.get_group(
        session,
        account_id=call.account_id,
        name=call.params["GroupName"],
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    members = shapes.listing(page, "Users", [shapes.user(user) for user in page.items])
    return {"Group": shapes.group(group), **members}


def list_groups(session: Session, call: QueryCall) -> dict[str, Any]:
    page = svc.list_groups(
        session,
        account_id=call.account_id,
        path_prefix=call.params.get("PathPrefix"),
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    return shapes.listing(page, "Groups", [shapes.group(group) for group in page.items])


def list_groups_for_user(session: Session, call: QueryCall) -> dict[str, Any]:
    page = svc.list_groups_for_user(
        session,
        account_id=call.account_id,
        user_name=call.params["UserName"],
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    return shapes.listing(page, "Groups", [shapes.group(group) for group in page.items])


def add_user_to_group(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.add_user_to_group(
        session,
        account_id=call.account_id,
        group_name=call.params["GroupName"],
        user_name=call.params["UserName"],
    )
    return {}


def remove_user_from_group(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.remove_user_from_group(
        session,
        account_id=call.account_id,
        group_name=call.params["GroupName"],
        user_name=call.params["UserName"],
    )
    return {}


def delete_group(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.delete_group(session, account_id=call.account_id, name=call.params["GroupName"])
    return {}


_GROUP = resources.entity("group", "GroupName")

OPERATIONS = {
    "CreateGroup": Operation(create_group, resources.new_entity("group", "GroupName"), writes=True),
    "GetGroup": Operation(get_group, _GROUP),
    "ListGroups": Operation(list_groups, resources.listing("group")),
    "ListGroupsForUser": Operation(list_groups_for_user, resources.entity("user", "UserName")),
    "AddUserToGroup": Operation(add_user_to_group, _GROUP, writes=True),
    "RemoveUserFromGroup": Operation(remove_user_from_group, _GROUP, writes=True),
    "DeleteGroup": Operation(delete_group, _GROUP, writes=True),
}
