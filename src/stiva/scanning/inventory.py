"""An image's inventory: layers merged in order into the OS and the packages installed.

`merge(layers)` stacks the layers' records by path, bottom first. Before a layer's records are
added, its whiteouts remove the named path and everything below it, and its opaque directories
remove everything below them, from the layers underneath (never from the same layer). Masks are
dropped, the distribution is detected, OS packages get their release's ecosystem ("Debian:12"),
language packages whose file is owned by an installed OS package are dropped (python3-jinja2 is
matched as a Debian package, not a second time as PyPI jinja2), and duplicates are folded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stiva.scanning import distro, versions
from stiva.scanning.layer import LayerAnalysis
from stiva.scanning.packages import LANGUAGE, OS, OsInfo, Package
from stiva.scanning.purl import purl
from stiva.scanning.records import MASK, FileRecord, owner_key

__all__ = ["Inventory", "OsInfo", "Package", "merge"]

_FAMILY = {"deb": "Debian", "apk": "Alpine", "rpm": "Red Hat"}


@dataclass(frozen=True)
class Inventory:
    """The distribution (None when unknown) and the packages of an image, sorted."""

    os: OsInfo | None
    packages: tuple[Package, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "os": self.os.to_dict() if self.os else None,
            "packages": [package.to_dict() for package in self.packages],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Inventory:
        os_data = data.get("os")
        return cls(
            os=OsInfo.from_dict(os_data) if os_data else None,
            packages=tuple(Package.from_dict(p) for p in data.get("packages", ())),
            notes=tuple(data.get("notes", ())),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Inventory:
        return cls.from_dict(json.loads(text))


def _hidden(path: str, whiteouts: set[str], opaque: set[str]) -> bool:
    if path in whiteouts:
        return True
    index = path.find("/")
    while index > 0:
        if path[:index] in whiteouts or path[:index] in opaque:
            return True
        index = path.find("/", index + 1)
    return "" in opaque


def stack(layers: Sequence[LayerAnalysis]) -> dict[str, FileRecord]:
    """The records visible in the image, by path (masks included)."""
    visible: dict[str, FileRecord] = {}
    for layer in layers:
        whiteouts, opaque = set(layer.whiteouts), set(layer.opaque_dirs)
        if whiteouts or opaque:
            visible = {p: r for p, r in visible.items() if not _hidden(p, whiteouts, opaque)}
        visible.update((record.path, record) for record in layer.records)
    return visible


def _ecosystem(package: Package, os: OsInfo | None) -> str:
    family = _FAMILY[package.type]
    if os is None or not os.ecosystem or not versions.supported(os.ecosystem):
        return family
    same_scheme = versions.comparator(os.ecosystem) is versions.comparator(family)
    return os.ecosystem if same_scheme else family


def _finalise(package: Package, os: OsInfo | None) -> Package:
    if package.kind == OS:
        package = replace(package, ecosystem=_ecosystem(package, os))
    return replace(package, purl=purl(package, os))


def _identity(package: Package) -> tuple[str, ...]:
    return (package.kind, package.ecosystem, package.name, package.version, package.arch or "")


def _dedup(packages: Iterable[Package]) -> tuple[Package, ...]:
    chosen: dict[tuple[str, ...], Package] = {}
    for package in sorted(packages, key=lambda p: (_identity(p), p.path)):
        chosen.setdefault(_identity(package), package)
    return tuple(
        sorted(
            chosen.values(), key=lambda p: (p.kind != OS, p.ecosystem, p.name, p.version, p.path)
        )
    )


def merge(layers: Sequence[LayerAnalysis]) -> Inventory:
    """The inventory of an image whose layers are given bottom first."""
    visible = {p: r for p, r in stack(layers).items() if r.kind != MASK}
    os = distro.detect(visible)
    owned = {path for record in visible.values() for path in record.owned}
    found: list[Package] = []
    for path, record in visible.items():
        if record.packages and record.packages[0].kind == LANGUAGE and owner_key(path) in owned:
            continue
        found.extend(_finalise(package, os) for package in record.packages)
    notes = tuple(note for layer in layers for note in layer.notes)
    return Inventory(os=os, packages=_dedup(found), notes=notes)
