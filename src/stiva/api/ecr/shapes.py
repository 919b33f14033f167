"""Render domain objects as the ECR model's output shapes."""

from __future__ import annotations

from typing import Any

from stiva.metadata import models as m
from stiva.services import mutability
from stiva.services.deployment import Deployment
from stiva.services.images import ImageDetail, ImageId


def exclusion_filters(filters: list[str]) -> list[dict[str, str]]:
    """ECR's `imageTagMutabilityExclusionFilters` for stored filter strings."""
    return [{"filterType": "WILDCARD", "filter": f} for f in filters]


def filter_values(raw: list[dict[str, str]] | None) -> list[str] | None:
    """The filter strings of a request's `imageTagMutabilityExclusionFilters` (None: absent)."""
    return None if raw is None else [f["filter"] for f in raw]


def repository(repo: m.Repository, deployment: Deployment) -> dict[str, Any]:
    encryption: dict[str, Any] = {"encryptionType": repo.encryption_type}
    if repo.kms_key:
        encryption["kmsKey"] = repo.kms_key
    shape: dict[str, Any] = {
        "repositoryArn": deployment.repository_arn(repo.account_id, repo.name),
        "registryId": repo.account_id,
        "repositoryName": repo.name,
        "repositoryUri": deployment.repository_uri(repo.account_id, repo.name),
        "createdAt": repo.created_at,
        "imageTagMutability": repo.image_tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
        "encryptionConfiguration": encryption,
    }
    filters = mutability.exclusion_filters(repo)
    if filters:
        shape["imageTagMutabilityExclusionFilters"] = exclusion_filters(filters)
    return shape


def image_id(value: ImageId) -> dict[str, str]:
    shape: dict[str, str] = {}
    if value.digest is not None:
        shape["imageDigest"] = value.digest
    if value.tag is not None:
        shape["imageTag"] = value.tag
    return shape


def image_detail(detail: ImageDetail, *, registry_id: str, repository_name: str) -> dict[str, Any]:
    """An `imageDetails` entry; optional members only when Stiva knows them."""
    optional = {
        "imageTags": detail.tags,
        "artifactMediaType": detail.artifact_media_type,
        "lastRecordedPullTime": detail.last_pulled_at,
        "subjectManifestDigest": detail.subject_digest,
        "lastArchivedAt": detail.last_archived_at,
        "lastActivatedAt": detail.last_activated_at,
        "imageScanStatus": detail.scan_status,
        "imageScanFindingsSummary": detail.scan_summary,
    }
    return {
        "registryId": registry_id,
        "repositoryName": repository_name,
        "imageDigest": detail.digest,
        "imageSizeInBytes": detail.size,
        "imagePushedAt": detail.pushed_at,
        "imageManifestMediaType": detail.media_type,
        "imageStatus": detail.status,
        **{k: v for k, v in optional.items() if v},
    }
