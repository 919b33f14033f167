"""Continuous scanning: after the database changes, CONTINUOUS_SCAN images are matched again.

The `scan-continuous` job lists the images of every repository an ENHANCED configuration puts
under CONTINUOUS_SCAN (active images, not indexes), then, `BATCH` images per unit of work:

- an image with a stored inventory (its last scan COMPLETE or ACTIVE) is re-matched from it:
  no layer is read; findings that appear are opened, those that disappear are CLOSED, both
  with their first/last observed times (`findings.record`); its status becomes ACTIVE;
- an image never scanned gets a scan (PENDING + a `scan-image` job), or UNSUPPORTED_IMAGE;
- an image whose scan is waiting, FAILED or UNSUPPORTED_IMAGE is left alone.

Parsed advisories are shared across the whole pass.
"""

from __future__ import annotations

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

BATCH = 25
_REMATCH = (hooks.COMPLETE, hooks.ACTIVE)


@dataclass(frozen=True, slots=True)
class PassReport:
    rematched: int = 0
    queued: int = 0
    opened: int = 0
    closed: int = 0


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


def targets(session: Session) -> list[tuple[int, str | None]]:
    """(manifest id, scan status or None) of every image a continuous pass looks at."""
    repositories = continuous_repositories(session)
    if not repositories:
        return []
    rows = session.execute(
        select(m.Manifest.id, m.ImageScan.status)
        .outerjoin(m.ImageScan, m.ImageScan.manifest_id == m.Manifest.id)
        .where(
            m.Manifest.repository_id.in_(repositories),
            m.Manifest.image_status == IMAGE_ACTIVE,
            m.Manifest.media_type.in_(sorted(mt.IMAGE_TYPES)),
        )
        .order_by(m.Manifest.id)
    )
    return [(manifest_id, status) for manifest_id, status in rows]


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
    if row is None or session.get(m.ImageScan, manifest_id) is not None:
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


def continuous_pass(ctx: RegistryContext) -> PassReport:
    """One pass over every CONTINUOUS_SCAN image (see the module docstring)."""
    with ctx.db.read() as session:
        todo = [(i, s) for i, s in targets(session) if s is None or s in _REMATCH]
    memo = Memo()
    rematched = queued = opened = closed = 0
    for start in range(0, len(todo), BATCH):
        with ctx.db.write() as session:
            for manifest_id, status in todo[start : start + BATCH]:
                if status is None:
                    queued += _begin(session, manifest_id, ctx)
                    continue
                more, less = rematch(session, manifest_id=manifest_id, ctx=ctx, memo=memo)
                rematched, opened, closed = rematched + 1, opened + more, closed + less
    return PassReport(rematched, queued, opened, closed)


def run_continuous(ctx: RegistryContext, job: ClaimedJob) -> None:
    del job
    continuous_pass(ctx)
