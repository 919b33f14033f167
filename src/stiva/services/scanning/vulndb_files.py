"""Where advisories come from on disk: each path becomes one or more sources of OSV records.

    <ECOSYSTEM>.zip        osv.dev's `all.zip`: one OSV JSON (or YAML) file per advisory
                           -> source `osv:<ECOSYSTEM>`
    a directory            its OSV JSON/YAML files (recursively) -> source `osv:<directory name>`;
                           zips and Alpine secdb documents in it are sources of their own
    <file>.json            one OSV record, or a JSON array of them -> `osv:<file stem>`
    <file>.yaml            an Alpine secdb document (`distroversion`, `reponame`, `packages`)
                           -> `alpine-secdb:<distroversion>/<reponame>`, else one OSV record

Secdb documents are converted by `stiva.scanning.osv.alpine_secdb_to_osv`, so every source
yields OSV-shaped dictionaries. YAML timestamps become ISO strings. Files are read one at a time
(a zip member at most `MAX_RECORD_BYTES`), so memory stays bounded by one record.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from stiva.errors import InvalidParameter
from stiva.scanning.osv import alpine_secdb_to_osv

OSV, SECDB = "osv", "alpine-secdb"
MAX_RECORD_BYTES = 16 * 1024 * 1024
_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
_SECDB_HEAD = re.compile(r"^distroversion:\s*\S", re.MULTILINE)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Source:
    """A named set of OSV records, read lazily by `records()`."""

    name: str
    kind: str
    location: str
    records: Callable[[], Iterator[dict[str, Any]]]


def plain(value: Any) -> Any:
    """The value with YAML dates and timestamps as ISO-8601 strings (UTC written `Z`)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _decode(name: str, data: bytes) -> Any:
    """The document in a file; an unreadable one is an empty record (counted as invalid)."""
    try:
        if name.endswith(".json"):
            return json.loads(data)
        return yaml.load(data, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except (ValueError, yaml.YAMLError):
        return {}


def _records(name: str, document: Any) -> Iterator[dict[str, Any]]:
    items = document if isinstance(document, list) else [document]
    for item in items:
        if isinstance(item, dict):
            yield item if name.endswith(".json") else plain(item)


def _zip_records(path: Path) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not info.filename.endswith(_RECORD_SUFFIXES):
                continue
            if info.file_size > MAX_RECORD_BYTES:
                continue
            yield from _records(info.filename, _decode(info.filename, archive.read(info)))


def _file_records(files: list[Path]) -> Callable[[], Iterator[dict[str, Any]]]:
    def read() -> Iterator[dict[str, Any]]:
        for file in files:
            if file.stat().st_size <= MAX_RECORD_BYTES:
                yield from _records(file.name, _decode(file.name, file.read_bytes()))

    return read


def is_secdb(path: Path) -> bool:
    """An Alpine secdb document (judged by its first lines, without parsing it)."""
    if path.suffix not in (".yaml", ".yml"):
        return False
    with path.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    return bool(_SECDB_HEAD.search(head))


def _secdb_source(path: Path) -> Source:
    document = yaml.load(path.read_bytes(), Loader=_LOADER)  # noqa: S506 (a safe loader)
    if not isinstance(document, dict):
        raise InvalidParameter(f"{path} is not an Alpine secdb document")
    release = str(document.get("distroversion", ""))
    repo = str(document.get("reponame", path.stem))
    return Source(
        f"{SECDB}:{release}/{repo}",
        SECDB,
        str(path),
        lambda: iter(alpine_secdb_to_osv(document)),
    )


def _zip_source(path: Path) -> Source:
    return Source(f"{OSV}:{path.stem}", OSV, str(path), lambda: _zip_records(path))


def _directory_sources(path: Path) -> list[Source]:
    sources: list[Source] = []
    records: list[Path] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if file.suffix == ".zip":
            sources.append(_zip_source(file))
        elif is_secdb(file):
            sources.append(_secdb_source(file))
        elif file.suffix in _RECORD_SUFFIXES:
            records.append(file)
    if records:
        sources.insert(0, Source(f"{OSV}:{path.name}", OSV, str(path), _file_records(records)))
    return sources


def sources_of(path: Path) -> list[Source]:
    """The sources a path given to `stiva vulndb import` holds."""
    if path.is_dir():
        return _directory_sources(path)
    if not path.is_file():
        raise InvalidParameter(f"{path}: no such file or directory")
    if path.suffix == ".zip":
        return [_zip_source(path)]
    if is_secdb(path):
        return [_secdb_source(path)]
    if path.suffix in _RECORD_SUFFIXES:
        return [Source(f"{OSV}:{path.stem}", OSV, str(path), _file_records([path]))]
    raise InvalidParameter(
        f"{path}: not an OSV zip, directory, JSON or YAML file, nor an Alpine secdb document"
    )
