"""Executables: Go build information and cargo-auditable data in ELF files.

Files up to `max_file_bytes` are parsed whole (section headers, old Go pointer format); larger
ones are streamed through `LargeBinaryScanner`, which finds the inline (Go >= 1.18) blob only.
"""

from __future__ import annotations

from stiva.scanning.analyzers import elf, golang, rust
from stiva.scanning.packages import Package
from stiva.scanning.records import LANGUAGE, FileRecord

_TAIL = 64 << 10
_BLOB_LIMIT = 4 << 20


def _record(path: str, packages: list[Package]) -> FileRecord | None:
    return FileRecord(path, LANGUAGE, packages=tuple(packages)) if packages else None


def analyze_elf(path: str, data: bytes) -> FileRecord | None:
    """Packages of an ELF executable held in memory; None when it carries no such data."""
    parsed = elf.parse(data)
    if parsed is None:
        return None
    found: list[Package] = []
    if (strings := golang.build_strings(parsed)) is not None:
        found.extend(golang.packages(strings[0], strings[1], path))
    found.extend(rust.auditable_packages(parsed, path))
    return _record(path, found)


class LargeBinaryScanner:
    """Feed an executable chunk by chunk; `result()` gives Go packages found in the inline blob."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._window = b""
        self._base = 0
        self._blob: bytes | None = None

    @property
    def done(self) -> bool:
        return self._blob is not None and len(self._blob) >= _BLOB_LIMIT

    def feed(self, chunk: bytes) -> None:
        if self._blob is not None:
            self._blob = (self._blob + chunk)[:_BLOB_LIMIT]
            return
        window = self._window + chunk
        index = golang.find_magic(window, self._base)
        if index >= 0:
            self._blob = window[index : index + _BLOB_LIMIT]
            return
        keep = min(len(window), len(golang.MAGIC) + 16)
        self._base += len(window) - keep
        self._window = window[-keep:] if keep else b""

    def result(self) -> FileRecord | None:
        if self._blob is None or len(self._blob) < golang.HEADER:
            return None
        if not self._blob[15] & 2:
            return None
        strings = golang.inline_strings(self._blob)
        if strings is None:
            return None
        return _record(self._path, golang.packages(strings[0], strings[1], self._path))
