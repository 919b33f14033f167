"""Java archives (jar, war, ear): `META-INF/maven/**/pom.properties`, else the manifest.

Archives are opened in memory (they are at most `max_file_bytes`); the entry count is read from
the zip's end record before the directory is loaded, every member read is size-capped, and nested
archives are followed to `max_nested_archives` levels. Packages of a nested archive get the path
`outer.war!/WEB-INF/lib/inner.jar`.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from stiva.scanning.limits import Limits
from stiva.scanning.packages import LANGUAGE, Package
from stiva.scanning.records import LANGUAGE as LANGUAGE_RECORD
from stiva.scanning.records import FileRecord, Unreadable

EXTENSIONS = (".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi")
_SMALL = 1 << 20
_EOCD, _EOCD64_LOCATOR = b"PK\x05\x06", b"PK\x06\x07"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def is_archive(path: str) -> bool:
    return path.lower().endswith(EXTENSIONS)


def entry_count(data: bytes) -> int | None:
    """Entries announced by the zip's end of central directory (zip64 aware); None if absent."""
    end = data.rfind(_EOCD, max(0, len(data) - 65557))
    if end < 0 or end + 22 > len(data):
        return None
    count = int(struct.unpack_from("<H", data, end + 10)[0])
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
        record = int(struct.unpack_from("<Q", data, locator + 8)[0])
        if record + 40 <= len(data):
            count = int(struct.unpack_from("<Q", data, record + 32)[0])
    return count


def _properties(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and line[0] not in "#!":
            key, sep, value = line.partition("=") if "=" in line else line.partition(":")
            if sep:
                found[key.strip()] = value.strip()
    return found


def _manifest(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").replace("\n ", "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            found.setdefault(key.strip(), value.strip())
    return found


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    if info.file_size > limit:
        return None
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (*_ZIP_ERRORS, RuntimeError):
        return None
    return data if len(data) <= limit else None


def _maven(path: str, group: str, artifact: str, version: str) -> Package:
    return Package(
        name=f"{group}:{artifact}",
        version=version,
        ecosystem="Maven",
        kind=LANGUAGE,
        type="maven",
        path=path,
    )


def _from_poms(archive: zipfile.ZipFile, path: str) -> list[Package]:
    found: list[Package] = []
    for info in archive.infolist():
        parts = info.filename.split("/")
        if len(parts) == 5 and parts[:2] == ["META-INF", "maven"] and parts[4] == "pom.properties":
            props = _properties((_read(archive, info, _SMALL) or b"").decode("utf-8", "replace"))
            group, artifact, version = (props.get(k) for k in ("groupId", "artifactId", "version"))
            if group and artifact and version:
                found.append(_maven(path, group, artifact, version))
    return found


def _from_manifest(archive: zipfile.ZipFile, path: str) -> list[Package]:
    try:
        info = archive.getinfo("META-INF/MANIFEST.MF")
    except KeyError:
        return []
    fields = _manifest((_read(archive, info, _SMALL) or b"").decode("utf-8", "replace"))
    group = fields.get("Implementation-Vendor-Id")
    version = fields.get("Implementation-Version") or fields.get("Bundle-Version")
    stem = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1].rsplit(".", 1)[0]
    if not group or not version or not stem.endswith("-" + version):
        return []
    return [_maven(path, group, stem[: -len(version) - 1], version)]


def _archive_packages(data: bytes, path: str, limits: Limits, depth: int) -> list[Package]:
    count = entry_count(data)
    if count is None or count > limits.max_archive_entries:
        raise Unreadable(f"java archive without a usable zip directory: {path}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found = _from_poms(archive, path) or _from_manifest(archive, path)
            if depth < limits.max_nested_archives:
                found.extend(_nested(archive, path, limits, depth))
    except _ZIP_ERRORS as exc:
        raise Unreadable(f"java archive unreadable: {path}: {exc}") from None
    return found


def _nested(archive: zipfile.ZipFile, path: str, limits: Limits, depth: int) -> list[Package]:
    found: list[Package] = []
    for info in archive.infolist():
        if not is_archive(info.filename):
            continue
        inner = _read(archive, info, limits.max_file_bytes)
        if inner is None:
            continue
        try:
            found.extend(_archive_packages(inner, f"{path}!/{info.filename}", limits, depth + 1))
        except Unreadable:
            continue
    return found


def analyze_archive(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    found = _archive_packages(data, path, limits, 1)
    return FileRecord(path, LANGUAGE_RECORD, packages=tuple(found)) if found else None
