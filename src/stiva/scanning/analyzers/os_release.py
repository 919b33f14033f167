"""Distribution identity files: os-release, Alpine's repositories and release, debian_version."""

from __future__ import annotations

import re

from stiva.scanning.limits import Limits
from stiva.scanning.records import OS_HINT, OS_RELEASE, FileRecord

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
HINT_PATHS = ("etc/apk/repositories", "etc/alpine-release", "etc/debian_version")
_KEYS = ("ID", "ID_LIKE", "VERSION_ID", "VERSION", "VERSION_CODENAME", "PRETTY_NAME", "NAME")
_ALPINE_REPO = re.compile(r"/alpine/(v\d+\.\d+|edge)/")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)


def parse_os_release(text: str) -> dict[str, str]:
    """The keys Stiva uses from an os-release file (shell-style KEY=value lines)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key in _KEYS:
            found[key] = _unquote(value)
    return found


def analyze_os_release(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    fields = parse_os_release(data.decode("utf-8", "replace"))
    return FileRecord(path, OS_RELEASE, fields=fields) if "ID" in fields else None


def _alpine_branch(text: str) -> str | None:
    branches = [m.group(1) for m in _ALPINE_REPO.finditer(text)]
    numbered = sorted(
        (b for b in branches if b != "edge"), key=lambda b: tuple(map(int, b[1:].split(".")))
    )
    if numbered:
        return numbered[-1]
    return "edge" if branches else None


def analyze_hint(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    text = data.decode("utf-8", "replace")
    if path == "etc/apk/repositories":
        branch = _alpine_branch(text)
        return FileRecord(path, OS_HINT, fields={"alpine_branch": branch}) if branch else None
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not first:
        return None
    key = "alpine_release" if path == "etc/alpine-release" else "debian_version"
    return FileRecord(path, OS_HINT, fields={key: first})
