"""DescribeImages' `imageScanStatus` and `imageScanFindingsSummary`, for a page of images.

ECR's AWS-native basic scanning leaves these two out of DescribeImages (reference §4.3; the
older engine filled them). Stiva fills them for every scanned image, basic or enhanced, so one
DescribeImages call shows the state of a repository; images never scanned have neither. The
summary exists once a scan has a result (COMPLETE or ACTIVE) and counts what
DescribeImageScanFindings lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m

_WITH_RESULT = ("COMPLETE", "ACTIVE")


def _status(scan: m.ImageScan) -> dict[str, Any]:
    shape = {"status": scan.status}
    if scan.description:
        shape["description"] = scan.description
    return shape


def _summary(scan: m.ImageScan) -> dict[str, Any] | None:
    if scan.status not in _WITH_RESULT or scan.completed_at is None:
        return None
    shape: dict[str, Any] = {
        "imageScanCompletedAt": scan.completed_at,
        "findingSeverityCounts": json.loads(scan.severity_counts or "{}"),
    }
    if scan.source_updated_at is not None:
        shape["vulnerabilitySourceUpdatedAt"] = scan.source_updated_at
    return shape


def scan_summaries(
    session: Session, manifest_ids: Sequence[int]
) -> dict[int, tuple[dict[str, Any], dict[str, Any] | None]]:
    """{manifest id: (imageScanStatus, imageScanFindingsSummary or None)} of scanned images."""
    if not manifest_ids:
        return {}
    scans = session.scalars(select(m.ImageScan).where(m.ImageScan.manifest_id.in_(manifest_ids)))
    return {scan.manifest_id: (_status(scan), _summary(scan)) for scan in scans}
