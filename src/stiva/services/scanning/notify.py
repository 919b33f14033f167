"""Scan events, written as `events` rows in the unit of work of the change they report.

- "ECR Image Scan" (source aws.ecr; BASIC scans, every end: COMPLETE, FAILED,
  UNSUPPORTED_IMAGE): detail {"scan-status", "repository-name", "finding-severity-counts"
  (only non-zero severities), "image-digest", "image-tags"}, as in ECR's user guide.
- "Inspector2 Scan" (source aws.inspector2; the first ENHANCED scan of an image): detail
  {"scan-status": "INITIAL_SCAN_COMPLETE", "repository-name" (the repository ARN, as AWS's
  example has it), "finding-severity-counts" (with "TOTAL"), "image-digest", "image-tags"}.
- "ECR Scan Resource Change" (aws.ecr; PutRegistryScanningConfiguration under ENHANCED, when a
  repository's frequency changes): detail {"action-type": "SCAN_FREQUENCY_CHANGE",
  "repositories": [{"repository-name", "repository-arn", "scan-frequency",
  "previous-scan-frequency"}], "resource-type": "REPOSITORY", "scan-type": "ENHANCED"}.

ECR's envelopes name the repository ARN in `resources`; `services.events.envelope` renders
`resources` empty for every event today.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services import events

IMAGE_SCAN = "ECR Image Scan"
INSPECTOR_SCAN = "Inspector2 Scan"
RESOURCE_CHANGE = "ECR Scan Resource Change"
INSPECTOR_SOURCE = "aws.inspector2"


def tags_of(session: Session, manifest_id: int) -> list[str]:
    return sorted(
        session.scalars(select(m.ImageTag.name).where(m.ImageTag.manifest_id == manifest_id))
    )


def image_scan(
    session: Session,
    *,
    repository: m.Repository,
    manifest: m.Manifest,
    status: str,
    counts: dict[str, int],
    now: datetime,
) -> None:
    detail = {
        "scan-status": status,
        "repository-name": repository.name,
        "finding-severity-counts": {k: v for k, v in counts.items() if v},
        "image-digest": manifest.digest,
        "image-tags": tags_of(session, manifest.id),
    }
    events.emit(
        session, account_id=repository.account_id, detail_type=IMAGE_SCAN, detail=detail, now=now
    )


def inspector_scan(
    session: Session,
    *,
    repository: m.Repository,
    repository_arn: str,
    manifest: m.Manifest,
    counts: dict[str, int],
    now: datetime,
) -> None:
    detail = {
        "scan-status": "INITIAL_SCAN_COMPLETE",
        "repository-name": repository_arn,
        "finding-severity-counts": {**counts, "TOTAL": sum(counts.values())},
        "image-digest": manifest.digest,
        "image-tags": tags_of(session, manifest.id),
    }
    event = events.emit(
        session,
        account_id=repository.account_id,
        detail_type=INSPECTOR_SCAN,
        detail=detail,
        now=now,
    )
    event.source = INSPECTOR_SOURCE


def frequency_change(
    session: Session, *, account_id: str, changes: Sequence[dict[str, Any]], now: datetime
) -> None:
    if not changes:
        return
    detail = {
        "action-type": "SCAN_FREQUENCY_CHANGE",
        "repositories": list(changes),
        "resource-type": "REPOSITORY",
        "scan-type": "ENHANCED",
    }
    events.emit(session, account_id=account_id, detail_type=RESOURCE_CHANGE, detail=detail, now=now)
