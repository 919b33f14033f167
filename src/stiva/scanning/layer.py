"""Analysis of one layer: a pure function of the layer's bytes, small and JSON-able.

`analyze_layer(stream, limits)` reads a gzip, zstd or plain tar blob in one streaming pass and
returns a `LayerAnalysis`: the whiteouts and opaque directories of the layer and one `FileRecord`
per analyzed file. Nothing is written to disk and no link is followed: a symlink or hardlink at an
analyzed path only hides what lower layers had there, a hardlink to a file of the same layer
repeats that file's record, and an entry below a symlink of the same layer rejects the layer.
Hostile or corrupt input raises `LayerRejected(reason)` as soon as a limit is crossed.

The service caches the result by (layer digest, ANALYZER_VERSION) and merges cached analyses with
`inventory.merge` without reading the layers again.

File lists of OS packages are kept only for paths a language analyzer reads and for binaries
found in the same layer: enough to drop language packages owned by OS packages at merge time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from stiva.scanning.errors import AnalysisVersionMismatch, LayerRejected
from stiva.scanning.limits import Limits
from stiva.scanning.records import FileRecord
from stiva.scanning.stream import open_layer
from stiva.scanning.tarstream import TarReader
from stiva.scanning.walk import LayerWalk

__all__ = ["ANALYZER_VERSION", "LayerAnalysis", "LayerRejected", "Limits", "analyze_layer"]

ANALYZER_VERSION = "1"
"""Bump whenever analysis results change: cached analyses of other versions are not reused."""

_MAX_NOTES = 100
_DRAIN_CHUNK = 1 << 20


@dataclass(frozen=True)
class LayerAnalysis:
    """What one layer contributes to an image."""

    analyzer_version: str
    compression: str
    entries: int
    uncompressed_bytes: int
    whiteouts: tuple[str, ...]
    opaque_dirs: tuple[str, ...]
    records: tuple[FileRecord, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "analyzer_version": self.analyzer_version,
            "compression": self.compression,
            "entries": self.entries,
            "uncompressed_bytes": self.uncompressed_bytes,
            "whiteouts": list(self.whiteouts),
            "opaque_dirs": list(self.opaque_dirs),
            "records": [record.to_dict() for record in self.records],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerAnalysis:
        if data.get("analyzer_version") != ANALYZER_VERSION:
            raise AnalysisVersionMismatch(
                f"analysis made by analyzer {data.get('analyzer_version')!r}, "
                f"this is {ANALYZER_VERSION!r}"
            )
        return cls(
            analyzer_version=ANALYZER_VERSION,
            compression=str(data["compression"]),
            entries=int(data["entries"]),
            uncompressed_bytes=int(data["uncompressed_bytes"]),
            whiteouts=tuple(data.get("whiteouts", ())),
            opaque_dirs=tuple(data.get("opaque_dirs", ())),
            records=tuple(FileRecord.from_dict(r) for r in data.get("records", ())),
            notes=tuple(data.get("notes", ())),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> LayerAnalysis:
        return cls.from_dict(json.loads(text))


def analyze_layer(stream: BinaryIO, limits: Limits = Limits()) -> LayerAnalysis:  # noqa: B008
    """Analyse one layer blob (gzip, zstd or plain tar, detected by magic) in one pass."""
    layer = open_layer(stream, limits)
    reader = TarReader(layer, limits)
    walk = LayerWalk(reader, limits)
    for entry in reader:
        walk.visit(entry)
    while layer.read(
        _DRAIN_CHUNK, limits
    ):  # the rest (padding): checks the gzip CRC, within limits
        pass
    records = walk.finish()
    return LayerAnalysis(
        analyzer_version=ANALYZER_VERSION,
        compression=layer.compression,
        entries=reader.entries,
        uncompressed_bytes=layer.uncompressed,
        whiteouts=tuple(sorted(walk.whiteouts)),
        opaque_dirs=tuple(sorted(walk.opaque_dirs)),
        records=records,
        notes=tuple(walk.notes[:_MAX_NOTES]),
    )
