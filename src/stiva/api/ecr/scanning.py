"""Image scanning: Put/GetRegistryScanningConfiguration, BatchGetRepositoryScanningConfiguration,
PutImageScanningConfiguration, StartImageScan, DescribeImageScanFindings.

Registry-level operations are authorized on `*`, the others on the repositories they name.
Semantics and texts: `stiva.services.scanning` (config, scans, shapes).
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr import shapes
from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services.images import ImageId
from stiva.services.repositories import get_repository
from stiva.services.scanning import config, scans


def _image_id(call: EcrCall) -> ImageId:
    raw = call.params["imageId"]
    return ImageId(raw.get("imageDigest"), raw.get("imageTag"))


def put_registry_scanning_configuration(session: Session, call: EcrCall) -> dict[str, Any]:
    stored = scans.put_registry_scanning_configuration(
        session,
        account_id=call.account_id,
        scan_type=call.params.get("scanType", config.BASIC),
        rules=call.params.get("rules"),
        deployment=call.ctx.deployment,
        now=call.ctx.now(),
    )
    return {"registryScanningConfiguration": stored.to_json()}


def get_registry_scanning_configuration(session: Session, call: EcrCall) -> dict[str, Any]:
    stored = config.get_registry_scanning_configuration(session, account_id=call.account_id)
    return {"registryId": call.account_id, "scanningConfiguration": stored.to_json()}


def batch_get_repository_scanning_configuration(session: Session, call: EcrCall) -> dict[str, Any]:
    found, missing = config.batch_get_repository_scanning_configuration(
        session, account_id=call.account_id, names=call.params["repositoryNames"]
    )
    return {
        "scanningConfigurations": [
            {
                "repositoryArn": call.repository_arn(repo.name),
                "repositoryName": repo.name,
                "scanOnPush": applied.scan_on_push,
                "scanFrequency": applied.frequency,
                "appliedScanFilters": shapes.exclusion_filters(list(applied.applied_filters)),
            }
            for repo, applied in found
        ],
        "failures": [
            {
                "repositoryName": name,
                "failureCode": "REPOSITORY_NOT_FOUND",
                "failureReason": "REPOSITORY_NOT_FOUND",
            }
            for name in missing
        ],
    }


def put_image_scanning_configuration(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = config.put_image_scanning_configuration(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        scan_on_push=bool(call.params["imageScanningConfiguration"].get("scanOnPush", False)),
    )
    return {
        "registryId": call.account_id,
        "repositoryName": repo.name,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
    }


def start_image_scan(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    image_id, status = scans.start_image_scan(
        session, repository=repo, image_id=_image_id(call), now=call.ctx.now()
    )
    return {
        "registryId": call.account_id,
        "repositoryName": repo.name,
        "imageId": shapes.image_id(image_id),
        "imageScanStatus": {"status": status},
    }


def describe_image_scan_findings(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    report = scans.describe_image_scan_findings(
        session,
        repository=repo,
        image_id=_image_id(call),
        deployment=call.ctx.deployment,
        max_results=call.params.get("maxResults"),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    status = {"status": report.status}
    if report.description:
        status["description"] = report.description
    shape: dict[str, Any] = {
        "registryId": call.account_id,
        "repositoryName": repo.name,
        "imageId": shapes.image_id(report.image_id),
        "imageScanStatus": status,
    }
    if report.findings is not None:
        shape["imageScanFindings"] = report.findings
    if report.next_token:
        shape["nextToken"] = report.next_token
    return shape


OPERATIONS: dict[str, Operation] = {
    "PutRegistryScanningConfiguration": Operation(
        put_registry_scanning_configuration, "*", writes=True
    ),
    "GetRegistryScanningConfiguration": Operation(get_registry_scanning_configuration, "*"),
    "BatchGetRepositoryScanningConfiguration": Operation(
        batch_get_repository_scanning_configuration, "repositories"
    ),
    "PutImageScanningConfiguration": Operation(
        put_image_scanning_configuration, "repository", writes=True
    ),
    "StartImageScan": Operation(start_image_scan, "repository", writes=True),
    "DescribeImageScanFindings": Operation(describe_image_scan_findings, "repository"),
}
