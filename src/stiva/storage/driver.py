"""The storage driver protocol: bytes by path, nothing about registries.

Paths are relative, `/`-separated, made of `[A-Za-z0-9._-]` segments (the wrapper in
`stiva.storage.base` enforces this for every driver). Registry semantics (content addressing,
which repository may see which blob) live above this layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol


class StorageError(Exception):
    """The backend failed (I/O error, permission, network). Never a caller's mistake."""


class PathNotFound(StorageError):
    def __init__(self, path: str) -> None:
        super().__init__(f"no such path: {path}")
        self.path = path


class InvalidPath(StorageError):
    pass


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str
    size: int
    modified_at: datetime


class Writer(Protocol):
    """An append-only writer. Bytes become durable at `commit`; `cancel` discards them."""

    @property
    def size(self) -> int:
        """Bytes held so far, including those present when the writer was opened to append."""
        ...

    def write(self, data: bytes) -> None:
        """Append `data`."""
        ...

    def commit(self) -> None:
        """Make everything written durable (fsync or equivalent) and close the writer."""
        ...

    def cancel(self) -> None:
        """Close the writer and delete the path."""
        ...

    def close(self) -> None:
        """Close without discarding; what was written stays (not necessarily durable)."""
        ...


class StorageDriver(Protocol):
    name: str
    # True when `move` is a rename, as quick for a large file as for a small one; False when it
    # copies the bytes (object stores), so callers holding locks had better copy ahead of time.
    instant_move: bool

    def check(self) -> None:
        """Raise StorageError unless the store can be used now (reachable, writable)."""
        ...

    def stat(self, path: str) -> FileInfo:
        """Size and modification time of a file. Raises PathNotFound."""
        ...

    def get_content(self, path: str) -> bytes:
        """The whole content of a small file. Raises PathNotFound."""
        ...

    def put_content(self, path: str, data: bytes) -> None:
        """Atomically replace the file at `path` with `data`, durably."""
        ...

    def open_read(self, path: str, offset: int = 0) -> BinaryIO:
        """A binary stream positioned at `offset`. Raises PathNotFound."""
        ...

    def open_write(self, path: str, *, append: bool = False) -> Writer:
        """A writer for `path`; with append, continue after the bytes already there."""
        ...

    def move(self, source: str, destination: str) -> None:
        """Atomically move a file, replacing `destination`. Raises PathNotFound."""
        ...

    def copy(self, source: str, destination: str) -> None:
        """Atomically replace `destination` with a copy of `source`. Raises PathNotFound."""
        ...

    def delete(self, path: str) -> None:
        """Delete a file or a whole directory tree. Raises PathNotFound."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Paths of the direct children of directory `prefix` (empty if none)."""
        ...

    def walk(self, prefix: str) -> Iterator[FileInfo]:
        """Every file under `prefix`, recursively."""
        ...

    def redirect_url(self, path: str, *, method: str, expires_in: int | None) -> str | None:
        """A URL a client may use directly for `path`, or None when the driver has none.

        Valid for `expires_in` seconds, or the driver's configured lifetime when None.
        """
        ...
