"""Filesystem driver: files under one root directory, written durably.

`put_content` writes a temporary sibling, fsyncs it and renames it into place; `move` is a rename
followed by an fsync of the destination directory, so a committed path survives a crash whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from stiva.storage.driver import FileInfo, PathNotFound, StorageError


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileWriter:
    def __init__(self, full: Path, *, append: bool) -> None:
        full.parent.mkdir(parents=True, exist_ok=True)
        self._path = full
        self._file = open(full, "ab" if append else "wb")  # noqa: SIM115 - owned by the writer
        self._size = self._file.tell()

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._size += len(data)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def cancel(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)

    def close(self) -> None:
        self._file.close()


class FilesystemDriver:
    name = "filesystem"
    instant_move = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def _full(self, path: str) -> Path:
        return self.root / path

    def check(self) -> None:
        """The root must be a directory this process may create files in (a vanished or
        read-only mount fails, where a stat of a missing file would not)."""
        if not self.root.is_dir():
            raise StorageError(f"the storage root {self.root} is not a directory")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"the storage root {self.root} is not writable")

    def stat(self, path: str) -> FileInfo:
        try:
            st = self._full(path).stat()
        except FileNotFoundError:
            raise PathNotFound(path) from None
        return FileInfo(path, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def get_content(self, path: str) -> bytes:
        try:
            return self._full(path).read_bytes()
        except FileNotFoundError:
            raise PathNotFound(path) from None

    def put_content(self, path: str, data: bytes) -> None:
        self._replace(path, lambda handle: handle.write(data))

    def _replace(self, path: str, fill: Callable[[BinaryIO], object]) -> None:
        """Write a temporary file beside `path` with `fill`, make it durable, rename it over."""
        full = self._full(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        temp = full.with_name(f".{full.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temp, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, full)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(full.parent)

    def copy(self, source: str, destination: str) -> None:
        try:
            original = open(self._full(source), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise PathNotFound(source) from None
        with original:
            self._replace(destination, lambda handle: shutil.copyfileobj(original, handle))

    def open_read(self, path: str, offset: int = 0) -> BinaryIO:
        try:
            handle = open(self._full(path), "rb")  # noqa: SIM115 - returned to the caller
        except (FileNotFoundError, IsADirectoryError):
            raise PathNotFound(path) from None
        if offset:
            handle.seek(offset)
        return handle

    def open_write(self, path: str, *, append: bool = False) -> FileWriter:
        return FileWriter(self._full(path), append=append)

    def move(self, source: str, destination: str) -> None:
        dest = self._full(destination)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self._full(source), dest)
        except FileNotFoundError:
            raise PathNotFound(source) from None
        _fsync_dir(dest.parent)

    def delete(self, path: str) -> None:
        full = self._full(path)
        if full.is_dir():
            shutil.rmtree(full)
            return
        try:
            full.unlink()
        except FileNotFoundError:
            raise PathNotFound(path) from None

    def list(self, prefix: str) -> list[str]:
        full = self._full(prefix)
        if not full.is_dir():
            return []
        base = prefix.rstrip("/")
        return sorted(f"{base}/{child.name}" if base else child.name for child in full.iterdir())

    def walk(self, prefix: str) -> Iterator[FileInfo]:
        full = self._full(prefix)
        if not full.is_dir():
            return
        for directory, _dirs, files in os.walk(full):
            for name in sorted(files):
                child = Path(directory) / name
                with contextlib.suppress(FileNotFoundError):
                    yield self.stat(child.relative_to(self.root).as_posix())

    def redirect_url(self, path: str, *, method: str, expires_in: int | None) -> str | None:
        return None
