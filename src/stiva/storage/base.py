"""The one wrapper around every driver: path validation and error normalisation.

Drivers stay small and trusting; this wrapper rejects paths that could escape the store and turns
backend exceptions (OSError, botocore errors, ...) into `StorageError`, so the layers above see a
single error vocabulary whatever the backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO, ParamSpec, TypeVar

from stiva.storage.driver import FileInfo, InvalidPath, StorageDriver, StorageError, Writer

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
P = ParamSpec("P")
T = TypeVar("T")


def check_path(path: str, *, allow_root: bool = False) -> str:
    if path == "" and allow_root:
        return path
    segments = path.split("/")
    if path.startswith("/") or any(not _SEGMENT.match(s) or s in {".", ".."} for s in segments):
        raise InvalidPath(f"invalid storage path: {path!r}")
    return path


def _normalised(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return call(*args, **kwargs)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"storage backend failed: {exc}") from exc


class Storage:
    """A `StorageDriver` wrapped with path checks and error normalisation."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver

    @property
    def name(self) -> str:
        return self.driver.name

    def check(self) -> None:
        """StorageError unless the store can be used now."""
        _normalised(self.driver.check)

    def stat(self, path: str) -> FileInfo:
        return _normalised(self.driver.stat, check_path(path))

    def get_content(self, path: str) -> bytes:
        return _normalised(self.driver.get_content, check_path(path))

    def put_content(self, path: str, data: bytes) -> None:
        _normalised(self.driver.put_content, check_path(path), data)

    def open_read(self, path: str, offset: int = 0) -> BinaryIO:
        return _normalised(self.driver.open_read, check_path(path), offset)

    def open_write(self, path: str, *, append: bool = False) -> Writer:
        return _normalised(self.driver.open_write, check_path(path), append=append)

    def move(self, source: str, destination: str) -> None:
        _normalised(self.driver.move, check_path(source), check_path(destination))

    def copy(self, source: str, destination: str) -> None:
        _normalised(self.driver.copy, check_path(source), check_path(destination))

    @property
    def instant_move(self) -> bool:
        return self.driver.instant_move

    def delete(self, path: str) -> None:
        _normalised(self.driver.delete, check_path(path))

    def list(self, prefix: str) -> list[str]:
        return _normalised(self.driver.list, check_path(prefix, allow_root=True))

    def walk(self, prefix: str) -> Iterator[FileInfo]:
        return _normalised(self.driver.walk, check_path(prefix, allow_root=True))

    def redirect_url(
        self, path: str, *, method: str = "GET", expires_in: int | None = None
    ) -> str | None:
        return _normalised(
            self.driver.redirect_url, check_path(path), method=method, expires_in=expires_in
        )
