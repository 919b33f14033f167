"""Matching an inventory against OSV advisories, per OSV's normative evaluation.

For each package, `advisories_for(ecosystem, normalised name)` is asked for candidates (indexed
as `osv.index_keys` says). OS packages are looked up by source package and source version (dpkg
`Source:`, apk origin; RPM by binary and by source name), language packages by name. A version
is affected when listed in `versions[]` or inside a range: `limit` events bound the range, then
the events, sorted with the ecosystem's comparator ("0" first), are walked: `introduced` <= v
opens, `fixed` <= v closes, `last_affected` < v closes. GIT ranges are skipped, withdrawn
advisories never match, and a range whose versions cannot be parsed is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cmp_to_key

from stiva.scanning import severity, versions
from stiva.scanning.errors import VersionError
from stiva.scanning.inventory import Inventory
from stiva.scanning.osv import (
    Advisory,
    Affected,
    Event,
    Range,
    index_ecosystem,
    normalize_package_name,
)
from stiva.scanning.packages import OS, Package

AdvisoryLookup = Callable[[str, str], Sequence[Advisory]]
_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


@dataclass(frozen=True)
class Finding:
    advisory_id: str
    aliases: tuple[str, ...]
    package: Package
    installed_version: str
    """The version compared: the source version for Debian/Ubuntu/Alpine packages."""
    fixed_version: str | None
    severity: str
    score: float | None
    vector: str | None
    source: str | None
    summary: str
    uri: str


def _queries(package: Package) -> list[tuple[str, str]]:
    """(name, version) pairs the package is looked up by."""
    if package.kind != OS:
        return [(package.name, package.version)]
    source = (package.source_name or package.name, package.source_version or package.version)
    if package.type == "rpm" and source[0] != package.name:
        return [(package.name, package.version), source]
    return [source]


def _event_cmp(compare: versions.Comparator) -> Callable[[Event, Event], int]:
    def order(a: Event, b: Event) -> int:
        low_a = a.kind == "introduced" and a.value == "0"
        low_b = b.kind == "introduced" and b.value == "0"
        high_a, high_b = a.kind == "limit" and a.value == "*", b.kind == "limit" and b.value == "*"
        if low_a != low_b or high_a != high_b:
            return -1 if low_a or high_b else 1
        diff = 0 if (low_a or high_a) else compare(a.value, b.value)
        return diff or _EVENT_ORDER[a.kind] - _EVENT_ORDER[b.kind]

    return order


def in_range(rng: Range, version: str, compare: versions.Comparator) -> bool:
    """OSV's `BeforeLimits` and `IsAffected` for one range."""
    limits = [e.value for e in rng.events if e.kind == "limit"]
    if limits and not any(limit == "*" or compare(version, limit) < 0 for limit in limits):
        return False
    vulnerable = False
    for event in sorted(rng.events, key=cmp_to_key(_event_cmp(compare))):
        vulnerable = _step(event, version, compare, vulnerable)
    return vulnerable


def _step(event: Event, version: str, compare: versions.Comparator, vulnerable: bool) -> bool:
    if event.kind == "introduced":
        return vulnerable or event.value == "0" or compare(version, event.value) >= 0
    if event.kind == "fixed":
        return vulnerable and compare(version, event.value) < 0
    if event.kind == "last_affected":
        return vulnerable and compare(version, event.value) <= 0
    return vulnerable


def _comparator(rng: Range, ecosystem: str) -> versions.Comparator:
    return versions.compare_semver if rng.type == "SEMVER" else versions.comparator(ecosystem)


def is_affected(affected: Affected, version: str, ecosystem: str) -> bool:
    """Whether `version` is in the entry's `versions[]` or any of its non-GIT ranges."""
    if version in affected.versions:
        return True
    for rng in affected.ranges:
        if rng.type == "GIT":
            continue
        try:
            if in_range(rng, version, _comparator(rng, ecosystem)):
                return True
        except VersionError:
            continue
    return False


def fixed_version(affected: Affected, version: str, ecosystem: str) -> str | None:
    """The lowest `fixed` event above the installed version, None when unfixed."""
    candidates = []
    for rng in affected.ranges:
        if rng.type == "GIT":
            continue
        compare = _comparator(rng, ecosystem)
        for event in rng.events:
            try:
                if event.kind == "fixed" and compare(event.value, version) > 0:
                    candidates.append((event.value, compare))
            except VersionError:
                continue
    if not candidates:
        return None
    best = candidates[0]
    for candidate in candidates[1:]:
        try:
            if best[1](candidate[0], best[0]) < 0:
                best = candidate
        except VersionError:
            continue
    return best[0]


def _uri(advisory: Advisory) -> str:
    for reference in advisory.references:
        if reference.type == "ADVISORY" and reference.url:
            return reference.url
    return f"https://osv.dev/vulnerability/{advisory.id}"


def _finding(advisory: Advisory, affected: Affected, package: Package, version: str) -> Finding:
    rating = severity.rate(advisory, affected)
    return Finding(
        advisory_id=advisory.id,
        aliases=advisory.aliases,
        package=package,
        installed_version=version,
        fixed_version=fixed_version(affected, version, package.ecosystem),
        severity=rating.severity,
        score=rating.score,
        vector=rating.vector,
        source=rating.source,
        summary=advisory.summary or advisory.details[:200],
        uri=_uri(advisory),
    )


def match_package(
    package: Package, lookup: AdvisoryLookup, *, include_informational: bool = False
) -> list[Finding]:
    """Findings for one package (one per advisory)."""
    if not versions.supported(package.ecosystem):
        return []
    findings: dict[str, Finding] = {}
    key_ecosystem = index_ecosystem(package.ecosystem)
    for name, version in _queries(package):
        key_name = normalize_package_name(package.ecosystem, name)
        for advisory in lookup(key_ecosystem, key_name):
            if advisory.is_withdrawn or advisory.id in findings:
                continue
            for affected in advisory.affected:
                if affected.key != (key_ecosystem, key_name):
                    continue
                if severity.informational(affected) and not include_informational:
                    continue
                if is_affected(affected, version, package.ecosystem):
                    findings[advisory.id] = _finding(advisory, affected, package, version)
                    break
    return list(findings.values())


def match(
    inventory: Inventory, advisories_for: AdvisoryLookup, *, include_informational: bool = False
) -> list[Finding]:
    """Findings for every package of the inventory, most severe first."""
    findings = [
        finding
        for package in inventory.packages
        for finding in match_package(
            package, advisories_for, include_informational=include_informational
        )
    ]
    return sorted(
        findings,
        key=lambda f: (severity.rank(f.severity), f.advisory_id, f.package.name, f.package.path),
    )
