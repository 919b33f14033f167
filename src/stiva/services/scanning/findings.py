"""Findings as stored: one row per (vulnerability, package) of an image, ACTIVE or CLOSED.

A finding is named as ECR names it: the advisory's CVE id (the advisory id itself, else its
first CVE alias), else the advisory id (GHSA-, GO-, RUSTSEC-... when there is no CVE). Two
advisories naming the same CVE for the same package make one finding (the most severe, since
`match` sorts by severity). The package is identified by kind, ecosystem, name, version and
path, so the same CVE in two copies of a library is two findings.

`record(session, manifest_id, found, now)` applies a scan's result to what was stored: new
findings are inserted (first and last observed now), findings seen again get `last_observed_at`
now (and their details refreshed when the advisory changed), findings no longer seen become
CLOSED and keep the time they were last observed; one seen again is ACTIVE again, with its
first observation kept. Only ACTIVE findings are listed and counted by the API.

Severity counts follow the shape the API lists: per row for BASIC `findings`, per
vulnerability (its most severe package) for ENHANCED `enhancedFindings`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.scanning import severity as sev
from stiva.scanning.match import Finding
from stiva.scanning.osv import Advisory

ACTIVE, CLOSED = "ACTIVE", "CLOSED"
_MAX_TEXT = 4000
_MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class NewFinding:
    key: str
    vulnerability_id: str
    severity: str
    package_name: str
    detail: dict[str, Any]


def vulnerability_name(advisory_id: str, aliases: Iterable[str]) -> str:
    if advisory_id.startswith("CVE-"):
        return advisory_id
    cves = sorted(alias for alias in aliases if alias.startswith("CVE-"))
    return cves[0] if cves else advisory_id


def _key(name: str, package: dict[str, Any]) -> str:
    parts = [name, *(str(package.get(k, "")) for k in ("kind", "ecosystem", "name", "version"))]
    parts.append(str(package.get("path", "")))
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _advisory_detail(advisory: Advisory | None, finding: Finding) -> dict[str, Any]:
    if advisory is None:
        return {"description": finding.summary, "references": [finding.uri]}
    text = advisory.details or advisory.summary
    references = [r.url for r in advisory.references if r.url][:_MAX_REFERENCES]
    return {
        "summary": advisory.summary,
        "description": text[:_MAX_TEXT],
        "references": references,
        "published": advisory.published,
        "modified": advisory.modified,
    }


def to_new(
    findings: Sequence[Finding],
    advisory_of: dict[str, Advisory],
    layer_of: dict[str, str],
) -> list[NewFinding]:
    """The findings of one match, named and deduplicated (see the module docstring)."""
    chosen: dict[str, NewFinding] = {}
    for finding in findings:
        name = vulnerability_name(finding.advisory_id, finding.aliases)
        package = finding.package.to_dict()
        key = _key(name, package)
        if key in chosen:
            continue
        detail = {
            "advisoryId": finding.advisory_id,
            "aliases": sorted({finding.advisory_id, *finding.aliases} - {name}),
            "uri": finding.uri,
            "severity": finding.severity,
            "severitySource": finding.source,
            "score": finding.score,
            "vector": finding.vector,
            "installedVersion": finding.installed_version,
            "fixedVersion": finding.fixed_version,
            "package": package,
            "layer": layer_of.get(finding.package.path.split("!", 1)[0]),
            **_advisory_detail(advisory_of.get(finding.advisory_id), finding),
        }
        chosen[key] = NewFinding(key, name, finding.severity, finding.package.name, detail)
    return list(chosen.values())


def _dump(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"))


def _refresh(row: m.ScanFinding, item: NewFinding, text: str, now: datetime) -> None:
    if row.status != ACTIVE:
        row.status, row.updated_at = ACTIVE, now
    if row.detail != text:
        row.detail, row.severity, row.updated_at = text, item.severity, now
    row.last_observed_at = now


def record(
    session: Session, *, manifest_id: int, found: Sequence[NewFinding], now: datetime
) -> tuple[int, int]:
    """Apply a scan's findings (see the module docstring); (opened, closed) counts."""
    rows = {
        row.finding_key: row
        for row in session.scalars(
            select(m.ScanFinding).where(m.ScanFinding.manifest_id == manifest_id)
        )
    }
    opened = closed = 0
    for item in found:
        text = _dump(item.detail)
        row = rows.pop(item.key, None)
        if row is None:
            session.add(
                m.ScanFinding(
                    manifest_id=manifest_id,
                    finding_key=item.key,
                    vulnerability_id=item.vulnerability_id,
                    severity=item.severity,
                    package_name=item.package_name[:512],
                    status=ACTIVE,
                    detail=text,
                    first_observed_at=now,
                    last_observed_at=now,
                    updated_at=now,
                )
            )
            opened += 1
        else:
            opened += row.status != ACTIVE
            _refresh(row, item, text, now)
    for row in rows.values():
        if row.status == ACTIVE:
            row.status, row.updated_at = CLOSED, now
            closed += 1
    session.flush()
    return opened, closed


def active(session: Session, manifest_id: int) -> list[m.ScanFinding]:
    return list(
        session.scalars(
            select(m.ScanFinding).where(
                m.ScanFinding.manifest_id == manifest_id, m.ScanFinding.status == ACTIVE
            )
        )
    )


def worst(severities: Iterable[str]) -> str:
    return min(severities, key=sev.rank, default="UNDEFINED")


def counts(rows: Sequence[m.ScanFinding], *, enhanced: bool) -> dict[str, int]:
    """findingSeverityCounts for the shape the API lists (only non-zero severities)."""
    if not enhanced:
        return dict(Counter(row.severity for row in rows))
    by_vulnerability: dict[str, list[str]] = {}
    for row in rows:
        by_vulnerability.setdefault(row.vulnerability_id, []).append(row.severity)
    return dict(Counter(worst(levels) for levels in by_vulnerability.values()))
