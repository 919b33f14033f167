"""Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, GetPolicyVersion,
ListPolicyVersions; Attach/Detach/ListAttached{User,Group,Role}Policies."""

from __future__ import annotations

from functools import partial
from typing import Any

from stiva.api.iam import resources, shapes
from stiva.api.iam.call import Operation, QueryCall, refuse_unsupported
from stiva.api.iam.inline import owner_of
from stiva.errors import AccessDenied
from stiva.metadata.database import Session
from stiva.services.iam import policies as svc
from stiva.services.iam.aws_managed import is_aws_arn
from stiva.services.iam.entities import Kind


def create_policy(session: Session, call: QueryCall) -> dict[str, Any]:
    refuse_unsupported(call, ("Tags",), "managed policies")
    p = call.params
    view = svc.create_policy(
        session,
        account_id=call.account_id,
        name=p["PolicyName"],
        path=p.get("Path", "/"),
        document=p["PolicyDocument"],
        description=p.get("Description"),
    )
    return {"Policy": shapes.policy(view)}


def get_policy(session: Session, call: QueryCall) -> dict[str, Any]:
    view = svc.get_policy(session, account_id=call.account_id, arn=call.params["PolicyArn"])
    return {"Policy": shapes.policy(view, description=True)}


def list_policies(session: Session, call: QueryCall) -> dict[str, Any]:
    p = call.params
    page = svc.list_policies(
        session,
        account_id=call.account_id,
        scope=p.get("Scope", "All"),
        only_attached=bool(p.get("OnlyAttached", False)),
        path_prefix=p.get("PathPrefix"),
        marker=p.get("Marker"),
        max_items=p.get("MaxItems"),
        key=call.page_key,
    )
    return shapes.listing(page, "Policies", [shapes.policy(view) for view in page.items])


def delete_policy(session: Session, call: QueryCall) -> dict[str, Any]:
    arn = call.params["PolicyArn"]
    if is_aws_arn(arn):
        raise AccessDenied(
            f"User: {call.principal.arn} is not authorized to perform: iam:DeletePolicy on "
            f"resource: policy {arn}: AWS managed policies cannot be deleted"
        )
    svc.delete_policy(session, account_id=call.account_id, arn=arn)
    return {}


def get_policy_version(session: Session, call: QueryCall) -> dict[str, Any]:
    view = svc.get_policy_version(
        session,
        account_id=call.account_id,
        arn=call.params["PolicyArn"],
        version_id=call.params["VersionId"],
    )
    version = {
        "Document": view.document,
        "VersionId": view.default_version_id,
        "IsDefaultVersion": True,
        "CreateDate": view.created_at,
    }
    return {"PolicyVersion": version}


def list_policy_versions(session: Session, call: QueryCall) -> dict[str, Any]:
    view = svc.get_policy(session, account_id=call.account_id, arn=call.params["PolicyArn"])
    version = {
        "VersionId": view.default_version_id,
        "IsDefaultVersion": True,
        "CreateDate": view.created_at,
    }
    return {"Versions": [version], "IsTruncated": False}


def attach(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    owner = owner_of(session, call, kind)
    svc.attach_policy(session, owner=owner, arn=call.params["PolicyArn"])
    return {}


def detach(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    owner = owner_of(session, call, kind)
    svc.detach_policy(session, owner=owner, arn=call.params["PolicyArn"])
    return {}


def list_attached(kind: Kind, session: Session, call: QueryCall) -> dict[str, Any]:
    page = svc.list_attached_policies(
        session,
        owner=owner_of(session, call, kind),
        path_prefix=call.params.get("PathPrefix"),
        marker=call.params.get("Marker"),
        max_items=call.params.get("MaxItems"),
        key=call.page_key,
    )
    items = [{"PolicyName": name, "PolicyArn": arn} for name, arn in page.items]
    return shapes.listing(page, "AttachedPolicies", items)


_USER = resources.entity("user", "UserName")
_GROUP = resources.entity("group", "GroupName")
_ROLE = resources.entity("role", "RoleName")
_POLICY = resources.policy_arn

OPERATIONS = {
    "CreatePolicy": Operation(
        create_policy, resources.new_entity("policy", "PolicyName"), writes=True
    ),
    "GetPolicy": Operation(get_policy, _POLICY),
    "ListPolicies": Operation(list_policies, resources.listing("policy")),
    "DeletePolicy": Operation(delete_policy, _POLICY, writes=True),
    "GetPolicyVersion": Operation(get_policy_version, _POLICY),
    "ListPolicyVersions": Operation(list_policy_versions, _POLICY),
    "AttachUserPolicy": Operation(partial(attach, "user"), _USER, writes=True),
    "DetachUserPolicy": Operation(partial(detach, "user"), _USER, writes=True),
    "ListAttachedUserPolicies": Operation(partial(list_attached, "user"), _USER),
    "AttachGroupPolicy": Operation(partial(attach, "group"), _GROUP, writes=True),
    "DetachGroupPolicy": Operation(partial(detach, "group"), _GROUP, writes=True),
    "ListAttachedGroupPolicies": Operation(partial(list_attached, "group"), _GROUP),
    "AttachRolePolicy": Operation(partial(attach, "role"), _ROLE, writes=True),
    "DetachRolePolicy": Operation(partial(detach, "role"), _ROLE, writes=True),
    "ListAttachedRolePolicies": Operation(partial(list_attached, "role"), _ROLE),
}
