"""The per-entry logic of layer analysis: whiteouts, links, analyzers, ownership filtering."""

from __future__ import annotations

from dataclasses import replace

from stiva.scanning import analyzers
from stiva.scanning.analyzers.binary import LargeBinaryScanner, analyze_elf
from stiva.scanning.analyzers.elf import MAGIC as ELF_MAGIC
from stiva.scanning.errors import LayerRejected
from stiva.scanning.limits import Limits
from stiva.scanning.records import LANGUAGE, FileRecord, Unreadable, mask, owner_key
from stiva.scanning.tarstream import TarEntry, TarReader, normalise_path

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_CHUNK = 1 << 20
_EXECUTABLE = 0o111
_ELF_HEAD = 64


class LayerWalk:
    """Visits the entries of one layer in order and collects what `LayerAnalysis` reports."""

    def __init__(self, reader: TarReader, limits: Limits) -> None:
        self._reader = reader
        self._limits = limits
        self._records: dict[str, FileRecord] = {}
        self._symlinks: set[str] = set()
        self._retained = 0
        self.whiteouts: set[str] = set()
        self.opaque_dirs: set[str] = set()
        self.notes: list[str] = []

    def visit(self, entry: TarEntry) -> None:
        if not entry.path:
            return
        self._check_parents(entry.path)
        parent, _, name = entry.path.rpartition("/")
        if name.startswith(WHITEOUT_PREFIX):
            self._whiteout(parent, name)
        elif entry.kind == "symlink":
            self._symlinks.add(entry.path)
            self._mask_if_analyzed(entry.path)
        else:
            self._symlinks.discard(entry.path)
            if entry.kind == "file":
                self._file(entry)
            elif entry.kind == "hardlink":
                self._hardlink(entry)
            else:
                self._mask_if_analyzed(entry.path)

    def finish(self) -> tuple[FileRecord, ...]:
        """The records, with OS file lists filtered to what merge needs."""
        found = {owner_key(p) for p, r in self._records.items() if r.kind == LANGUAGE}
        records = []
        for path in sorted(self._records):
            record = self._records[path]
            if record.owned:
                owned = (owner_key(p) for p in record.owned)
                kept = tuple(p for p in owned if p in found or analyzers.is_language_evidence(p))
                record = replace(record, owned=kept)
            records.append(record)
        return tuple(records)

    def _check_parents(self, path: str) -> None:
        if not self._symlinks:
            return
        index = path.find("/")
        while index > 0:
            if path[:index] in self._symlinks:
                raise LayerRejected(f"entry below a symlink of the same layer: {path[:200]!r}")
            index = path.find("/", index + 1)

    def _whiteout(self, parent: str, name: str) -> None:
        if name == OPAQUE_MARKER:
            self.opaque_dirs.add(parent)
        elif not name.startswith(WHITEOUT_PREFIX * 2):
            target = name[len(WHITEOUT_PREFIX) :]
            if target in ("", ".", ".."):
                raise LayerRejected(f"invalid whiteout name {name!r}")
            self.whiteouts.add(f"{parent}/{target}" if parent else target)

    def _mask_if_analyzed(self, path: str) -> None:
        if analyzers.select(path) is not None:
            self._store(mask(path))

    def _hardlink(self, entry: TarEntry) -> None:
        target = normalise_path(entry.link, self._limits)
        record = self._records.get(target)
        if record is None or record.kind == "mask":
            self._mask_if_analyzed(entry.path)
            return
        packages = tuple(replace(p, path=entry.path) for p in record.packages)
        self._store(replace(record, path=entry.path, packages=packages))

    def _file(self, entry: TarEntry) -> None:
        analyzer = analyzers.select(entry.path)
        if analyzer is not None:
            self._analyze(entry, analyzer)
        elif entry.mode & _EXECUTABLE and entry.size >= _ELF_HEAD:
            self._binary(entry)

    def _analyze(self, entry: TarEntry, analyzer: analyzers.FileAnalyzer) -> None:
        if entry.size > self._limits.max_file_bytes:
            self._note(f"{entry.path}: larger than {self._limits.max_file_bytes} bytes, skipped")
            self._store(mask(entry.path))
            return
        data = self._reader.read(entry.size)
        try:
            record = analyzer(entry.path, data, self._limits)
        except Unreadable as exc:
            self._note(exc.note)
            record = None
        self._store(record or mask(entry.path))

    def _binary(self, entry: TarEntry) -> None:
        head = self._reader.read(_ELF_HEAD)
        if not head.startswith(ELF_MAGIC):
            return
        if entry.size <= self._limits.max_file_bytes:
            record = analyze_elf(entry.path, head + self._reader.read(entry.size - len(head)))
        else:
            scanner = LargeBinaryScanner(entry.path)
            scanner.feed(head)
            while self._reader.remaining and not scanner.done:
                scanner.feed(self._reader.read(_CHUNK))
            record = scanner.result()
        if record is not None:
            self._store(record)

    def _store(self, record: FileRecord) -> None:
        self._retained += sum(len(p) for p in record.owned) + 64 * len(record.packages)
        if self._retained > self._limits.max_retained_bytes:
            raise LayerRejected(f"analysis data exceeds {self._limits.max_retained_bytes} bytes")
        self._records[record.path] = record
        if len(self._records) > self._limits.max_records:
            raise LayerRejected(f"more than {self._limits.max_records} package files in layer")

    def _note(self, note: str) -> None:
        self.notes.append(note)
