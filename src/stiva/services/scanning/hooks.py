"""Scan on push: a scan row and a scan job, written in the unit of work of the push.

`image_pushed` is called by `services.manifests.put_manifest` for every manifest stored (both
the OCI `PUT /v2/<name>/manifests/<ref>` and ECR's PutImage go through it). When the
repository scans on push (`config.repository_scanning`) and the image has no scan yet, the
image gets its scan row (IN_PROGRESS for BASIC, PENDING for ENHANCED: DescribeImageScanFindings
and the ImageScanComplete waiter answer at once) and a `scan-image` job, committed with the
push or not at all. Pushing the same manifest again (another tag) scans nothing, except an
image BASIC found UNSUPPORTED_IMAGE (no OS packages) now that ENHANCED scanning, which reads
language packages too, applies: enhanced scanning has not scanned it yet (`awaits_scan`).

What can be scanned: image manifests whose config is an image config and whose layers are
tar archives. An index ("An artifact with media type '<index type>' cannot be scanned": ECR's
StartImageScan text, observed) and artifacts (Helm charts, signatures, SBOMs, attestations) get
UNSUPPORTED_IMAGE with that text, and, under BASIC, an "ECR Image Scan" event as every end of
a BASIC scan has; the images an index lists are scanned as their own pushes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.oci import mediatypes as mt
from stiva.oci.manifest import Manifest
from stiva.services.scanning import config, notify, queue

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


def awaits_scan(status: str | None, scanned_as: str | None, scan_type: str) -> bool:
    """Whether an image whose scan row has `status` and `scanned_as` (its scan type; both None
    without a row) is still to be scanned by `scan_type` scanning: it has no scan, or BASIC
    found it UNSUPPORTED_IMAGE and enhanced scanning now applies. Enhanced scanning's own
    UNSUPPORTED_IMAGE is final, so nothing is rescanned in a loop."""
    if status is None:
        return True
    return (
        scan_type == config.ENHANCED and scanned_as == config.BASIC and status == UNSUPPORTED_IMAGE
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
    """Record an image that cannot be scanned (UNSUPPORTED_IMAGE, with the reason); under
    BASIC, the scan's end is an event, as the scan job's are."""
    row = session.get(m.ImageScan, manifest_id)
    if row is None:
        row = m.ImageScan(manifest_id=manifest_id)
        session.add(row)
    row.status, row.description, row.scan_type = UNSUPPORTED_IMAGE, reason, scan_type
    row.request_id, row.started_at, row.completed_at = str(uuid.uuid4()), now, now
    session.flush()
    manifest = session.get(m.Manifest, manifest_id)
    repository = session.get(m.Repository, manifest.repository_id) if manifest else None
    if scan_type == config.BASIC and manifest is not None and repository is not None:
        notify.image_scan(
            session,
            repository=repository,
            manifest=manifest,
            status=UNSUPPORTED_IMAGE,
            counts={},
            now=now,
        )


def image_pushed(
    session: Session, *, repository: m.Repository, manifest_id: int, manifest: Manifest
) -> None:
    """Scan on push, if the repository scans on push and the image awaits a scan."""
    applied = config.scanning_for(session, repository)
    if not applied.scans_on_push:
        return
    row = session.get(m.ImageScan, manifest_id)
    status, scanned_as = (row.status, row.scan_type) if row is not None else (None, None)
    if not awaits_scan(status, scanned_as, applied.scan_type):
        return
    now = m.utcnow()
    reason = unsupported_reason(manifest)
    if reason is not None:
        refuse(
            session, manifest_id=manifest_id, scan_type=applied.scan_type, reason=reason, now=now
        )
    else:
        start_scan(session, manifest_id=manifest_id, scan_type=applied.scan_type, now=now)
