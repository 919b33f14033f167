"""CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed."""

from __future__ import annotations

from typing import Any

from stiva.api.iam import resources, shapes
from stiva.api.iam.call import Operation, QueryCall
from stiva.api.iam.users import target_user
from stiva.metadata.database import Session
from stiva.services.iam import access_keys as svc

_USER = resources.entity("user", "UserName")


def create_access_key(session: Session, call: QueryCall) -> dict[str, Any]:
    user = target_user(session, call)
    row, secret = svc.create_access_key(session, call.ctx.secrets, user=user)
    return {"AccessKey": {**shapes.access_key(row, user), "SecretAccessKey": secret}}


def list_access_keys(session: Session, call: QueryCall) -> dict[str, Any]:
    user = target_user(session, call)
    page = svc.list_access_keys(
        session,
        user=user,
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    items = [shapes.access_key(row, user) for row in page.items]
    return shapes.listing(page, "AccessKeyMetadata", items)


def update_access_key(session: Session, call: QueryCall) -> dict[str, Any]:
    svc.update_access_key(
        session,
        user=target_user(session, call),
        access_key_id=call.params["AccessKeyId"],
        status=call.params["Status"],
    )
    return {}


def delete_access_key(session: Session, call: QueryCall) -> dict[str, Any]:
    user = target_user(session, call)
    svc.delete_access_key(session, user=user, access_key_id=call.params["AccessKeyId"])
    return {}


def get_access_key_last_used(session: Session, call: QueryCall) -> dict[str, Any]:
    row, user = svc.access_key_last_used(
        session, account_id=call.account_id, access_key_id=call.params["AccessKeyId"]
    )
    used: dict[str, Any] = {
        "ServiceName": row.last_used_service or "N/A",
        "Region": row.last_used_region or "N/A",
    }
    if row.last_used_at is not None:
        used["LastUsedDate"] = row.last_used_at
    result: dict[str, Any] = {"AccessKeyLastUsed": used}
    if not user.is_root:
        result["UserName"] = user.name
    return result


OPERATIONS = {
    "CreateAccessKey": Operation(create_access_key, _USER, writes=True),
    "ListAccessKeys": Operation(list_access_keys, _USER),
    "UpdateAccessKey": Operation(update_access_key, _USER, writes=True),
    "DeleteAccessKey": Operation(delete_access_key, _USER, writes=True),
    "GetAccessKeyLastUsed": Operation(get_access_key_last_used, resources.access_key_user),
}
