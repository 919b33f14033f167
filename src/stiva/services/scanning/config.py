"""The registry scanning configuration, and what it means for each repository.

PutRegistryScanningConfiguration stores a scan type (BASIC by default) and up to two rules,
each a scan frequency and WILDCARD repository filters. ECR's filter semantics (user guide
matrix, reference §4.2): a filter without `*` matches any repository whose name *contains* it;
with `*`, the whole name must match and `*` stands for any run of characters.

What applies to a repository (`repository_scanning`, BatchGetRepositoryScanningConfiguration):

- BASIC supports SCAN_ON_PUSH only: a repository matched by a SCAN_ON_PUSH rule, or whose
  deprecated per-repository `scanOnPush` is set (PutImageScanningConfiguration, CreateRepository),
  scans on push; everything else is MANUAL (StartImageScan).
- ENHANCED supports SCAN_ON_PUSH and CONTINUOUS_SCAN; when both match, CONTINUOUS_SCAN wins (ECR:
  "enforces the continuous scanning filter over the scan on push filter"). A repository matched
  by no rule is not scanned; it reports MANUAL, the only other value the API has. The
  per-repository flag is ignored, as ECR ignores it under enhanced scanning.

`appliedScanFilters` lists the filters of the winning rule that match the repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services.repositories import get_repository

BASIC, ENHANCED = "BASIC", "ENHANCED"
SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL = "SCAN_ON_PUSH", "CONTINUOUS_SCAN", "MANUAL"


@dataclass(frozen=True, slots=True)
class Rule:
    frequency: str
    filters: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "scanFrequency": self.frequency,
            "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in self.filters],
        }


@dataclass(frozen=True, slots=True)
class RegistryScanning:
    scan_type: str = BASIC
    rules: tuple[Rule, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"scanType": self.scan_type, "rules": [rule.to_json() for rule in self.rules]}


@dataclass(frozen=True, slots=True)
class RepositoryScanning:
    """What applies to one repository."""

    scan_type: str
    scan_on_push: bool  # the deprecated per-repository flag, as stored
    frequency: str
    applied_filters: tuple[str, ...]

    @property
    def scans_on_push(self) -> bool:
        return self.frequency in (SCAN_ON_PUSH, CONTINUOUS_SCAN)

    @property
    def continuous(self) -> bool:
        return self.scan_type == ENHANCED and self.frequency == CONTINUOUS_SCAN


@lru_cache(maxsize=1024)
def _glob(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")))


def filter_matches(text: str, repository_name: str) -> bool:
    """ECR's WILDCARD filter: substring without `*`, a full-name glob with it."""
    if "*" not in text:
        return text in repository_name
    return _glob(text).fullmatch(repository_name) is not None


def _rules_from_json(text: str) -> tuple[Rule, ...]:
    return tuple(
        Rule(str(r["scanFrequency"]), tuple(str(f) for f in r.get("filters", ())))
        for r in json.loads(text or "[]")
    )


def get_registry_scanning_configuration(session: Session, *, account_id: str) -> RegistryScanning:
    row = session.get(m.RegistryScanningConfiguration, account_id)
    if row is None:
        return RegistryScanning()
    return RegistryScanning(row.scan_type, _rules_from_json(row.rules))


def parse_rules(raw: Sequence[dict[str, Any]] | None) -> tuple[Rule, ...]:
    """The rules of a PutRegistryScanningConfiguration request (validated by the model)."""
    return tuple(
        Rule(
            str(item["scanFrequency"]),
            tuple(f["filter"] for f in item.get("repositoryFilters") or ()),
        )
        for item in raw or ()
    )


def put_registry_scanning_configuration(
    session: Session, *, account_id: str, scan_type: str, rules: tuple[Rule, ...], now: datetime
) -> RegistryScanning:
    """Replace the registry's configuration (an upsert); the previous one is returned by
    `get_registry_scanning_configuration` before calling this."""
    stored = json.dumps([{"scanFrequency": r.frequency, "filters": list(r.filters)} for r in rules])
    row = session.get(m.RegistryScanningConfiguration, account_id)
    if row is None:
        row = m.RegistryScanningConfiguration(account_id=account_id)
        session.add(row)
    row.scan_type, row.rules, row.updated_at = scan_type, stored, now
    session.flush()
    return RegistryScanning(scan_type, rules)


def _matching(rule: Rule, name: str) -> tuple[str, ...]:
    return tuple(f for f in rule.filters if filter_matches(f, name))


def repository_scanning(config: RegistryScanning, repository: m.Repository) -> RepositoryScanning:
    """What `config` means for `repository` (see the module docstring)."""
    supported = (CONTINUOUS_SCAN, SCAN_ON_PUSH) if config.scan_type == ENHANCED else (SCAN_ON_PUSH,)
    for frequency in supported:
        filters = tuple(
            f
            for rule in config.rules
            if rule.frequency == frequency
            for f in _matching(rule, repository.name)
        )
        if filters:
            return RepositoryScanning(config.scan_type, repository.scan_on_push, frequency, filters)
    legacy = config.scan_type == BASIC and repository.scan_on_push
    return RepositoryScanning(
        config.scan_type, repository.scan_on_push, SCAN_ON_PUSH if legacy else MANUAL, ()
    )


def scanning_for(session: Session, repository: m.Repository) -> RepositoryScanning:
    config = get_registry_scanning_configuration(session, account_id=repository.account_id)
    return repository_scanning(config, repository)


def batch_get_repository_scanning_configuration(
    session: Session, *, account_id: str, names: Iterable[str]
) -> tuple[list[tuple[m.Repository, RepositoryScanning]], list[str]]:
    """(found repositories with what applies to them, names not found), in request order."""
    wanted = list(dict.fromkeys(names))
    repos = {
        r.name: r
        for r in session.scalars(
            select(m.Repository).where(
                m.Repository.account_id == account_id, m.Repository.name.in_(wanted)
            )
        )
    }
    config = get_registry_scanning_configuration(session, account_id=account_id)
    found = [(repos[n], repository_scanning(config, repos[n])) for n in wanted if n in repos]
    return found, [n for n in wanted if n not in repos]


def repository_frequencies(
    session: Session, *, account_id: str, config: RegistryScanning
) -> dict[str, tuple[m.Repository, str]]:
    """Every repository of the account with the frequency `config` gives it."""
    repos = session.scalars(select(m.Repository).where(m.Repository.account_id == account_id))
    return {r.name: (r, repository_scanning(config, r).frequency) for r in repos}


def put_image_scanning_configuration(
    session: Session, *, account_id: str, name: str, scan_on_push: bool
) -> m.Repository:
    """The deprecated per-repository flag (PutImageScanningConfiguration); BASIC honours it."""
    repo = get_repository(session, account_id=account_id, name=name)
    repo.scan_on_push = scan_on_push
    return repo
