"""Hard limits for reading one layer; every one of them turns into LayerRejected when crossed."""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """What one layer may cost. The defaults fit real images (ECR's own layer cap is ~50 GiB)."""

    max_compressed_bytes: int = 16 * GiB
    """Bytes read from the blob."""
    max_uncompressed_bytes: int = 48 * GiB
    """Bytes of tar stream after decompression; also caps the sum of declared entry sizes."""
    max_ratio: int = 250
    """Uncompressed / compressed, checked once `ratio_grace_bytes` have been inflated."""
    ratio_grace_bytes: int = 16 * MiB
    max_entries: int = 1_000_000
    max_file_bytes: int = 64 * MiB
    """Largest file an analyzer loads into memory (package databases, archives, binaries)."""
    max_path_bytes: int = 4096
    max_header_bytes: int = 1 * MiB
    """Largest PAX or GNU long-name header."""
    max_retained_bytes: int = 256 * MiB
    """Text kept while the layer is read (file lists of OS packages, before filtering)."""
    max_records: int = 200_000
    """Package-bearing files reported for one layer."""
    max_zstd_window_bytes: int = 128 * MiB
    max_nested_archives: int = 3
    """Depth of jar-in-war-in-ear nesting followed."""
    max_archive_entries: int = 200_000
    """Entries in one Java archive (checked on the zip directory before it is loaded)."""
