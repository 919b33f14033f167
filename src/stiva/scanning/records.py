"""What the analyzers find in one file of a layer: a `FileRecord`, keyed by the file's path.

Records of all layers are stacked by path when an image is merged, so a record in an upper layer
replaces the one below it, and a whiteout removes it. Kinds:

| kind | from | carries |
|---|---|---|
| `os-release` | etc/os-release, usr/lib/os-release | `fields` (ID, VERSION_ID, ...) |
| `os-hint` | etc/apk/repositories, etc/debian_version, etc/alpine-release | `fields` |
| `os-packages` | dpkg status and status.d, apk installed, rpmdb.sqlite | packages, owned paths |
| `os-files` | dpkg info/*.list, status.d/*.md5sums | owned paths |
| `language` | dist-info, package.json, jars, gemspecs, Cargo.lock, Go/Rust binaries | packages |
| `mask` | a symlink, oversized or unreadable file at an analyzed path | nothing (hides below) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stiva.scanning.packages import Package

OS_RELEASE = "os-release"
OS_HINT = "os-hint"
OS_PACKAGES = "os-packages"
OS_FILES = "os-files"
LANGUAGE = "language"
MASK = "mask"


@dataclass(frozen=True)
class FileRecord:
    """The findings of one file. `owned` lists files owned by OS packages (filtered, see layer)."""

    path: str
    kind: str
    packages: tuple[Package, ...] = ()
    owned: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.packages:
            data["packages"] = [package.to_dict() for package in self.packages]
        if self.owned:
            data["owned"] = list(self.owned)
        if self.fields:
            data["fields"] = dict(self.fields)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileRecord:
        return cls(
            path=str(data["path"]),
            kind=str(data["kind"]),
            packages=tuple(Package.from_dict(p) for p in data.get("packages", ())),
            owned=tuple(str(p) for p in data.get("owned", ())),
            fields={str(k): str(v) for k, v in dict(data.get("fields", {})).items()},
        )


def mask(path: str) -> FileRecord:
    """A record that hides whatever lower layers had at `path`."""
    return FileRecord(path, MASK)


def owner_key(path: str) -> str:
    """A path as compared for ownership: relative, with merged-/usr aliases folded into usr/."""
    path = path.lstrip("/")
    head = path.split("/", 1)[0]
    if head in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        return "usr/" + path
    return path


class Unreadable(Exception):
    """An analyzer cannot read a file (unsupported format, corrupt); `note` says why.

    The layer records a mask at the path and keeps the note; the scan itself goes on.
    """

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note
