"""OSV records as typed, immutable data, and the names advisories are indexed by.

`parse_osv(record)` accepts a decoded OSV JSON or YAML document (YAML timestamps may arrive as
`datetime`; they are kept as ISO strings). Affected entries without a `package` (GIT-only records
of psf/advisory-database) are dropped; GIT ranges are kept but never evaluated; a null `versions`
is an empty list. `index_keys(advisory)` gives the (ecosystem, normalised name) pairs the service
indexes a record under; `match.match` asks for exactly those pairs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name

from stiva.scanning.errors import InvalidAdvisory
from stiva.scanning.secdb import alpine_secdb_to_osv, merge_records

__all__ = [
    "Advisory",
    "Affected",
    "Event",
    "Range",
    "Reference",
    "SeverityScore",
    "alpine_secdb_to_osv",
    "index_ecosystem",
    "index_keys",
    "merge_records",
    "normalize_package_name",
    "parse_osv",
]

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True)
class Event:
    kind: str  # one of EVENT_KINDS
    value: str


@dataclass(frozen=True)
class Range:
    type: str  # SEMVER | ECOSYSTEM | GIT
    events: tuple[Event, ...]
    repo: str | None = None


@dataclass(frozen=True)
class SeverityScore:
    type: str  # CVSS_V2 | CVSS_V3 | CVSS_V4 | Ubuntu | ...
    score: str


@dataclass(frozen=True)
class Reference:
    type: str
    url: str


@dataclass(frozen=True)
class Affected:
    """One `affected[]` entry; `ecosystem`/`name` as in the record, `key` as indexed."""

    ecosystem: str
    name: str
    purl: str | None
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    severity: tuple[SeverityScore, ...] = ()
    ecosystem_specific: Mapping[str, Any] = field(default_factory=dict)
    database_specific: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return index_ecosystem(self.ecosystem), normalize_package_name(self.ecosystem, self.name)

    def fixed_versions(self) -> tuple[str, ...]:
        """Every `fixed` event of the non-GIT ranges, in record order."""
        return tuple(
            event.value
            for rng in self.ranges
            if rng.type != "GIT"
            for event in rng.events
            if event.kind == "fixed"
        )


@dataclass(frozen=True)
class Advisory:
    id: str
    modified: str
    published: str | None = None
    withdrawn: str | None = None
    summary: str = ""
    details: str = ""
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    severity: tuple[SeverityScore, ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[Reference, ...] = ()
    database_specific: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_withdrawn(self) -> bool:
        return bool(self.withdrawn)


@lru_cache(maxsize=65536)
def normalize_package_name(ecosystem: str, name: str) -> str:
    """The name advisories are indexed by: PEP 503 for PyPI, as written elsewhere."""
    base = ecosystem.split(":", 1)[0]
    if base == "PyPI":
        return str(canonicalize_name(name))
    return name


@lru_cache(maxsize=4096)
def index_ecosystem(ecosystem: str) -> str:
    """The ecosystem advisories are indexed by.

    Red Hat records name a product stream ("Red Hat:enterprise_linux:9::appstream"); an image only
    says "Red Hat:enterprise_linux:9", so the repository part is dropped. Others are unchanged.
    """
    if ecosystem.startswith("Red Hat:"):
        parts = ecosystem.split(":")
        return ":".join(parts[:3])
    return ecosystem


def index_keys(advisory: Advisory) -> list[tuple[str, str]]:
    """Distinct (index ecosystem, normalised name) pairs of the advisory's affected entries."""
    return sorted({affected.key for affected in advisory.affected})


def _text(value: Any) -> str:
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return dict(value) if isinstance(value, dict | Mapping) else {}


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return list(value) if isinstance(value, tuple | Sequence) and not isinstance(value, str) else []


def _events(raw: Any) -> tuple[Event, ...]:
    events = []
    for item in _list(raw):
        for kind in EVENT_KINDS:
            if isinstance(item, Mapping) and kind in item:
                events.append(Event(kind, _text(item[kind])))
                break
    return tuple(events)


def _severity(raw: Any) -> tuple[SeverityScore, ...]:
    return tuple(
        SeverityScore(_text(item.get("type")), _text(item.get("score")))
        for item in _list(raw)
        if isinstance(item, Mapping)
    )


def _affected(raw: Mapping[str, Any]) -> Affected | None:
    package = raw.get("package")
    if not isinstance(package, Mapping) or not package.get("ecosystem") or not package.get("name"):
        return None
    ranges = tuple(
        Range(_text(r.get("type")), _events(r.get("events")), r.get("repo"))
        for r in _list(raw.get("ranges"))
        if isinstance(r, Mapping)
    )
    return Affected(
        ecosystem=_text(package["ecosystem"]),
        name=_text(package["name"]),
        purl=package.get("purl"),
        ranges=ranges,
        versions=tuple(_text(v) for v in _list(raw.get("versions"))),
        severity=_severity(raw.get("severity")),
        ecosystem_specific=_mapping(raw.get("ecosystem_specific")),
        database_specific=_mapping(raw.get("database_specific")),
    )


def parse_osv(record: Mapping[str, Any]) -> Advisory:
    """An `Advisory` from a decoded OSV document; InvalidAdvisory without `id`."""
    if not isinstance(record, Mapping) or not record.get("id"):
        raise InvalidAdvisory("OSV record without an id")
    affected = [_affected(a) for a in _list(record.get("affected")) if isinstance(a, Mapping)]
    return Advisory(
        id=_text(record["id"]),
        modified=_text(record.get("modified")),
        published=_text(record.get("published")) or None,
        withdrawn=_text(record.get("withdrawn")) or None,
        summary=_text(record.get("summary")),
        details=_text(record.get("details")),
        aliases=tuple(_text(a) for a in _list(record.get("aliases"))),
        related=tuple(_text(a) for a in _list(record.get("related"))),
        upstream=tuple(_text(a) for a in _list(record.get("upstream"))),
        severity=_severity(record.get("severity")),
        affected=tuple(a for a in affected if a is not None),
        references=tuple(
            Reference(_text(r.get("type")), _text(r.get("url")))
            for r in _list(record.get("references"))
            if isinstance(r, Mapping)
        ),
        database_specific=_mapping(record.get("database_specific")),
    )
