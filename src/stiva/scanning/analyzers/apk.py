"""apk's installed database (`lib/apk/db/installed`): packages, origins and owned files."""

from __future__ import annotations

from stiva.scanning.limits import Limits
from stiva.scanning.packages import OS, Package
from stiva.scanning.records import OS_PACKAGES, FileRecord

PATHS = ("lib/apk/db/installed", "usr/lib/apk/db/installed")


def _package(fields: dict[str, str], path: str) -> Package | None:
    name, version = fields.get("P"), fields.get("V")
    if not name or not version:
        return None
    return Package(
        name=name,
        version=version,
        ecosystem="Alpine",
        kind=OS,
        type="apk",
        path=path,
        source_name=fields.get("o") or name,
        source_version=version,
        arch=fields.get("A"),
    )


def parse_installed(text: str, path: str) -> tuple[list[Package], list[str]]:
    """(packages, owned file paths) from an installed database; entries without P or V skipped."""
    packages: list[Package] = []
    owned: list[str] = []
    fields: dict[str, str] = {}
    directory = ""
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if fields and (package := _package(fields, path)) is not None:
                packages.append(package)
            fields, directory = {}, ""
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key == "F":
            directory = value
        elif key == "R":
            owned.append(f"{directory}/{value}" if directory else value)
        elif key not in fields:
            fields[key] = value
    return packages, owned


def analyze_installed(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    packages, owned = parse_installed(data.decode("utf-8", "replace"), path)
    return FileRecord(path, OS_PACKAGES, packages=tuple(packages), owned=tuple(owned))
