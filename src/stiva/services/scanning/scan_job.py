"""The `scan-image` job: layers -> inventory -> findings, in three short steps.

1. A read: the image, its layers and the scan row (the job does nothing when the row waits for
   another request or the image is gone).
2. No transaction: each layer is analysed or taken from the cache (`layers.analyse`), then the
   layers are merged. A rejected layer (bomb, traversal, truncated stream...) or one missing
   from storage ends the scan FAILED with the reason; nothing here raises to the worker.
3. A write: the inventory is stored, matched against the database and the findings recorded
   (`evaluate`), the status set, the scan event written. Should that fail (a bug, data the
   matcher chokes on), it is rolled back, logged, and the scan ends FAILED with a reason in a
   unit of work of its own: nothing here raises to the worker but a database that cannot be
   written at all (the worker retries the job).

Statuses: COMPLETE ("The scan was completed successfully."); ACTIVE ("Continuous scan is
selected for image.") when the repository is under CONTINUOUS_SCAN; UNSUPPORTED_IMAGE
("UnsupportedImageError: The operating system and/or package manager are not supported.")
when nothing scannable was found (a scratch image; for BASIC, no OS); FAILED otherwise. The
texts are the ones ECR answers (moto's tests, aws-cli#6759, aws-otel-collector#2193).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.errors import BlobNotFound
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.oci.manifest import parse_manifest
from stiva.scanning.inventory import merge
from stiva.services.blobs import open_blob
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.services.scanning import config, layers, notify
from stiva.services.scanning.evaluate import StoredInventory, evaluate, provenance, supported
from stiva.services.scanning.hooks import ACTIVE, COMPLETE, FAILED, UNSUPPORTED_IMAGE

log = logging.getLogger(__name__)
MAX_CONFIG = 1024 * 1024

COMPLETE_TEXT = "The scan was completed successfully."
CONTINUOUS_TEXT = "Continuous scan is selected for image."
UNSUPPORTED_TEXT = (
    "UnsupportedImageError: The operating system and/or package manager are not supported."
)
INTERNAL_TEXT = "The scan failed: internal error (the registry logged the cause)."


@dataclass(frozen=True, slots=True)
class Target:
    manifest_id: int
    request_id: str
    digest: str
    layers: tuple[str, ...]
    config: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    stored: StoredInventory | None
    failure: str | None = None


def _target(session: Session, manifest_id: int, request_id: str) -> Target | None:
    scan = session.get(m.ImageScan, manifest_id)
    row = session.get(m.Manifest, manifest_id)
    if scan is None or row is None or scan.request_id != request_id:
        return None
    manifest = parse_manifest(row.content, row.media_type)
    digests = tuple(str(d.digest) for d in manifest.layers if d.distributable)
    config_digest = str(manifest.config.digest) if manifest.config else None
    return Target(manifest_id, request_id, row.digest, digests, config_digest)


def _image_facts(ctx: RegistryContext, digest: str | None) -> dict[str, Any]:
    """Architecture and OS from the image config (at most MAX_CONFIG bytes read)."""
    if digest is None:
        return {}
    try:
        with open_blob(ctx.storage, Digest.parse(digest)) as stream:
            data = stream.read(MAX_CONFIG + 1)
        doc = json.loads(data) if len(data) <= MAX_CONFIG else None
    except (BlobNotFound, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: str(doc[k]) for k in ("architecture", "os") if isinstance(doc.get(k), str)}


def _analyse(ctx: RegistryContext, target: Target) -> Outcome:
    analyses = []
    for digest in target.layers:
        try:
            result = layers.analyse(ctx, digest)
        except BlobNotFound:
            return Outcome(None, f"The scan failed: layer {digest} is missing from storage.")
        if result.analysis is None:
            return Outcome(None, f"The scan failed: layer {digest} was rejected: {result.rejected}")
        analyses.append(result.analysis)
    inventory = merge(analyses)
    facts = _image_facts(ctx, target.config)
    return Outcome(StoredInventory(inventory, provenance(analyses, target.layers), facts))


def _fail(session: Session, scan: m.ImageScan, text: str, ctx: RegistryContext) -> None:
    scan.status, scan.description, scan.completed_at = FAILED, text, ctx.now()


def _complete(
    session: Session, ctx: RegistryContext, scan: m.ImageScan, stored: StoredInventory
) -> None:
    repository = session.scalar(
        select(m.Repository)
        .join(m.Manifest, m.Manifest.repository_id == m.Repository.id)
        .where(m.Manifest.id == scan.manifest_id)
    )
    assert repository is not None
    applied = config.scanning_for(session, repository)
    scan_type = config.ENHANCED if applied.continuous else scan.scan_type
    scan.inventory = stored.to_json()
    if not supported(stored.inventory, scan_type):
        scan.status, scan.description = UNSUPPORTED_IMAGE, UNSUPPORTED_TEXT
        scan.scan_type, scan.completed_at = scan_type, ctx.now()
        return
    evaluate(session, scan=scan, stored=stored, scan_type=scan_type, now=ctx.now())
    scan.status = ACTIVE if applied.continuous else COMPLETE
    scan.description = CONTINUOUS_TEXT if applied.continuous else COMPLETE_TEXT


def _announce(session: Session, ctx: RegistryContext, scan: m.ImageScan) -> None:
    manifest = session.get(m.Manifest, scan.manifest_id)
    repository = session.get(m.Repository, manifest.repository_id) if manifest else None
    if manifest is None or repository is None:
        return
    counts = json.loads(scan.severity_counts or "{}") if scan.status in (ACTIVE, COMPLETE) else {}
    if scan.scan_type == config.BASIC:
        notify.image_scan(
            session,
            repository=repository,
            manifest=manifest,
            status=scan.status,
            counts=counts,
            now=ctx.now(),
        )
    elif scan.status in (ACTIVE, COMPLETE):
        arn = ctx.deployment.repository_arn(repository.account_id, repository.name)
        notify.inspector_scan(
            session,
            repository=repository,
            repository_arn=arn,
            manifest=manifest,
            counts=counts,
            now=ctx.now(),
        )


def _record(ctx: RegistryContext, target: Target, outcome: Outcome) -> None:
    with ctx.db.write() as session:
        scan = session.get(m.ImageScan, target.manifest_id)
        if scan is None or scan.request_id != target.request_id:
            return  # the image was deleted, or scanned again meanwhile
        if outcome.stored is None:
            _fail(session, scan, outcome.failure or "The scan failed.", ctx)
        else:
            _complete(session, ctx, scan, outcome.stored)
        _announce(session, ctx, scan)


def run_scan(ctx: RegistryContext, job: ClaimedJob) -> None:
    """The job handler (see the module docstring)."""
    manifest_id, request_id = int(job.payload["manifest_id"]), str(job.payload["request_id"])
    with ctx.db.read() as session:
        target = _target(session, manifest_id, request_id)
    if target is None:
        return
    try:
        outcome = _analyse(ctx, target)
    except Exception:  # a bug in an analyzer must not leave the scan IN_PROGRESS forever
        log.exception("scan of image %s failed", target.digest)
        outcome = Outcome(None, INTERNAL_TEXT)
    try:
        _record(ctx, target, outcome)
    except Exception:  # nor a bug in matching or recording: the scan ends FAILED
        if outcome.stored is None:
            raise  # recording a failure failed: the database itself (the worker retries)
        log.exception("recording the scan of image %s failed", target.digest)
        _record(ctx, target, Outcome(None, INTERNAL_TEXT))
