"""IAM entities as the model's output structures (User, Group, Role, Policy, AccessKey...)."""

from __future__ import annotations

from typing import Any

from stiva.metadata import models as m
from stiva.services.iam.names import Page, iam_arn
from stiva.services.iam.policies import ManagedPolicy
from stiva.services.identity import root_arn


def user(row: m.IamUser) -> dict[str, Any]:
    if row.is_root:  # GetUser by the root user: no name, no path
        return {
            "UserId": row.user_id,
            "Arn": root_arn(row.account_id),
            "CreateDate": row.created_at,
        }
    return {
        "Path": row.path,
        "UserName": row.name,
        "UserId": row.user_id,
        "Arn": iam_arn(row.account_id, "user", row.path, row.name),
        "CreateDate": row.created_at,
    }


def group(row: m.IamGroup) -> dict[str, Any]:
    return {
        "Path": row.path,
        "GroupName": row.name,
        "GroupId": row.group_id,
        "Arn": iam_arn(row.account_id, "group", row.path, row.name),
        "CreateDate": row.created_at,
    }


def role(row: m.IamRole) -> dict[str, Any]:
    shape = {
        "Path": row.path,
        "RoleName": row.name,
        "RoleId": row.role_id,
        "Arn": iam_arn(row.account_id, "role", row.path, row.name),
        "CreateDate": row.created_at,
        "AssumeRolePolicyDocument": row.trust_policy,
        "MaxSessionDuration": row.max_session_duration,
    }
    if row.description is not None:
        shape["Description"] = row.description
    return shape


def policy(view: ManagedPolicy, *, description: bool = False) -> dict[str, Any]:
    """The Policy structure (Description only where IAM gives it: GetPolicy)."""
    shape: dict[str, Any] = {
        "PolicyName": view.name,
        "PolicyId": view.policy_id,
        "Arn": view.arn,
        "Path": view.path,
        "DefaultVersionId": view.default_version_id,
        "AttachmentCount": view.attachment_count,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": view.created_at,
        "UpdateDate": view.updated_at,
    }
    if description and view.description:
        shape["Description"] = view.description
    return shape


def access_key(row: m.AccessKey, owner: m.IamUser) -> dict[str, Any]:
    """AccessKeyMetadata (the root user's keys carry no user name)."""
    shape: dict[str, Any] = {
        "AccessKeyId": row.access_key_id,
        "Status": row.status,
        "CreateDate": row.created_at,
    }
    if not owner.is_root:
        shape["UserName"] = owner.name
    return shape


def listing(page: Page[Any], member: str, items: list[Any]) -> dict[str, Any]:
    """A page of a listing: the items, IsTruncated and (when truncated) Marker."""
    out: dict[str, Any] = {member: items, "IsTruncated": page.is_truncated}
    if page.marker is not None:
        out["Marker"] = page.marker
    return out
