"""The registry replication configuration: ECR's validation and limits, storage, matching.

Shape (ECR's, plus one Stiva extension):

    {"rules": [{"destinations": [{"region", "registryId"}],
                "repositoryFilters": [{"filter", "filterType": "PREFIX_MATCH"}],   # none: all
                "deleteReplication": {"enabled": bool},
                "stivaTagFilters": [{"filter", "filterType": "PREFIX_MATCH"}]}]}  # extension

Limits (ECR's service quotas): at most 10 rules, 25 unique destinations across all rules, 100
filters per rule. A destination is reachable when it is this deployment's region and another
account (a local copy: blobs shared, metadata copied), or the region of a configured
`[[replication.peers]]` (any account the peer holds). This deployment's region and the
configuration's own account is refused, as ECR refuses it.

`stivaTagFilters` (AWS clients never send it): when present, an image qualifies for the rule
only if one of its tags, at push time, starts with one of the filters; an untagged push
(by digest) does not qualify. All of the image's tags are then copied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from stiva.errors import InvalidParameter
from stiva.metadata import models as m

MAX_RULES = 10
MAX_DESTINATIONS = 25
MAX_FILTERS = 100
PREFIX_MATCH = "PREFIX_MATCH"
TAG_FILTERS = "stivaTagFilters"
_FILTER = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$")
_TAG_PREFIX = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True, slots=True)
class Destination:
    region: str
    registry_id: str


@dataclass(frozen=True, slots=True)
class Reach:
    """What this deployment can reach: its region and the regions of its peers."""

    region: str
    peer_regions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Target:
    """A destination an image goes to, and whether removals follow it there."""

    destination: Destination
    delete_replication: bool


def _invalid(why: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid parameter at 'replicationConfiguration' failed: {why}")


def _filters(raw: object, where: str, pattern: re.Pattern[str]) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
        raise _invalid(f"{where} must be a list of at most {MAX_FILTERS} filters")
    out = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _invalid(f"each of {where} must be an object")
        value, kind = item.get("filter"), item.get("filterType", PREFIX_MATCH)
        if kind != PREFIX_MATCH:
            raise _invalid(f"{where}: filterType must be PREFIX_MATCH, not '{kind}'")
        if not isinstance(value, str) or not pattern.match(value):
            raise _invalid(f"{where}: filter '{value}' is not a valid prefix")
        out.append({"filter": value, "filterType": PREFIX_MATCH})
    return out


def _destination(raw: Mapping[str, Any], *, account_id: str, reach: Reach) -> dict[str, str]:
    region, registry = str(raw["region"]), str(raw["registryId"])
    if region == reach.region and registry == account_id:
        raise _invalid(
            f"destination {region}/{registry} is this registry itself; replicate to another "
            "region or another account"
        )
    if region != reach.region and region not in reach.peer_regions:
        peers = ", ".join(sorted(reach.peer_regions)) or "none"
        raise _invalid(
            f"destination region '{region}' is not reachable from this deployment (region "
            f"{reach.region}; replication peers: {peers}); declare it in "
            "[[replication.peers]] of the configuration file"
        )
    return {"region": region, "registryId": registry}


def validate(
    rules: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    reach: Reach,
    extensions: Sequence[object] = (),
) -> list[dict[str, Any]]:
    """The rules as stored, after ECR's checks; `extensions[i]` is rule i's stivaTagFilters."""
    if len(rules) > MAX_RULES:
        raise _invalid(f"at most {MAX_RULES} rules are allowed, got {len(rules)}")
    stored: list[dict[str, Any]] = []
    unique: set[tuple[str, str]] = set()
    for index, rule in enumerate(rules):
        destinations = [
            _destination(d, account_id=account_id, reach=reach)
            for d in rule.get("destinations", [])
        ]
        unique |= {(d["region"], d["registryId"]) for d in destinations}
        out: dict[str, Any] = {"destinations": destinations}
        repo_filters = _filters(rule.get("repositoryFilters"), "repositoryFilters", _FILTER)
        if repo_filters:
            out["repositoryFilters"] = repo_filters
        if "deleteReplication" in rule:
            out["deleteReplication"] = {"enabled": bool(rule["deleteReplication"]["enabled"])}
        tag_filters = _filters(
            extensions[index] if index < len(extensions) else None, TAG_FILTERS, _TAG_PREFIX
        )
        if tag_filters:
            out[TAG_FILTERS] = tag_filters
        stored.append(out)
    if len(unique) > MAX_DESTINATIONS:
        raise _invalid(
            f"at most {MAX_DESTINATIONS} unique destinations are allowed, got {len(unique)}"
        )
    return stored


def put_configuration(
    session: Session, *, account_id: str, rules: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace the account's configuration (PutReplicationConfiguration)."""
    row = session.get(m.ReplicationConfiguration, account_id)
    if row is None:
        row = m.ReplicationConfiguration(account_id=account_id, rules="[]")
        session.add(row)
    row.rules = json.dumps(rules, sort_keys=True)
    row.updated_at = m.utcnow()
    return rules


def get_rules(session: Session, *, account_id: str) -> list[dict[str, Any]]:
    row = session.get(m.ReplicationConfiguration, account_id)
    return [] if row is None else list(json.loads(row.rules))


def _prefix_match(filters: Iterable[Mapping[str, str]], value: str) -> bool:
    return any(value.startswith(f["filter"]) for f in filters)


def targets(
    rules: Sequence[Mapping[str, Any]], *, name: str, tags: Sequence[str] | None
) -> list[Target]:
    """Where an image of repository `name` goes; `tags` None skips tag filters (removals)."""
    found: dict[Destination, bool] = {}
    for rule in rules:
        repo_filters = rule.get("repositoryFilters") or []
        if repo_filters and not _prefix_match(repo_filters, name):
            continue
        tag_filters = rule.get(TAG_FILTERS) or []
        if (
            tag_filters
            and tags is not None
            and not any(_prefix_match(tag_filters, tag) for tag in tags)
        ):
            continue
        deletes = bool(rule.get("deleteReplication", {}).get("enabled", False))
        for raw in rule.get("destinations", []):
            dest = Destination(raw["region"], raw["registryId"])
            found[dest] = found.get(dest, False) or deletes
    return [Target(dest, deletes) for dest, deletes in found.items()]
