"""Alpine secdb documents (`v3.18/main.yaml`) converted to OSV-shaped records.

A secdb document lists, per origin package, the version that fixed each CVE (`secfixes`). Each
CVE becomes one record `ALPINE-<CVE>` with an affected entry per package in `Alpine:<release>`
and the range introduced "0" / fixed <version>. The key "0" lists CVEs that never affected the
package: they produce nothing. Records of several documents (main and community, every release)
are combined by `merge_records`, which joins the affected entries of records with the same id.

A secdb document says nothing of when an advisory changed: its records carry no `modified` (OSV
requires one; inventing one, such as the epoch, would be reported as the vendor's date) unless
the caller knows it. `problem(document)` says why a document cannot be converted; such a
document converts to no records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from stiva.scanning import versions
from stiva.scanning.errors import VersionError

_ID = re.compile(r"^(CVE-\d{4}-\d+|[A-Z][A-Z0-9]*-[\w.-]+)$")
_RELEASE = re.compile(r"v\d+\.\d+")
_APK = versions.comparator("Alpine")


def _ids(value: Any) -> list[str]:
    """Identifiers in one secfixes line, the main one first ("CVE-2016-9932 XSA-200")."""
    tokens = [token for token in str(value or "").split() if _ID.match(token)]
    return sorted(tokens, key=lambda token: not token.startswith("CVE-"))


def _fixes(secfixes: Any) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(id -> lowest fixed version, id -> other ids on its lines) of one package."""
    fixes: dict[str, str] = {}
    aliases: dict[str, set[str]] = {}
    if not isinstance(secfixes, Mapping):
        return fixes, aliases
    for version, entries in secfixes.items():
        fixed = str(version)
        if fixed in ("0", "0.0"):
            continue
        for entry in entries if isinstance(entries, list) else []:
            ids = _ids(entry)
            if not ids:
                continue
            vuln = ids[0]
            aliases.setdefault(vuln, set()).update(ids[1:])
            if vuln not in fixes or _lower(fixed, fixes[vuln]):
                fixes[vuln] = fixed
    return fixes, aliases


def _lower(candidate: str, current: str) -> bool:
    """Whether `candidate` is a lower fixed version (an unreadable one never is)."""
    try:
        return _APK(candidate, current) < 0
    except VersionError:
        return False


def _affected(ecosystem: str, name: str, fixed: str) -> dict[str, Any]:
    return {
        "package": {"ecosystem": ecosystem, "name": name, "purl": f"pkg:apk/alpine/{name}"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
    }


def problem(document: Any) -> str | None:
    """Why `document` is not a secdb document `alpine_secdb_to_osv` can convert; None if it is."""
    if not isinstance(document, Mapping):
        return "not a mapping of distroversion, reponame and packages"
    release = document.get("distroversion")
    if not isinstance(release, str) or not _RELEASE.fullmatch(release):
        return f"distroversion {release!r} is not an Alpine release (vX.Y)"
    packages = document.get("packages")
    if packages is not None and not isinstance(packages, list):
        return f"packages is {type(packages).__name__} {packages!r:.40}, not a list"
    return None


def alpine_secdb_to_osv(
    document: Mapping[str, Any], *, modified: str | None = None
) -> list[dict[str, Any]]:
    """OSV-shaped records for one secdb document, sorted by id; [] when `problem` finds one."""
    if problem(document) is not None:
        return []
    ecosystem = f"Alpine:{document['distroversion']}"
    records: dict[str, dict[str, Any]] = {}
    for item in document.get("packages") or []:
        pkg = item.get("pkg") if isinstance(item, Mapping) else None
        if not isinstance(pkg, Mapping) or not pkg.get("name"):
            continue
        fixes, aliases = _fixes(pkg.get("secfixes"))
        for vuln, fixed in sorted(fixes.items()):
            record = records.setdefault(vuln, _record(vuln, modified))
            record["affected"].append(_affected(ecosystem, str(pkg["name"]), fixed))
            record["aliases"] = sorted({*record["aliases"], *aliases.get(vuln, ())})
    return [records[key] for key in sorted(records)]


def _record(vuln: str, modified: str | None) -> dict[str, Any]:
    aliases = [vuln] if vuln.startswith("CVE-") else []
    return {
        "schema_version": "1.6.0",
        "id": f"ALPINE-{vuln}",
        **({"modified": modified} if modified else {}),
        "aliases": aliases,
        "summary": f"{vuln} fixed in Alpine packages",
        "affected": [],
        "references": [
            {"type": "ADVISORY", "url": f"https://security.alpinelinux.org/vuln/{vuln}"}
        ],
        "database_specific": {"source": "alpine-secdb"},
    }


def merge_records(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records with the same id joined into one (affected entries concatenated), sorted by id."""
    merged: dict[str, dict[str, Any]] = {}
    for record in records:
        current = merged.get(record["id"])
        if current is None:
            merged[record["id"]] = {**record, "affected": list(record.get("affected", []))}
        else:
            current["affected"].extend(record.get("affected", []))
            newest = max(str(current.get("modified") or ""), str(record.get("modified") or ""))
            if newest:
                current["modified"] = newest
    return [merged[key] for key in sorted(merged)]
