"""dpkg databases: `var/lib/dpkg/status`, distroless `status.d/*`, and file lists for ownership."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stiva.scanning.limits import Limits
from stiva.scanning.packages import OS, Package
from stiva.scanning.records import OS_FILES, OS_PACKAGES, FileRecord

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"
_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")


def stanzas(text: str) -> Iterator[dict[str, str]]:
    """The paragraphs of a Debian control file, continuation lines dropped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields = {}
        elif not line[0].isspace():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
    if fields:
        yield fields


def _installed(fields: dict[str, str]) -> bool:
    status = fields.get("Status")
    return status is None or status.split()[-1:] == ["installed"]


def package_from_stanza(fields: dict[str, str], path: str) -> Package | None:
    """A binary package with its source name and version (the binary's when not given)."""
    name, version = fields.get("Package"), fields.get("Version")
    if not name or not version or not _installed(fields):
        return None
    source_name, source_version = name, version
    if match := _SOURCE.match(fields.get("Source", "")):
        source_name = match.group(1)
        source_version = match.group(2) or version
    return Package(
        name=name,
        version=version,
        ecosystem="Debian",
        kind=OS,
        type="deb",
        path=path,
        source_name=source_name,
        source_version=source_version,
        arch=fields.get("Architecture"),
    )


def analyze_status(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    text = data.decode("utf-8", "replace")
    packages = [p for s in stanzas(text) if (p := package_from_stanza(s, path)) is not None]
    return FileRecord(path, OS_PACKAGES, packages=tuple(packages))


def analyze_file_list(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    """`info/<pkg>.list` (one path a line) or `status.d/<pkg>.md5sums` ("<md5>  <path>")."""
    owned: list[str] = []
    md5sums = path.endswith(".md5sums")
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        entry = line.split(None, 1)[1] if md5sums and " " in line else line
        entry = entry.strip().lstrip("/")
        if entry and entry != ".":
            owned.append(entry)
    return FileRecord(path, OS_FILES, owned=tuple(owned))


def is_status_d(path: str) -> bool:
    return path.startswith(STATUS_D) and "/" not in path[len(STATUS_D) :]


def is_file_list(path: str) -> bool:
    if path.startswith(INFO) and path.endswith(".list"):
        return "/" not in path[len(INFO) :]
    return is_status_d(path) and path.endswith(".md5sums")
