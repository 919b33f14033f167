"""The scanning operations of ECR's control plane, as services.

Both image operations first check the image id as UpdateImageStorageClass does
(`images.get_image`): neither tag nor digest, or a malformed digest or tag, is
InvalidParameterException with ECR's text.

StartImageScan (BASIC scanning's manual scan): refused for an archived image
(ImageArchivedException), for an index or an artifact (UnsupportedImageTypeException, ECR's
text), under ENHANCED scanning (ValidationException "This feature is disabled": ECR has no
manual scans there; the text is the one users report), and when the image's last scan started
less than 24 hours ago, scan on push included (LimitExceededException, "The scan quota per
image has been exceeded. Wait and try again.", ECR's text). Otherwise the scan is IN_PROGRESS
and a job is queued.

DescribeImageScanFindings: ScanNotFoundException when the image has no scan (moto's text for
ECR's message), else the scan's status, and once it has a result the findings in the shape of
its scan type (`shapes`), a page at a time.

PutRegistryScanningConfiguration: stores the configuration, writes an "ECR Scan Resource
Change" event for repositories whose frequency changes under ENHANCED, and queues a continuous
pass when any repository is under CONTINUOUS_SCAN (images already pushed get scanned).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from stiva.errors import (
    FeatureDisabled,
    ImageArchived,
    LimitExceeded,
    ScanNotFound,
    UnsupportedImageType,
)
from stiva.metadata import models as m
from stiva.oci.manifest import parse_manifest
from stiva.services import images
from stiva.services.deployment import Deployment
from stiva.services.images import ImageId
from stiva.services.manifests import ACTIVE as IMAGE_ACTIVE
from stiva.services.scanning import config, hooks, notify, queue, shapes

QUOTA_WINDOW = timedelta(hours=24)
QUOTA_TEXT = "The scan quota per image has been exceeded. Wait and try again."
DISABLED_TEXT = (
    "This feature is disabled: the registry uses ENHANCED scanning, which scans on push and "
    "continuously; StartImageScan starts BASIC scans only"
)


def _described(image_id: ImageId) -> str:
    return f"{{imageDigest:'{image_id.digest or 'null'}', imageTag:'{image_id.tag or 'null'}'}}"


def start_image_scan(
    session: Session, *, repository: m.Repository, image_id: ImageId, now: datetime
) -> tuple[ImageId, str]:
    """StartImageScan (see the module docstring): (the image id answered, its scan status)."""
    row = images.get_image(session, repository, image_id)
    if row.image_status != IMAGE_ACTIVE:
        raise ImageArchived(
            f"The image with imageId {_described(image_id)} in the repository with name "
            f"'{repository.name}' is archived and cannot be scanned; restore it first"
        )
    if config.scanning_for(session, repository).scan_type == config.ENHANCED:
        raise FeatureDisabled(DISABLED_TEXT)
    reason = hooks.unsupported_reason(parse_manifest(row.content, row.media_type))
    if reason is not None:
        raise UnsupportedImageType(reason)
    scan = session.get(m.ImageScan, row.id)
    if scan is not None and scan.started_at > now - QUOTA_WINDOW:
        raise LimitExceeded(QUOTA_TEXT)
    status = hooks.start_scan(session, manifest_id=row.id, scan_type=config.BASIC, now=now)
    return ImageId(row.digest, image_id.tag), status


@dataclass(frozen=True, slots=True)
class ScanReport:
    """DescribeImageScanFindings, ready to render."""

    image_id: ImageId
    status: str
    description: str | None
    findings: dict[str, Any] | None  # imageScanFindings, None before a result exists
    next_token: str | None


def describe_image_scan_findings(
    session: Session,
    *,
    repository: m.Repository,
    image_id: ImageId,
    deployment: Deployment,
    max_results: int | None,
    next_token: str | None,
    key: bytes,
) -> ScanReport:
    row = images.get_image(session, repository, image_id)
    scan = session.get(m.ImageScan, row.id)
    if scan is None:
        raise ScanNotFound(
            f"Image scan does not exist for the image with '{_described(image_id)}' in the "
            f"repository with name '{repository.name}' in the registry with id "
            f"'{repository.account_id}'"
        )
    answered = ImageId(row.digest, image_id.tag)
    if scan.completed_at is None or scan.status not in (hooks.COMPLETE, hooks.ACTIVE):
        return ScanReport(answered, scan.status, scan.description, None, None)
    page = shapes.findings_page(
        session,
        scan=scan,
        manifest=row,
        repository=repository,
        deployment=deployment,
        max_results=max_results,
        next_token=next_token,
        key=key,
    )
    return ScanReport(answered, scan.status, scan.description, page.shape, page.next_token)


def _frequency_changes(
    before: dict[str, tuple[m.Repository, str]],
    after: dict[str, tuple[m.Repository, str]],
    deployment: Deployment,
) -> list[dict[str, Any]]:
    changes = []
    for name, (repo, frequency) in sorted(after.items()):
        previous = before[name][1]
        if previous != frequency:
            changes.append(
                {
                    "repository-name": name,
                    "repository-arn": deployment.repository_arn(repo.account_id, name),
                    "scan-frequency": frequency,
                    "previous-scan-frequency": previous,
                }
            )
    return changes


def put_registry_scanning_configuration(
    session: Session,
    *,
    account_id: str,
    scan_type: str,
    rules: list[dict[str, Any]] | None,
    deployment: Deployment,
    now: datetime,
) -> config.RegistryScanning:
    """PutRegistryScanningConfiguration (see the module docstring)."""
    previous = config.get_registry_scanning_configuration(session, account_id=account_id)
    before = config.repository_frequencies(session, account_id=account_id, config=previous)
    stored = config.put_registry_scanning_configuration(
        session,
        account_id=account_id,
        scan_type=scan_type,
        rules=config.parse_rules(rules),
        now=now,
    )
    after = config.repository_frequencies(session, account_id=account_id, config=stored)
    if config.ENHANCED in (scan_type, previous.scan_type):
        changes = _frequency_changes(before, after, deployment)
        notify.frequency_change(session, account_id=account_id, changes=changes, now=now)
    if any(freq == config.CONTINUOUS_SCAN for _repo, freq in after.values()):
        queue.enqueue_continuous(session)
    return stored


def severity_counts(scan: m.ImageScan) -> dict[str, int]:
    return dict(json.loads(scan.severity_counts or "{}"))
