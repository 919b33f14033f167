"""Lifecycle policies: Put/Get/DeleteLifecyclePolicy, Start/GetLifecyclePolicyPreview.

Every operation acts on the repository it names. Texts, shapes and the preview's Stiva
addition (`summary.stivaBytesFreed`) are described in `stiva.services.lifecycle`.
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services.images import ImageId
from stiva.services.lifecycle import policies as svc
from stiva.services.lifecycle import preview
from stiva.services.lifecycle.preview import PreviewResult, PreviewSummary


def _result(call: EcrCall, **members: Any) -> dict[str, Any]:
    return {"registryId": call.account_id, "repositoryName": call.repository_name, **members}


def put_lifecycle_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    text = svc.put_lifecycle_policy(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        policy_text=call.params["lifecyclePolicyText"],
        now=call.ctx.now(),
    )
    return _result(call, lifecyclePolicyText=text)


def get_lifecycle_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    stored = svc.get_lifecycle_policy(
        session, account_id=call.account_id, name=call.repository_name
    )
    return _result(call, lifecyclePolicyText=stored.text, lastEvaluatedAt=stored.last_evaluated_at)


def delete_lifecycle_policy(session: Session, call: EcrCall) -> dict[str, Any]:
    stored = svc.delete_lifecycle_policy(
        session, account_id=call.account_id, name=call.repository_name
    )
    return _result(call, lifecyclePolicyText=stored.text, lastEvaluatedAt=stored.last_evaluated_at)


def start_lifecycle_policy_preview(session: Session, call: EcrCall) -> dict[str, Any]:
    text = preview.start_lifecycle_policy_preview(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        policy_text=call.params.get("lifecyclePolicyText"),
        now=call.ctx.now(),
    )
    return _result(call, lifecyclePolicyText=text, status=preview.IN_PROGRESS)


def _preview_result(result: PreviewResult) -> dict[str, Any]:
    action = {"type": result.action}
    if result.target_storage_class:
        action["targetStorageClass"] = result.target_storage_class
    shape: dict[str, Any] = {
        "imageDigest": result.digest,
        "imagePushedAt": result.pushed_at,
        "action": action,
        "appliedRulePriority": result.rule_priority,
        "storageClass": result.storage_class,
    }
    if result.tags:
        shape["imageTags"] = list(result.tags)
    return shape


def _summary(summary: PreviewSummary) -> dict[str, Any]:
    shape: dict[str, Any] = {"expiringImageTotalCount": summary.expiring}
    if summary.transitioning:
        shape["transitioningImageTotalCounts"] = [
            {"targetStorageClass": target, "imageTotalCount": count}
            for target, count in sorted(summary.transitioning.items())
        ]
    shape["stivaBytesFreed"] = summary.bytes_freed  # Stiva's addition; AWS clients ignore it
    return shape


def get_lifecycle_policy_preview(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    raw_ids = p.get("imageIds")
    page = preview.get_lifecycle_policy_preview(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        image_ids=None
        if raw_ids is None
        else [ImageId(i.get("imageDigest"), i.get("imageTag")) for i in raw_ids],
        tag_status=p.get("filter", {}).get("tagStatus", "ANY"),
        max_results=p.get("maxResults"),
        next_token=p.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    shape = _result(
        call,
        lifecyclePolicyText=page.policy_text,
        status=page.status,
        previewResults=[_preview_result(r) for r in page.results],
    )
    if page.summary is not None:
        shape["summary"] = _summary(page.summary)
    if page.next_token:
        shape["nextToken"] = page.next_token
    return shape


OPERATIONS: dict[str, Operation] = {
    "PutLifecyclePolicy": Operation(put_lifecycle_policy, "repository", writes=True),
    "GetLifecyclePolicy": Operation(get_lifecycle_policy, "repository"),
    "DeleteLifecyclePolicy": Operation(delete_lifecycle_policy, "repository", writes=True),
    "StartLifecyclePolicyPreview": Operation(
        start_lifecycle_policy_preview, "repository", writes=True
    ),
    "GetLifecyclePolicyPreview": Operation(get_lifecycle_policy_preview, "repository"),
}
