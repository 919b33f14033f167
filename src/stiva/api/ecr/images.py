"""PutImage, BatchGetImage, BatchDeleteImage, ListImages, DescribeImages, ListImageReferrers,
UpdateImageStorageClass."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr import shapes
from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import archive, referrers
from stiva.services import images as svc
from stiva.services.manifests import Referrer
from stiva.services.repositories import get_repository
from stiva.services.templates import repository_for_push


def _image_ids(raw: list[dict[str, str]] | None) -> list[svc.ImageId] | None:
    if raw is None:
        return None
    return [svc.ImageId(item.get("imageDigest"), item.get("imageTag")) for item in raw]


def _paged(key: str, items: list[Any], token: str | None) -> dict[str, Any]:
    return {key: items, **({"nextToken": token} if token else {})}


def _filter(call: EcrCall) -> tuple[str, str]:
    """(tagStatus, imageStatus) of ListImages / DescribeImages: ANY and ACTIVE by default."""
    given = call.params.get("filter", {})
    return given.get("tagStatus", "ANY"), given.get("imageStatus", "ACTIVE")


def list_images(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    tag_status, image_status = _filter(call)
    ids, token = svc.list_images(
        session,
        repository_id=repo.id,
        tag_status=tag_status,
        image_status=image_status,
        max_results=call.params.get("maxResults", svc.DEFAULT_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    return _paged("imageIds", [shapes.image_id(i) for i in ids], token)


def describe_images(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    tag_status, image_status = _filter(call)
    details, token = svc.describe_images(
        session,
        repository=repo,
        image_ids=_image_ids(call.params.get("imageIds")),
        tag_status=tag_status,
        image_status=image_status,
        max_results=call.params.get("maxResults"),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    return _paged(
        "imageDetails",
        [
            shapes.image_detail(d, registry_id=call.account_id, repository_name=repo.name)
            for d in details
        ],
        token,
    )


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
        call.ctx.pulls.record(
            image.manifest_id, str(image.image_id.digest), now, call.principal.arn
        )
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
        "failures": [_failure(f) for f in failures],
    }


def _failure(failure: svc.ImageFailure) -> dict[str, Any]:
    return {
        "imageId": shapes.image_id(failure.image_id),
        "failureCode": failure.code,
        "failureReason": failure.reason,
    }


def put_image(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    repo = repository_for_push(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        authorize_create=lambda: call.authorize("ecr:CreateRepository"),  # CREATE_ON_PUSH
    )
    pushed = svc.put_image(
        session,
        repository=repo,
        manifest=p["imageManifest"],
        media_type=p.get("imageManifestMediaType"),
        tag=p.get("imageTag"),
        digest=p.get("imageDigest"),
    )
    image_id = svc.ImageId(pushed.digest, p.get("imageTag"))
    return {
        "image": {
            "registryId": call.account_id,
            "repositoryName": repo.name,
            "imageId": shapes.image_id(image_id),
            "imageManifest": p["imageManifest"],
            "imageManifestMediaType": pushed.media_type,
        }
    }


def batch_delete_image(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    deleted, failures = svc.batch_delete_image(
        session, repository=repo, image_ids=_image_ids(call.params["imageIds"]) or []
    )
    return {
        "imageIds": [shapes.image_id(i) for i in deleted],
        "failures": [_failure(f) for f in failures],
    }


def _referrer(ref: Referrer) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "digest": ref.digest,
        "mediaType": ref.media_type,
        "size": ref.size,
        "artifactStatus": ref.status,
    }
    if ref.artifact_type:
        shape["artifactType"] = ref.artifact_type
    if ref.annotations:
        shape["annotations"] = ref.annotations
    return shape


def list_image_referrers(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    given = call.params.get("filter", {})
    found, token = referrers.list_image_referrers(
        session,
        repository_id=repo.id,
        subject=call.params["subjectId"]["imageDigest"],
        artifact_types=given.get("artifactTypes", []),
        artifact_status=given.get("artifactStatus", "ACTIVE"),
        max_results=call.params.get("maxResults", referrers.DEFAULT_REFERRERS_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    return _paged("referrers", [_referrer(r) for r in found], token)


def update_image_storage_class(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    raw = call.params["imageId"]
    image_id, status = archive.update_image_storage_class(
        session,
        repository=repo,
        image_id=svc.ImageId(raw.get("imageDigest"), raw.get("imageTag")),
        target=call.params["targetStorageClass"],
        now=call.ctx.now(),
    )
    return {
        "registryId": call.account_id,
        "repositoryName": repo.name,
        "imageId": shapes.image_id(image_id),
        "imageStatus": status,
    }


OPERATIONS: dict[str, Operation] = {
    "ListImages": Operation(list_images, "repository"),
    "DescribeImages": Operation(describe_images, "repository"),
    "BatchGetImage": Operation(batch_get_image, "repository"),
    "PutImage": Operation(put_image, "repository", writes=True),
    "BatchDeleteImage": Operation(batch_delete_image, "repository", writes=True),
    "ListImageReferrers": Operation(list_image_referrers, "repository"),
    "UpdateImageStorageClass": Operation(update_image_storage_class, "repository", writes=True),
}
