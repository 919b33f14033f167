"""RPM package databases: `rpmdb.sqlite` (RPM >= 4.16) and Berkeley DB `Packages` (older).

The sqlite file is loaded into an in-memory connection with `Connection.deserialize`, never
written to disk; Berkeley DB files are walked page by page (`rpm_bdb`). NDB (`Packages.db`,
SUSE) is reported as an unreadable note. Each stored value is an RPM header: index entries (tag,
type, offset, count) then a data store; NAME, EPOCH, VERSION, RELEASE, ARCH, SOURCERPM and the
file lists are read.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable, Iterator

from stiva.scanning.analyzers import rpm_bdb
from stiva.scanning.limits import Limits
from stiva.scanning.packages import OS, Package
from stiva.scanning.records import OS_PACKAGES, FileRecord, Unreadable

DIRECTORIES = ("var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/")
SQLITE = "rpmdb.sqlite"
BDB = "Packages"
NDB = "Packages.db"

_NAME, _VERSION, _RELEASE, _EPOCH, _ARCH, _SOURCERPM = 1000, 1001, 1002, 1003, 1022, 1044
_OLDFILENAMES, _DIRINDEXES, _BASENAMES, _DIRNAMES = 1027, 1116, 1117, 1118
_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9
_MAX_INDEX = 1 << 16
_MAX_PROGRESS_CALLS = 200_000

Value = str | list[str] | list[int]


def _strings(store: bytes, offset: int, count: int) -> list[str]:
    values: list[str] = []
    for _ in range(count):
        end = store.find(b"\x00", offset)
        if end < 0:
            raise ValueError("unterminated string")
        values.append(store[offset:end].decode("utf-8", "surrogateescape"))
        offset = end + 1
    return values


def _value(store: bytes, kind: int, offset: int, count: int) -> Value | None:
    if kind == _INT32:
        if offset + 4 * count > len(store):
            raise ValueError("int32 array out of bounds")
        return list(struct.unpack_from(f">{count}i", store, offset))
    if kind == _STRING:
        return _strings(store, offset, 1)[0]
    if kind in (_STRING_ARRAY, _I18NSTRING):
        return _strings(store, offset, count)
    return None


def parse_header(blob: bytes) -> dict[int, Value]:
    """The tags of one header blob; ValueError when it is malformed."""
    if len(blob) < 8:
        raise ValueError("short header")
    index_count, store_size = struct.unpack_from(">ii", blob, 0)
    start = 8 + 16 * index_count
    if not 0 < index_count <= _MAX_INDEX or store_size < 0 or start + store_size > len(blob):
        raise ValueError("bad header sizes")
    store = blob[start : start + store_size]
    tags: dict[int, Value] = {}
    for index in range(index_count):
        tag, kind, offset, count = struct.unpack_from(">iIiI", blob, 8 + 16 * index)
        if not 0 <= offset < store_size or count > store_size:
            continue
        value = _value(store, kind, offset, count)
        if value is not None:
            tags[tag] = value
    return tags


def _text(tags: dict[int, Value], tag: int) -> str:
    value = tags.get(tag)
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return value or ""


def _files(tags: dict[int, Value]) -> list[str]:
    names, dirs, indexes = tags.get(_BASENAMES), tags.get(_DIRNAMES), tags.get(_DIRINDEXES)
    if isinstance(names, list) and isinstance(dirs, list) and isinstance(indexes, list):
        return [
            str(dirs[i]) + str(name)
            for name, i in zip(names, indexes, strict=False)
            if isinstance(i, int) and 0 <= i < len(dirs)
        ]
    old = tags.get(_OLDFILENAMES)
    return [str(name) for name in old] if isinstance(old, list) else []


def _source(sourcerpm: str, epoch: str) -> tuple[str | None, str | None]:
    for suffix in (".src.rpm", ".nosrc.rpm"):
        sourcerpm = sourcerpm.removesuffix(suffix)
    parts = sourcerpm.rsplit("-", 2)
    if len(parts) != 3:
        return None, None
    name, version, release = parts
    return name, f"{epoch}:{version}-{release}" if epoch else f"{version}-{release}"


def package_from_header(tags: dict[int, Value], path: str) -> Package | None:
    name, version = _text(tags, _NAME), _text(tags, _VERSION)
    if not name or not version or name == "gpg-pubkey":
        return None
    release, epoch = _text(tags, _RELEASE), _text(tags, _EPOCH)
    evr = f"{version}-{release}" if release else version
    source_name, source_version = _source(_text(tags, _SOURCERPM), epoch)
    return Package(
        name=name,
        version=f"{epoch}:{evr}" if epoch else evr,
        ecosystem="Red Hat",
        kind=OS,
        type="rpm",
        path=path,
        source_name=source_name,
        source_version=source_version,
        arch=_text(tags, _ARCH) or None,
    )


def _blobs(data: bytes) -> Iterator[bytes]:
    image = bytearray(data)
    if len(image) >= 100 and image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"  # WAL mode needs files beside the database: use rollback mode
    connection = sqlite3.connect(":memory:")
    budget = [_MAX_PROGRESS_CALLS]

    def _spend() -> int:  # a hostile schema (a recursive view) must not spin forever
        budget[0] -= 1
        return int(budget[0] < 0)

    try:
        connection.deserialize(bytes(image))
        connection.set_progress_handler(_spend, 1000)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA trusted_schema = OFF")
        kind = connection.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'")
        if kind.fetchone() != ("table",):
            raise sqlite3.DatabaseError("no Packages table")
        for (blob,) in connection.execute("SELECT blob FROM Packages"):
            if isinstance(blob, bytes):
                yield blob
    finally:
        connection.close()


def _record(path: str, blobs: Iterable[bytes]) -> FileRecord:
    packages: list[Package] = []
    owned: list[str] = []
    for blob in blobs:
        try:
            tags = parse_header(blob)
        except (ValueError, struct.error):
            continue
        if (package := package_from_header(tags, path)) is not None:
            packages.append(package)
            owned.extend(p.lstrip("/") for p in _files(tags))
    return FileRecord(path, OS_PACKAGES, packages=tuple(packages), owned=tuple(owned))


def analyze_sqlite(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    try:
        return _record(path, _blobs(data))
    except sqlite3.Error as exc:
        raise Unreadable(f"rpm sqlite database unreadable: {exc}") from None


def analyze_bdb(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    try:
        return _record(path, rpm_bdb.values(data))
    except (rpm_bdb.BdbError, struct.error, IndexError) as exc:
        raise Unreadable(f"rpm Berkeley DB database unreadable: {path}: {exc}") from None


def analyze_ndb(path: str, data: bytes, limits: Limits) -> FileRecord | None:
    raise Unreadable(f"rpm NDB database not supported: {path}")
