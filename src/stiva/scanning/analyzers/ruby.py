"""Installed gems: `specifications/*.gemspec` (and `specifications/default/`), read as text.

A gemspec is Ruby code; the name and version assignments are matched, never evaluated.
"""

from __future__ import annotations

import re

from stiva.scanning.limits import Limits
from stiva.scanning.packages import LANGUAGE, Package
from stiva.scanning.records import LANGUAGE as LANGUAGE_RECORD
from stiva.scanning.records import FileRecord

_PATH = re.compile(r"(?:^|/)specifications/(?:default/)?[^/]+\.gemspec$")
_NAME = re.compile(r"""\.name\s*=\s*["']([^"']+)["']""")
_VERSION = re.compile(r"""\.version\s*=\s*(?:Gem::Version\.new\()?\s*["']([^"']+)["']""")


def is_gemspec(path: str) -> bool:
    return _PATH.search(path) is not None


def analyze_gemspec(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    text = data.decode("utf-8", "replace")
    name, version = _NAME.search(text), _VERSION.search(text)
    if name is None or version is None:
        return None
    package = Package(
        name=name.group(1),
        version=version.group(1),
        ecosystem="RubyGems",
        kind=LANGUAGE,
        type="gem",
        path=path,
    )
    return FileRecord(path, LANGUAGE_RECORD, packages=(package,))
