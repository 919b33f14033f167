"""ListImages, DescribeImages, BatchGetImage."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr import shapes
from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import images as svc
from stiva.services.repositories import get_repository

DEFAULT_PAGE = 100


def _image_ids(raw: list[dict[str, str]] | None) -> list[svc.ImageId] | None:
    if raw is None:
        return None
    return [svc.ImageId(item.get("imageDigest"), item.get("imageTag")) for item in raw]


def list_images(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    ids, token = svc.list_images(
        session,
        repository_id=repo.id,
        tag_status=call.params.get("filter", {}).get("tagStatus", "ANY"),
        max_results=call.params.get("maxResults", DEFAULT_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    result: dict[str, Any] = {"imageIds": [shapes.image_id(i) for i in ids]}
    if token:
        result["nextToken"] = token
    return result


def describe_images(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    details, token = svc.describe_images(
        session,
        repository_id=repo.id,
        repository_name=repo.name,
        registry_id=call.account_id,
        image_ids=_image_ids(call.params.get("imageIds")),
        tag_status=call.params.get("filter", {}).get("tagStatus", "ANY"),
        max_results=call.params.get("maxResults", DEFAULT_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    shaped = [
        shapes.image_detail(d, registry_id=call.account_id, repository_name=repo.name)
        for d in details
    ]
    result: dict[str, Any] = {"imageDetails": shaped}
    if token:
        result["nextToken"] = token
    return result


def batch_get_image(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    found, failures = svc.batch_get_image(
        session,
        repository_id=repo.id,
        image_ids=_image_ids(call.params["imageIds"]) or [],
        accepted_media_types=call.params.get("acceptedMediaTypes"),
    )
    now = call.ctx.now()
    for image in found:
        call.ctx.pulls.record(image.manifest_id, now, call.principal.arn)
    return {
        "images": [
            {
                "registryId": call.account_id,
                "repositoryName": repo.name,
                "imageId": shapes.image_id(image.image_id),
                "imageManifest": image.manifest.decode("utf-8"),
                "imageManifestMediaType": image.media_type,
            }
            for image in found
        ],
        "failures": [
            {
                "imageId": shapes.image_id(f.image_id),
                "failureCode": f.code,
                "failureReason": f.reason,
            }
            for f in failures
        ],
    }


OPERATIONS: dict[str, Operation] = {
    "ListImages": Operation(list_images, "repository"),
    "DescribeImages": Operation(describe_images, "repository"),
    "BatchGetImage": Operation(batch_get_image, "repository"),
}
