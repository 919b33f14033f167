"""Installed Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` or file.

Names are PEP 503-normalised (as OSV's PyPI records are); the version is kept as written.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name

from stiva.scanning.limits import Limits
from stiva.scanning.packages import LANGUAGE, Package
from stiva.scanning.records import LANGUAGE as LANGUAGE_RECORD
from stiva.scanning.records import FileRecord


def is_metadata(path: str) -> bool:
    parent, _, base = path.rpartition("/")
    if base == "METADATA":
        return parent.endswith(".dist-info")
    if base == "PKG-INFO":
        return parent.endswith((".egg-info", "/EGG-INFO"))
    return base.endswith(".egg-info")


def headers(text: str) -> dict[str, str]:
    """The first occurrence of each header of an RFC 822 style metadata file."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and not line[0].isspace() and key not in found:
            found[key.strip()] = value.strip()
    return found


def analyze_metadata(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    fields = headers(data.decode("utf-8", "replace"))
    name, version = fields.get("Name"), fields.get("Version")
    if not name or not version:
        return None
    package = Package(
        name=canonicalize_name(name),
        version=version,
        ecosystem="PyPI",
        kind=LANGUAGE,
        type="pypi",
        path=path,
    )
    return FileRecord(path, LANGUAGE_RECORD, packages=(package,))
