"""Plain data about what is installed: `Package` and `OsInfo` (frozen, JSON-able)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

OS = "os"
LANGUAGE = "language"


@dataclass(frozen=True)
class Package:
    """An installed package.

    `ecosystem` is spelled as OSV spells it ("Debian:12", "PyPI", "Go"...). For OS packages
    `source_name`/`source_version` are what distribution advisories are keyed by (dpkg `Source:`,
    apk origin, the source RPM). `type` is the purl type (deb, apk, rpm, pypi, npm, golang, maven,
    gem, cargo); `path` is the file it was read from.
    """

    name: str
    version: str
    ecosystem: str
    kind: str
    type: str
    path: str
    source_name: str | None = None
    source_version: str | None = None
    arch: str | None = None
    purl: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Package:
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class OsInfo:
    """The distribution of an image; `ecosystem` is None when OSV has no name for it."""

    id: str
    version_id: str
    ecosystem: str | None
    pretty_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OsInfo:
        return cls(
            id=str(data["id"]),
            version_id=str(data.get("version_id", "")),
            ecosystem=data.get("ecosystem"),
            pretty_name=str(data.get("pretty_name", "")),
        )
