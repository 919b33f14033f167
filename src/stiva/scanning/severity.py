"""Severity of a finding: the vendor's word first, then CVSS, else UNDEFINED (ECR's rule).

Vendor words come from where real databases put them: GHSA `database_specific.severity`, Debian
`ecosystem_specific.urgency`, Ubuntu `severity[].type == "Ubuntu"`, a per-package `severity` in
`ecosystem_specific`/`database_specific`, and RustSec's `informational` notices. CVSS vectors are
scored with the `cvss` library (v3.x preferred, then v4.0, then v2); a base score of 0 is
INFORMATIONAL. The score and vector are reported whenever a vector exists, whoever decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import cvss
import cvss.exceptions

from stiva.scanning.osv import Advisory, Affected, SeverityScore

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
_VENDOR_WORDS = {
    "critical": "CRITICAL",
    "high": "HIGH",
    "important": "HIGH",
    "moderate": "MEDIUM",
    "medium": "MEDIUM",
    "low": "LOW",
    "negligible": "INFORMATIONAL",
    "unimportant": "INFORMATIONAL",
    "informational": "INFORMATIONAL",
    "none": "INFORMATIONAL",
}
_VECTOR_PREFERENCE = ("CVSS_V3", "CVSS_V4", "CVSS_V2")


@dataclass(frozen=True)
class Rating:
    severity: str
    score: float | None
    vector: str | None
    source: str | None  # "vendor" | "cvss" | None


def vendor_word(value: Any) -> str | None:
    """ECR's name for a vendor severity word, None for unknown words ("not yet assigned")."""
    if not isinstance(value, str):
        return None
    return _VENDOR_WORDS.get(value.strip().strip("*").lower())


def cvss_severity(score: float, version: int) -> str:
    if score == 0:
        return "INFORMATIONAL"
    bands: tuple[tuple[float, str], ...] = ((9.0, "CRITICAL"), (7.0, "HIGH"), (4.0, "MEDIUM"))
    bands += ((0.0, "LOW"),)
    if version == 2:
        bands = ((7.0, "HIGH"), (4.0, "MEDIUM"), (0.0, "LOW"))
    return next(name for floor, name in bands if score >= floor)


def score_vector(vector: str) -> tuple[str, float] | None:
    """(severity, base score) of a CVSS v2, v3.x or v4.0 vector; None when malformed."""
    try:
        if vector.startswith("CVSS:4"):
            score, version = float(cvss.CVSS4(vector).base_score), 4
        elif vector.startswith("CVSS:3"):
            score, version = float(cvss.CVSS3(vector).base_score), 3
        else:
            score, version = float(cvss.CVSS2(vector).base_score), 2
    except (cvss.exceptions.CVSSError, ValueError, KeyError, IndexError):
        return None
    return cvss_severity(score, version), score


def _vendor(advisory: Advisory, affected: Affected) -> str | None:
    candidates: list[Any] = [
        affected.ecosystem_specific.get("severity"),
        affected.ecosystem_specific.get("urgency"),
        affected.database_specific.get("severity"),
        advisory.database_specific.get("severity"),
    ]
    candidates += [s.score for s in (*affected.severity, *advisory.severity) if s.type == "Ubuntu"]
    if affected.database_specific.get("informational"):
        candidates.append("informational")
    return next((word for c in candidates if (word := vendor_word(c)) is not None), None)


def _vectors(advisory: Advisory, affected: Affected) -> Iterable[SeverityScore]:
    yield from affected.severity
    yield from advisory.severity
    extra = affected.database_specific.get("cvss")
    if isinstance(extra, str) and extra:
        yield SeverityScore("CVSS_V3" if extra.startswith("CVSS:3") else "CVSS_V4", extra)


def _best_vector(advisory: Advisory, affected: Affected) -> tuple[str, str, float] | None:
    scored: dict[str, tuple[str, str, float]] = {}
    for entry in _vectors(advisory, affected):
        if entry.type not in _VECTOR_PREFERENCE or entry.type in scored:
            continue
        if (result := score_vector(entry.score)) is not None:
            scored[entry.type] = (entry.score, *result)
    return next((scored[kind] for kind in _VECTOR_PREFERENCE if kind in scored), None)


def rate(advisory: Advisory, affected: Affected) -> Rating:
    """The severity ECR reports for this advisory's affected entry."""
    vendor = _vendor(advisory, affected)
    best = _best_vector(advisory, affected)
    vector, score = (best[0], best[2]) if best else (None, None)
    if vendor is not None:
        return Rating(vendor, score, vector, "vendor")
    if best is not None:
        return Rating(best[1], score, vector, "cvss")
    return Rating("UNDEFINED", None, None, None)


def rank(severity: str) -> int:
    """0 for CRITICAL up to 5 for UNDEFINED (for sorting)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def informational(affected: Affected) -> bool:
    """A RustSec-style notice (unmaintained, unsound...), not a vulnerability."""
    value: Mapping[str, Any] = affected.database_specific
    return bool(value.get("informational"))
