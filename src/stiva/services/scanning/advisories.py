"""Advisories for matching, served from the database (`match.match`'s `advisories_for`).

`Advisories(session).prefetch(inventory)` loads, in a few indexed queries, every advisory
filed under a name the inventory's packages can be looked up by (binary and source names);
asking afterwards for any other pair runs one query. Withdrawn records are never returned.
What the lookups learn is kept in a `Memo`, which a continuous pass shares across its images.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.scanning import versions
from stiva.scanning.inventory import Inventory
from stiva.scanning.osv import Advisory, index_ecosystem, normalize_package_name, parse_osv

_CHUNK = 500


@dataclass
class Memo:
    """What lookups learnt: parsed records, and the answer for each (ecosystem, name) pair.

    A continuous pass shares one across its images, so each pair is asked of the database once
    per pass (an import during the pass is seen by the next pass, which it queues).
    """

    parsed: dict[tuple[int, str], Advisory] = field(default_factory=dict)
    found: dict[tuple[str, str], list[Advisory]] = field(default_factory=dict)
    by_id: dict[str, Advisory] = field(default_factory=dict)


def lookup_keys(inventory: Inventory) -> set[tuple[str, str]]:
    """Every (ecosystem, name) pair matching may ask about for this inventory."""
    keys = set()
    for package in inventory.packages:
        if not versions.supported(package.ecosystem):
            continue
        ecosystem = index_ecosystem(package.ecosystem)
        for name in {package.name, package.source_name or package.name}:
            keys.add((ecosystem, normalize_package_name(package.ecosystem, name)))
    return keys


class Advisories:
    """A callable `(ecosystem, name) -> [Advisory]` over the stored records."""

    def __init__(self, session: Session, memo: Memo | None = None) -> None:
        self._session = session
        memo = memo or Memo()
        self._cache, self._found, self._by_id = memo.parsed, memo.found, memo.by_id

    def prefetch(self, inventory: Inventory) -> Advisories:
        by_ecosystem: dict[str, list[str]] = defaultdict(list)
        for ecosystem, name in lookup_keys(inventory) - self._found.keys():
            by_ecosystem[ecosystem].append(name)
        for ecosystem, names in by_ecosystem.items():
            for start in range(0, len(names), _CHUNK):
                self._load(ecosystem, names[start : start + _CHUNK])
        return self

    def _load(self, ecosystem: str, names: Iterable[str]) -> None:
        wanted = list(names)
        for name in wanted:
            self._found.setdefault((ecosystem, name), [])
        rows = self._session.execute(
            select(
                m.VulnRecordKey.name, m.VulnRecord.id, m.VulnRecord.digest, m.VulnRecord.document
            )
            .join(m.VulnRecord, m.VulnRecord.id == m.VulnRecordKey.record_id)
            .where(
                m.VulnRecordKey.ecosystem == ecosystem,
                m.VulnRecordKey.name.in_(wanted),
                m.VulnRecord.withdrawn.is_(False),
            )
            .order_by(m.VulnRecord.record_id, m.VulnRecord.id)
        )
        for name, record_pk, digest, document in rows:
            self._found[(ecosystem, name)].append(self._parse(record_pk, digest, document))

    def _parse(self, record_pk: int, digest: str, document: str) -> Advisory:
        key = (record_pk, digest)
        advisory = self._cache.get(key)
        if advisory is None:
            raw: Any = json.loads(document)
            advisory = self._cache[key] = parse_osv(raw)
        self._by_id.setdefault(advisory.id, advisory)
        return advisory

    def by_id(self, advisory_id: str) -> Advisory | None:
        """An advisory this lookup has returned, by its id."""
        return self._by_id.get(advisory_id)

    def __call__(self, ecosystem: str, name: str) -> list[Advisory]:
        if (ecosystem, name) not in self._found:
            self._load(ecosystem, [name])
        return self._found[(ecosystem, name)]
