"""A streaming tar reader for hostile input: ustar, GNU long names and PAX, one pass, no seeking.

Why not `tarfile`: its stream mode buffers PAX/GNU headers and sparse maps of any declared size,
recurses once per chained extended header and keeps every member in a list; bounding those needs
its private methods. This reader caps each header at `max_header_bytes`, rejects sparse files,
negative sizes, traversal and absolute paths, and requires the end-of-archive block (so a stream
cut at an entry boundary is reported as truncated instead of silently shortened).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from stiva.scanning.errors import LayerRejected
from stiva.scanning.limits import Limits
from stiva.scanning.stream import LayerStream

BLOCK = 512
_CHUNK = 1 << 20
_REGULAR = {b"0", b"\x00", b"7"}
_KINDS = {b"1": "hardlink", b"2": "symlink", b"5": "dir", b"3": "other", b"4": "other"}
_KINDS[b"6"] = "other"
_EXTENDED = {b"x", b"L", b"K", b"g"}
_MAX_CHAIN = 8


@dataclass(frozen=True)
class TarEntry:
    """One member: `path` normalised (relative, no "." or empty parts, no trailing slash)."""

    path: str
    kind: str  # "file" | "dir" | "symlink" | "hardlink" | "other"
    size: int
    mode: int
    link: str


def normalise_path(raw: str, limits: Limits) -> str:
    """The member path as a clean relative path; LayerRejected for absolute or `..` paths."""
    if len(raw.encode("utf-8", "surrogateescape")) > limits.max_path_bytes:
        raise LayerRejected(f"path longer than {limits.max_path_bytes} bytes")
    if "\x00" in raw:
        raise LayerRejected("NUL byte in a path")
    if raw.startswith("/"):
        raise LayerRejected(f"absolute path in layer: {raw[:200]!r}")
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise LayerRejected(f"path traversal in layer: {raw[:200]!r}")
    return "/".join(parts)


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256 (GNU/star) for large values
        value = int.from_bytes(field, "big", signed=False) & ~(0x80 << (8 * (len(field) - 1)))
        if field[0] & 0x40:
            raise LayerRejected("negative number in tar header")
        return value
    text = field.split(b"\x00", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise LayerRejected("corrupt tar header (bad number)") from None


def _string(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _check_checksum(block: bytes) -> None:
    stored = _number(block[148:156])
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:] if b > 127)
    if stored not in (unsigned, signed):
        raise LayerRejected("corrupt tar header (checksum mismatch)")


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0 or not data[pos:space].isdigit():
            raise LayerRejected("corrupt PAX header")
        length = int(data[pos:space])
        record = data[space + 1 : pos + length]
        if length <= 0 or pos + length > len(data) or not record.endswith(b"\n"):
            raise LayerRejected("corrupt PAX header")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _padding(size: int) -> int:
    return -size % BLOCK


class TarReader:
    """Iterate the entries of a tar stream; `read(n)` reads the data of the current entry."""

    def __init__(self, stream: LayerStream, limits: Limits) -> None:
        self._stream = stream
        self._limits = limits
        self._remaining = 0
        self._padding = 0
        self.entries = 0
        self._declared = 0

    def __iter__(self) -> Iterator[TarEntry]:
        while True:
            self._skip(self._remaining + self._padding)
            self._remaining = self._padding = 0
            entry = self._next_entry()
            if entry is None:
                return
            yield entry

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of the current entry's data (fewer at its end)."""
        size = min(size, self._remaining)
        data = self._read_exact(size)
        self._remaining -= size
        return data

    @property
    def remaining(self) -> int:
        return self._remaining

    def _read_exact(self, size: int) -> bytes:
        chunks: list[bytes] = []
        wanted = size
        while wanted > 0:
            chunk = self._stream.read(min(wanted, _CHUNK), self._limits)
            if not chunk:
                raise LayerRejected("truncated tar stream")
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def _skip(self, size: int) -> None:
        while size > 0:
            size -= len(self._read_exact(min(size, _CHUNK)))

    def _next_entry(self) -> TarEntry | None:
        extended: dict[str, str] = {}
        for _ in range(_MAX_CHAIN):
            block = self._read_exact(BLOCK)
            if block.count(0) == BLOCK:
                return None
            _check_checksum(block)
            typeflag, size = block[156:157], _number(block[124:136])
            if typeflag not in _EXTENDED:
                return self._entry(block, typeflag, size, extended)
            if size > self._limits.max_header_bytes:
                raise LayerRejected(
                    f"extended tar header larger than {self._limits.max_header_bytes}"
                )
            data = self._read_exact(size)
            self._skip(_padding(size))
            if typeflag == b"x":
                extended.update(_pax_records(data))
            elif typeflag in (b"L", b"K"):
                extended["path" if typeflag == b"L" else "linkpath"] = _string(data)
        raise LayerRejected("too many chained extended tar headers")

    def _entry(self, block: bytes, typeflag: bytes, size: int, ext: dict[str, str]) -> TarEntry:
        if typeflag == b"S" or any(key.startswith("GNU.sparse") for key in ext):
            raise LayerRejected("sparse files are not accepted in layers")
        if "size" in ext:
            if not ext["size"].isdigit():
                raise LayerRejected("corrupt PAX size")
            size = int(ext["size"])
        kind = "file" if typeflag in _REGULAR else _KINDS.get(typeflag, "file")
        data_size = size if kind == "file" else 0
        self._account(data_size)
        self._remaining, self._padding = data_size, _padding(data_size)
        name = ext.get("path") or self._ustar_name(block)
        link = ext.get("linkpath") or _string(block[157:257])
        mode = _number(block[100:108]) & 0o7777
        return TarEntry(normalise_path(name, self._limits), kind, data_size, mode, link)

    @staticmethod
    def _ustar_name(block: bytes) -> str:
        name = _string(block[0:100])
        if block[257:263] == b"ustar\x00" and block[345] != 0:
            return _string(block[345:500]) + "/" + name
        return name

    def _account(self, size: int) -> None:
        self.entries += 1
        if self.entries > self._limits.max_entries:
            raise LayerRejected(f"layer has more than {self._limits.max_entries} entries")
        self._declared += size
        if self._declared > self._limits.max_uncompressed_bytes:
            raise LayerRejected(
                f"entries declare more than {self._limits.max_uncompressed_bytes} bytes"
            )
