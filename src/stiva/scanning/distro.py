"""Which distribution an image runs, and its OSV ecosystem name.

os-release decides (etc/ before usr/lib/); `etc/apk/repositories` overrides Alpine's release (as
Trivy does: `VERSION_ID` lags behind upgraded repositories); `etc/alpine-release` and
`etc/debian_version` stand in when os-release is missing or has no VERSION_ID (Debian testing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stiva.scanning.analyzers.os_release import OS_RELEASE_PATHS
from stiva.scanning.packages import OsInfo
from stiva.scanning.records import OS_HINT, OS_RELEASE, FileRecord

DEBIAN_RELEASES = {
    "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11",
    "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
}  # fmt: skip


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def _debian(fields: Mapping[str, str]) -> str:
    version = fields.get("VERSION_ID", "") or fields.get("debian_version", "")
    if version[:1].isdigit():
        return f"Debian:{_major(version)}"
    codename = fields.get("VERSION_CODENAME", "") or version.split("/", 1)[0]
    return f"Debian:{DEBIAN_RELEASES.get(codename, 'sid')}"


def _ubuntu(fields: Mapping[str, str]) -> str | None:
    version = fields.get("VERSION_ID", "")
    if not version:
        return None
    year, _, month = version.partition(".")
    lts = "LTS" in fields.get("VERSION", "") or (
        year.isdigit() and int(year) % 2 == 0 and month == "04"
    )
    return f"Ubuntu:{version}:LTS" if lts else f"Ubuntu:{version}"


def _alpine(fields: Mapping[str, str]) -> str | None:
    branch = fields.get("alpine_branch", "")
    if branch.startswith("v"):
        return f"Alpine:{branch}"
    parts = (fields.get("VERSION_ID") or fields.get("alpine_release", "")).split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return f"Alpine:v{parts[0]}.{parts[1]}"
    return None


def _suse(prefix: str) -> Callable[[Mapping[str, str]], str | None]:
    def name(fields: Mapping[str, str]) -> str | None:
        pretty = fields.get("PRETTY_NAME", "")
        return f"{prefix}:{pretty.removeprefix(prefix + ' ')}" if pretty else None

    return name


def _numbered(ecosystem: str) -> Callable[[Mapping[str, str]], str | None]:
    def name(fields: Mapping[str, str]) -> str | None:
        version = _major(fields.get("VERSION_ID", ""))
        return f"{ecosystem}:{version}" if version else None

    return name


_ECOSYSTEMS: dict[str, Callable[[Mapping[str, str]], str | None]] = {
    "debian": _debian,
    "ubuntu": _ubuntu,
    "alpine": _alpine,
    "rhel": _numbered("Red Hat:enterprise_linux"),
    "rocky": _numbered("Rocky Linux"),
    "almalinux": _numbered("AlmaLinux"),
    "opensuse-leap": _suse("openSUSE"),
    "sles": _suse("SUSE"),
    "wolfi": lambda fields: "Wolfi",
    "chainguard": lambda fields: "Chainguard",
}


def _fields(records: Mapping[str, FileRecord]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for record in records.values():
        if record.kind == OS_HINT:
            fields.update(record.fields)
    for path in OS_RELEASE_PATHS:
        release = records.get(path)
        if release is not None and release.kind == OS_RELEASE:
            fields.update(release.fields)
            break
    return fields


def detect(records: Mapping[str, FileRecord]) -> OsInfo | None:
    """The image's distribution from its merged records, or None when nothing says."""
    fields = _fields(records)
    os_id = fields.get("ID", "").lower()
    if not os_id:
        os_id = (
            "alpine"
            if "alpine_release" in fields
            else "debian"
            if "debian_version" in fields
            else ""
        )
    if not os_id:
        return None
    version = (
        fields.get("VERSION_ID") or fields.get("alpine_release") or fields.get("debian_version", "")
    )
    namer = _ECOSYSTEMS.get(os_id)
    return OsInfo(
        id=os_id,
        version_id=version,
        ecosystem=namer(fields) if namer else None,
        pretty_name=fields.get("PRETTY_NAME", ""),
    )
