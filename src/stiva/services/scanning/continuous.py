"""Continuous scanning: after the database changes, CONTINUOUS_SCAN images are matched again.

The `scan-continuous` job lists the images of every repository an ENHANCED configuration puts
under CONTINUOUS_SCAN (active images, not indexes), then, `BATCH` images per unit of work:

- an image with a stored inventory (its last scan COMPLETE or ACTIVE) is re-matched from it:
  no layer is read; findings that appear are opened, those that disappear are CLOSED, both
  with their first/last observed times (`findings.record`); its status becomes ACTIVE;
- an image never scanned by enhanced scanning gets a scan (PENDING + a `scan-image` job), or
  UNSUPPORTED_IMAGE: one never scanned, and one BASIC found UNSUPPORTED_IMAGE (an image
  without OS packages may hold language packages; `hooks.awaits_scan`);
- an image whose scan is waiting, FAILED or UNSUPPORTED_IMAGE under ENHANCED is left alone.

Parsed advisories are shared across the whole pass. An image whose turn fails (a bug, bad
data) does not stop the pass: the batch is done again one image per unit of work, and that
image is logged and left as it was (its findings those of its last match), to be tried again
by the next pass, which the next import queues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.oci import mediatypes as mt
from stiva.oci.manifest import parse_manifest
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.services.manifests import ACTIVE as IMAGE_ACTIVE
from stiva.services.scanning import config, hooks
from stiva.services.scanning.advisories import Memo
from stiva.services.scanning.evaluate import StoredInventory, evaluate

log = logging.getLogger(__name__)
BATCH = 25
_REMATCH = (hooks.COMPLETE, hooks.ACTIVE)


@dataclass(frozen=True, slots=True)
class PassReport:
    rematched: int = 0
    queued: int = 0
    opened: int = 0
    closed: int = 0
    failed: int = 0

    def __add__(self, other: PassReport) -> PassReport:
        return PassReport(
            self.rematched + other.rematched,
            self.queued + other.queued,
            self.opened + other.opened,
            self.closed + other.closed,
            self.failed + other.failed,
        )


@dataclass(frozen=True, slots=True)
class Target:
    """An image a continuous pass looks at, with its scan row's status and type (None: none)."""

    manifest_id: int
    status: str | None
    scan_type: str | None

    @property
    def awaits_scan(self) -> bool:
        return hooks.awaits_scan(self.status, self.scan_type, config.ENHANCED)

    @property
    def due(self) -> bool:
        """Whether the pass does anything with it (see the module docstring)."""
        return self.awaits_scan or self.status in _REMATCH


def continuous_repositories(session: Session) -> list[int]:
    """Ids of the repositories under CONTINUOUS_SCAN, every account."""
    ids = []
    for row in session.scalars(
        select(m.RegistryScanningConfiguration).where(
            m.RegistryScanningConfiguration.scan_type == config.ENHANCED
        )
    ):
        settings = config.get_registry_scanning_configuration(session, account_id=row.account_id)
        frequencies = config.repository_frequencies(
            session, account_id=row.account_id, config=settings
        )
        ids += [repo.id for repo, freq in frequencies.values() if freq == config.CONTINUOUS_SCAN]
    return ids


def targets(session: Session) -> list[Target]:
    """Every image a continuous pass looks at."""
    repositories = continuous_repositories(session)
    if not repositories:
        return []
    rows = session.execute(
        select(m.Manifest.id, m.ImageScan.status, m.ImageScan.scan_type)
        .outerjoin(m.ImageScan, m.ImageScan.manifest_id == m.Manifest.id)
        .where(
            m.Manifest.repository_id.in_(repositories),
            m.Manifest.image_status == IMAGE_ACTIVE,
            m.Manifest.media_type.in_(sorted(mt.IMAGE_TYPES)),
        )
        .order_by(m.Manifest.id)
    )
    return [Target(manifest_id, status, scan_type) for manifest_id, status, scan_type in rows]


def rematch(
    session: Session, *, manifest_id: int, ctx: RegistryContext, memo: Memo
) -> tuple[int, int]:
    """Match an image again from its stored inventory; (opened, closed)."""
    scan = session.get(m.ImageScan, manifest_id)
    if scan is None or scan.inventory is None or scan.status not in _REMATCH:
        return 0, 0
    stored = StoredInventory.from_json(scan.inventory)
    result = evaluate(
        session, scan=scan, stored=stored, scan_type=config.ENHANCED, now=ctx.now(), memo=memo
    )
    scan.status, scan.description = hooks.ACTIVE, "Continuous scan is selected for image."
    return result


def _begin(session: Session, manifest_id: int, ctx: RegistryContext) -> bool:
    row = session.get(m.Manifest, manifest_id)
    scan = session.get(m.ImageScan, manifest_id)
    status, scanned_as = (scan.status, scan.scan_type) if scan is not None else (None, None)
    if row is None or not hooks.awaits_scan(status, scanned_as, config.ENHANCED):
        return False
    reason = hooks.unsupported_reason(parse_manifest(row.content, row.media_type))
    if reason is not None:
        hooks.refuse(
            session,
            manifest_id=manifest_id,
            scan_type=config.ENHANCED,
            reason=reason,
            now=ctx.now(),
        )
        return False
    hooks.start_scan(session, manifest_id=manifest_id, scan_type=config.ENHANCED, now=ctx.now())
    return True


def _turn(session: Session, target: Target, ctx: RegistryContext, memo: Memo) -> PassReport:
    """What the pass does for one image, in the caller's unit of work."""
    if target.awaits_scan:
        return PassReport(queued=int(_begin(session, target.manifest_id, ctx)))
    opened, closed = rematch(session, manifest_id=target.manifest_id, ctx=ctx, memo=memo)
    return PassReport(rematched=1, opened=opened, closed=closed)


def _batch(ctx: RegistryContext, batch: list[Target], memo: Memo) -> PassReport:
    """One unit of work for the batch; when it fails, one per image, failures logged."""
    try:
        with ctx.db.write() as session:
            report = PassReport()
            for target in batch:
                report += _turn(session, target, ctx, memo)
            return report
    except Exception:  # one image's failure must not cost the others their match
        if len(batch) == 1:
            log.exception("continuous scan of image %s failed", batch[0].manifest_id)
            return PassReport(failed=1)
    return sum((_batch(ctx, [target], memo) for target in batch), PassReport())


def continuous_pass(ctx: RegistryContext) -> PassReport:
    """One pass over every CONTINUOUS_SCAN image (see the module docstring)."""
    with ctx.db.read() as session:
        todo = [target for target in targets(session) if target.due]
    memo = Memo()
    report = PassReport()
    for start in range(0, len(todo), BATCH):
        report += _batch(ctx, todo[start : start + BATCH], memo)
    return report


def run_continuous(ctx: RegistryContext, job: ClaimedJob) -> None:
    del job
    continuous_pass(ctx)
