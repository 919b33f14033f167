"""Scan on push: a scan row and a scan job, written in the unit of work of the push.

`image_pushed` is called by `services.manifests.put_manifest` for every manifest stored (both
the OCI `PUT /v2/<name>/manifests/<ref>` and ECR's PutImage go through it). When the
repository scans on push (`config.repository_scanning`) and the image has no scan yet, the
image gets its scan row (IN_PROGRESS for BASIC, PENDING for ENHANCED: DescribeImageScanFindings
and the ImageScanComplete waiter answer at once) and a `scan-image` job, committed with the
push or not at all. Pushing the same manifest again (another tag) scans nothing.

What can be scanned: image manifests whose config is an image config and whose layers are
tar archives. An index ("An artifact with media type '<index type>' cannot be scanned": ECR's
StartImageScan text, observed) and artifacts (Helm charts, signatures, SBOMs, attestations) get
UNSUPPORTED_IMAGE with that text; the images an index lists are scanned as their own pushes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.oci import mediatypes as mt
from stiva.oci.manifest import Manifest
from stiva.services.scanning import config, queue

IN_PROGRESS, PENDING, COMPLETE, FAILED = "IN_PROGRESS", "PENDING", "COMPLETE", "FAILED"
ACTIVE, UNSUPPORTED_IMAGE = "ACTIVE", "UNSUPPORTED_IMAGE"
IMAGE_CONFIGS = frozenset({mt.OCI_IMAGE_CONFIG, "application/vnd.docker.container.image.v1+json"})
PENDING_TEXT = "The image is waiting to be scanned."


def _is_tar(media_type: str) -> bool:
    return ".tar" in media_type or media_type.startswith("application/vnd.docker.image.rootfs.")


def unsupported_reason(manifest: Manifest) -> str | None:
    """Why the manifest cannot be scanned, in ECR's words; None for a scannable image."""
    if manifest.is_index:
        kind = manifest.media_type
    else:
        config_type = manifest.config.media_type if manifest.config else None
        layers_ok = all(_is_tar(d.media_type) for d in manifest.layers if d.distributable)
        if config_type in IMAGE_CONFIGS and layers_ok and not manifest.artifact_type:
            return None
        kind = manifest.artifact_type or config_type or manifest.media_type
    return (
        f"An artifact with media type '{kind}' cannot be scanned. For more information, "
        "see the Amazon ECR documentation."
    )


def start_scan(session: Session, *, manifest_id: int, scan_type: str, now: datetime) -> str:
    """(Re)start the scan of an image: its row waits for a new job; the status it shows."""
    status = PENDING if scan_type == config.ENHANCED else IN_PROGRESS
    request_id = str(uuid.uuid4())
    row = session.get(m.ImageScan, manifest_id)
    if row is None:
        row = m.ImageScan(manifest_id=manifest_id)
        session.add(row)
    row.status, row.scan_type, row.request_id, row.started_at = status, scan_type, request_id, now
    row.description = PENDING_TEXT if status == PENDING else None
    row.completed_at = None
    session.flush()
    queue.enqueue_scan(session, manifest_id=manifest_id, request_id=request_id)
    return status


def refuse(
    session: Session, *, manifest_id: int, scan_type: str, reason: str, now: datetime
) -> None:
    """Record an image that cannot be scanned (UNSUPPORTED_IMAGE, with the reason)."""
    row = session.get(m.ImageScan, manifest_id)
    if row is None:
        row = m.ImageScan(manifest_id=manifest_id)
        session.add(row)
    row.status, row.description, row.scan_type = UNSUPPORTED_IMAGE, reason, scan_type
    row.request_id, row.started_at, row.completed_at = str(uuid.uuid4()), now, now
    session.flush()


def image_pushed(
    session: Session, *, repository: m.Repository, manifest_id: int, manifest: Manifest
) -> None:
    """Scan on push, if the repository scans on push and the image has no scan yet."""
    applied = config.scanning_for(session, repository)
    if not applied.scans_on_push or session.get(m.ImageScan, manifest_id) is not None:
        return
    now = m.utcnow()
    reason = unsupported_reason(manifest)
    if reason is not None:
        refuse(
            session, manifest_id=manifest_id, scan_type=applied.scan_type, reason=reason, now=now
        )
    else:
        start_scan(session, manifest_id=manifest_id, scan_type=applied.scan_type, now=now)
