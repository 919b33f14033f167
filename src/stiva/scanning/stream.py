"""Decompression of a layer blob with hard limits: gzip, zstd or plain tar, detected by magic.

`open_layer(stream, limits)` returns a `LayerStream` whose `read(n)` yields at most `n` bytes of
the tar stream. Every read accounts compressed and inflated bytes and the ratio between them, so a
decompression bomb stops as soon as it crosses a limit; nothing is buffered beyond one read.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import IO, BinaryIO, Protocol, cast

import zstandard

from stiva.scanning.errors import LayerRejected
from stiva.scanning.limits import Limits

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_OTHER_MAGIC = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingSource:
    """The raw blob: counts bytes read and enforces `max_compressed_bytes`."""

    def __init__(self, stream: BinaryIO, head: bytes, limit: int) -> None:
        self._stream = stream
        self._head = head
        self._limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("layer streams are read forward only")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
        else:
            data = self._stream.read(size)
        self.count += len(data)
        if self.count > self._limit:
            raise LayerRejected(f"layer exceeds {self._limit} compressed bytes")
        return data


class LayerStream:
    """The decompressed tar stream of one layer, read in bounded chunks."""

    def __init__(self, source: _CountingSource, inner: _Readable, compression: str) -> None:
        self._source = source
        self._inner = inner
        self.compression = compression
        self.uncompressed = 0

    @property
    def compressed(self) -> int:
        return self._source.count

    def read(self, size: int, limits: Limits) -> bytes:
        """Up to `size` bytes (b"" at the end); LayerRejected on corrupt data or a crossed limit."""
        try:
            data = self._inner.read(size)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            raise LayerRejected(f"corrupt {self.compression} stream: {exc}") from None
        self.uncompressed += len(data)
        self._check(limits)
        return data

    def _check(self, limits: Limits) -> None:
        if self.uncompressed > limits.max_uncompressed_bytes:
            raise LayerRejected(f"layer exceeds {limits.max_uncompressed_bytes} uncompressed bytes")
        if self.compression == "none" or self.uncompressed < limits.ratio_grace_bytes:
            return
        if self.uncompressed > limits.max_ratio * max(self.compressed, 1):
            raise LayerRejected(f"compression ratio exceeds {limits.max_ratio}")


def open_layer(stream: BinaryIO, limits: Limits) -> LayerStream:
    """Detect the compression from the first bytes and wrap the blob in a bounded reader."""
    head = stream.read(8)
    source = _CountingSource(stream, head, limits.max_compressed_bytes)
    if head.startswith(GZIP_MAGIC):
        return LayerStream(source, gzip.GzipFile(fileobj=source, mode="rb"), "gzip")
    if head.startswith(ZSTD_MAGIC):
        decompressor = zstandard.ZstdDecompressor(max_window_size=limits.max_zstd_window_bytes)
        reader = decompressor.stream_reader(cast(IO[bytes], source), read_across_frames=True)
        return LayerStream(source, reader, "zstd")
    for magic, name in _OTHER_MAGIC.items():
        if head.startswith(magic):
            raise LayerRejected(f"unsupported layer compression: {name}")
    return LayerStream(source, source, "none")
