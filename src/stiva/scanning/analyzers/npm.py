"""Installed npm packages: `node_modules/<name>/package.json`, `node_modules/@scope/<name>/...`."""

from __future__ import annotations

import json
import re

from stiva.scanning.limits import Limits
from stiva.scanning.packages import LANGUAGE, Package
from stiva.scanning.records import LANGUAGE as LANGUAGE_RECORD
from stiva.scanning.records import FileRecord

_PATH = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/@][^/]*/package\.json$")


def is_package_json(path: str) -> bool:
    return _PATH.search(path) is not None


def analyze_package_json(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    package = Package(
        name=name, version=version, ecosystem="npm", kind=LANGUAGE, type="npm", path=path
    )
    return FileRecord(path, LANGUAGE_RECORD, packages=(package,))
