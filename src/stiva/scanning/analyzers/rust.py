"""Rust: `Cargo.lock` files and cargo-auditable dependency data (`.dep-v0` ELF section).

Only crates from the crates.io registry are reported: path, git and other-registry crates have no
crates.io advisories, and a local crate may share a name with an unrelated published one.
"""

from __future__ import annotations

import json
import tomllib
import zlib
from typing import Any

from stiva.scanning.analyzers.elf import Elf
from stiva.scanning.limits import Limits
from stiva.scanning.packages import LANGUAGE, Package
from stiva.scanning.records import LANGUAGE as LANGUAGE_RECORD
from stiva.scanning.records import FileRecord

AUDITABLE_SECTION = ".dep-v0"
_MAX_AUDIT_JSON = 8 << 20
_CRATES_IO = (
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
)


def _crate(name: Any, version: Any, path: str) -> Package | None:
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    return Package(
        name=name, version=version, ecosystem="crates.io", kind=LANGUAGE, type="cargo", path=path
    )


def analyze_cargo_lock(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    try:
        document = tomllib.loads(data.decode("utf-8", "replace"))
    except (tomllib.TOMLDecodeError, RecursionError):
        return None
    found: list[Package] = []
    for entry in document.get("package", []):
        if not isinstance(entry, dict) or entry.get("source") not in _CRATES_IO:
            continue
        if (crate := _crate(entry.get("name"), entry.get("version"), path)) is not None:
            found.append(crate)
    return FileRecord(path, LANGUAGE_RECORD, packages=tuple(found)) if found else None


def auditable_packages(elf: Elf, path: str) -> list[Package]:
    """Crates recorded by cargo-auditable, build-time dependencies excluded."""
    section = elf.section(AUDITABLE_SECTION)
    if not section:
        return []
    try:
        raw = zlib.decompressobj().decompress(section, _MAX_AUDIT_JSON)
        document = json.loads(raw)
    except (zlib.error, ValueError, RecursionError):
        return []
    entries = document.get("packages", []) if isinstance(document, dict) else []
    found: list[Package] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("source") != "crates.io":
            continue
        if entry.get("kind") == "build":
            continue
        if (crate := _crate(entry.get("name"), entry.get("version"), path)) is not None:
            found.append(crate)
    return found
