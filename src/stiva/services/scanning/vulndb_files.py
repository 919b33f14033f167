"""Where advisories come from on disk: each path becomes one or more sources of OSV records.

    <ECOSYSTEM>.zip        osv.dev's `all.zip`: one OSV JSON (or YAML) file per advisory
                           -> source `osv:<ECOSYSTEM>`
    <ECOSYSTEM>/all.zip    osv.dev's download layout -> `osv:<ECOSYSTEM>` (see below)
    a directory            its OSV JSON/YAML files (recursively) -> source `osv:<directory name>`;
                           zips and Alpine secdb documents in it are sources of their own
    <file>.json            one OSV record, or a JSON array of them -> `osv:<file stem>`
    <file>.yaml            an Alpine secdb document (`distroversion`, `reponame`, `packages`)
                           -> `alpine-secdb:<distroversion>/<reponame>`, else one OSV record

A zip, directory or file whose own name is `all` (`all.zip`, `all/`) names nothing: its source
takes the name of the directory holding it, so `PyPI/all.zip` and `npm/all.zip` are `osv:PyPI`
and `osv:npm`, whatever directory the import runs from, and `--prune` of one never touches the
other. Every other source keeps the name of its own file or directory.

Secdb documents are converted by `stiva.scanning.osv.alpine_secdb_to_osv`, so every source
yields OSV-shaped dictionaries. YAML timestamps become ISO strings. Files are read one at a time
(a zip member at most `MAX_RECORD_BYTES`), so memory stays bounded by one record.

What cannot be read is yielded as an empty record, which the import counts as invalid and skips:
an unreadable file, an item of a JSON/YAML array that is not an object. A source that cannot be
read at all (a secdb document of the wrong shape, a `.zip` that is not a zip archive) yields one
such record and says why in `problems`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from stiva.errors import InvalidParameter
from stiva.scanning import secdb
from stiva.scanning.osv import alpine_secdb_to_osv

OSV, SECDB = "osv", "alpine-secdb"
MAX_RECORD_BYTES = 16 * 1024 * 1024
_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
_SECDB_HEAD = re.compile(r"^distroversion:\s*\S", re.MULTILINE)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_GENERIC_NAME = "all"


@dataclass(frozen=True)
class Source:
    """A named set of OSV records, read lazily by `records()`."""

    name: str
    kind: str
    location: str
    records: Callable[[], Iterator[dict[str, Any]]]
    problems: tuple[str, ...] = ()
    """Why the source, or part of it, cannot be read (its records count that as invalid)."""


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
    except (ValueError, RecursionError, yaml.YAMLError):
        return {}


def _records(name: str, document: Any) -> Iterator[dict[str, Any]]:
    items = document if isinstance(document, list) else [document]
    for item in items:
        if not isinstance(item, dict):
            yield {}  # not OSV: counted invalid
        else:
            yield item if name.endswith(".json") else plain(item)


def _zip_records(path: Path) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not info.filename.endswith(_RECORD_SUFFIXES):
                continue
            try:
                if info.file_size > MAX_RECORD_BYTES:
                    raise ValueError("too large to be one record")
                data = archive.read(info)
            except (ValueError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error):
                yield {}  # unreadable (too large, corrupt, encrypted): counted invalid
                continue
            yield from _records(info.filename, _decode(info.filename, data))


def _file_records(files: list[Path]) -> Callable[[], Iterator[dict[str, Any]]]:
    def read() -> Iterator[dict[str, Any]]:
        for file in files:
            if file.stat().st_size > MAX_RECORD_BYTES:
                yield {}  # too large to be one record: counted invalid
            else:
                yield from _records(file.name, _decode(file.name, file.read_bytes()))

    return read


def is_secdb(path: Path) -> bool:
    """An Alpine secdb document (judged by its first lines, without parsing it)."""
    if path.suffix not in (".yaml", ".yml"):
        return False
    with path.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    return bool(_SECDB_HEAD.search(head))


def _unreadable(name: str, kind: str, path: Path, problem: str) -> Source:
    """A source that cannot be read: one invalid record, and why."""
    return Source(name, kind, str(path), lambda: iter([{}]), (f"{path}: {problem}",))


def _secdb_source(path: Path) -> Source:
    try:
        document = yaml.load(path.read_bytes(), Loader=_LOADER)  # noqa: S506 (a safe loader)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:
        reason = f"not valid YAML ({str(exc).splitlines()[0][:120]})"
        return _unreadable(f"{SECDB}:{path.parent.name}/{path.stem}", SECDB, path, reason)
    fields = document if isinstance(document, dict) else {}
    release = str(fields.get("distroversion", path.parent.name))
    repo = str(fields.get("reponame", path.stem))
    name = f"{SECDB}:{release}/{repo}"
    if (problem := secdb.problem(document)) is not None:
        return _unreadable(name, SECDB, path, f"not an Alpine secdb document: {problem}")
    return Source(name, SECDB, str(path), lambda: iter(alpine_secdb_to_osv(document)))


def _own_name(path: Path) -> str:
    """The name a source takes from its path (see the module docstring)."""
    name = path.stem if path.is_file() else path.name
    if name == _GENERIC_NAME:
        return path.absolute().parent.name or name
    return name


def _zip_source(path: Path) -> Source:
    name = f"{OSV}:{_own_name(path)}"
    if not zipfile.is_zipfile(path):
        return _unreadable(name, OSV, path, "not a zip archive")
    return Source(name, OSV, str(path), lambda: _zip_records(path))


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
        name = f"{OSV}:{_own_name(path)}"
        sources.insert(0, Source(name, OSV, str(path), _file_records(records)))
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
        return [Source(f"{OSV}:{_own_name(path)}", OSV, str(path), _file_records([path]))]
    raise InvalidParameter(
        f"{path}: not an OSV zip, directory, JSON or YAML file, nor an Alpine secdb document"
    )
