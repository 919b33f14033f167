"""Matching an image's stored inventory against the database, and keeping the result.

Used by the scan job right after the layers are merged, and by continuous passes with the
inventory stored on the scan row (no layer is read). BASIC matches OS packages only; ENHANCED
matches OS and language packages. The merged inventory is stored with, for each package file,
the layer it came from (ECR's `sourceLayerHash`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.scanning.inventory import Inventory
from stiva.scanning.layer import LayerAnalysis
from stiva.scanning.match import match
from stiva.scanning.packages import OS
from stiva.services.scanning import config, findings, vulndb
from stiva.services.scanning.advisories import Advisories, Memo


@dataclass(frozen=True, slots=True)
class StoredInventory:
    """What a scan keeps: the inventory, the layer of each package file, image facts."""

    inventory: Inventory
    layer_of: dict[str, str] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)  # {"architecture", "os"} of the config

    def to_json(self) -> str:
        data = {"inventory": self.inventory.to_dict(), "layers": self.layer_of, "image": self.image}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoredInventory:
        data: dict[str, Any] = json.loads(text)
        return cls(
            Inventory.from_dict(data["inventory"]),
            dict(data.get("layers", {})),
            dict(data.get("image", {})),
        )


def provenance(analyses: Sequence[LayerAnalysis], digests: Sequence[str]) -> dict[str, str]:
    """For each package-bearing file, the digest of the topmost layer holding it."""
    layer_of: dict[str, str] = {}
    for analysis, digest in zip(analyses, digests, strict=True):
        for record in analysis.records:
            if record.packages:
                layer_of[record.path] = digest
    return layer_of


def has_os(inventory: Inventory) -> bool:
    return inventory.os is not None or any(p.kind == OS for p in inventory.packages)


def supported(inventory: Inventory, scan_type: str) -> bool:
    """Whether a scan of this type can say anything (ECR: scratch images are unsupported)."""
    if scan_type == config.BASIC:
        return has_os(inventory)
    return has_os(inventory) or bool(inventory.packages)


def _selected(inventory: Inventory, scan_type: str) -> Inventory:
    if scan_type == config.ENHANCED:
        return inventory
    return Inventory(inventory.os, tuple(p for p in inventory.packages if p.kind == OS))


def evaluate(
    session: Session,
    *,
    scan: m.ImageScan,
    stored: StoredInventory,
    scan_type: str,
    now: datetime,
    memo: Memo | None = None,
) -> tuple[int, int]:
    """Match and record the findings of the scan's image; (opened, closed)."""
    selected = _selected(stored.inventory, scan_type)
    lookup = Advisories(session, memo).prefetch(selected)
    matched = match(selected, lookup)
    advisory_of = {
        f.advisory_id: a for f in matched if (a := lookup.by_id(f.advisory_id)) is not None
    }
    new = findings.to_new(matched, advisory_of, stored.layer_of)
    opened, closed = findings.record(session, manifest_id=scan.manifest_id, found=new, now=now)
    rows = findings.active(session, scan.manifest_id)
    counts = findings.counts(rows, enhanced=scan_type == config.ENHANCED)
    scan.severity_counts = json.dumps(counts, sort_keys=True)
    scan.source_updated_at = vulndb.source_updated_at(session)
    scan.scan_type, scan.completed_at = scan_type, now
    return opened, closed
