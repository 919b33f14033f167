"""The storage driver contract, run against every driver (filesystem today; S3 joins later)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stiva.storage.base import Storage
from stiva.storage.driver import InvalidPath, PathNotFound
from stiva.storage.filesystem import FilesystemDriver

DriverFactory = Callable[[Path], Storage]
FACTORIES: dict[str, DriverFactory] = {
    "filesystem": lambda root: Storage(FilesystemDriver(root)),
}


@pytest.fixture(params=sorted(FACTORIES))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return FACTORIES[request.param](tmp_path / "store")


def test_put_get_stat(storage: Storage) -> None:
    storage.put_content("a/b/c", b"hello")
    assert storage.get_content("a/b/c") == b"hello"
    assert storage.stat("a/b/c").size == 5
    storage.put_content("a/b/c", b"replaced")
    assert storage.get_content("a/b/c") == b"replaced"


def test_missing_paths(storage: Storage) -> None:
    for call in (storage.get_content, storage.stat, storage.open_read, storage.delete):
        with pytest.raises(PathNotFound):
            call("no/such/file")
    with pytest.raises(PathNotFound):
        storage.move("no/such/file", "x")


def test_writer_appends_commits_and_cancels(storage: Storage) -> None:
    writer = storage.open_write("up/data")
    writer.write(b"abc")
    writer.write(b"def")
    assert writer.size == 6
    writer.close()
    again = storage.open_write("up/data", append=True)
    assert again.size == 6
    again.write(b"gh")
    again.commit()
    assert storage.get_content("up/data") == b"abcdefgh"
    doomed = storage.open_write("up/other")
    doomed.write(b"x")
    doomed.cancel()
    with pytest.raises(PathNotFound):
        storage.stat("up/other")


def test_open_read_at_offset_streams(storage: Storage) -> None:
    data = bytes(range(256)) * 4096
    storage.put_content("big", data)
    with storage.open_read("big", 1000) as stream:
        assert stream.read(10) == data[1000:1010]
        assert stream.read() == data[1010:]


def test_move_replaces_and_delete_removes_trees(storage: Storage) -> None:
    storage.put_content("src/file", b"new")
    storage.put_content("dst/file", b"old")
    storage.move("src/file", "dst/file")
    assert storage.get_content("dst/file") == b"new"
    with pytest.raises(PathNotFound):
        storage.stat("src/file")
    storage.put_content("tree/a/1", b"1")
    storage.put_content("tree/b/2", b"2")
    assert storage.list("tree") == ["tree/a", "tree/b"]
    assert sorted(info.path for info in storage.walk("tree")) == ["tree/a/1", "tree/b/2"]
    storage.delete("tree")
    assert storage.list("tree") == []
    assert list(storage.walk("tree")) == []


@pytest.mark.parametrize(
    "path", ["../escape", "/abs", "a//b", "a/./b", "a/../b", "", "a b", "a/b/"]
)
def test_invalid_paths_are_refused(storage: Storage, path: str) -> None:
    with pytest.raises(InvalidPath):
        storage.put_content(path, b"x")


def test_filesystem_put_is_atomic_no_temp_left(tmp_path: Path) -> None:
    storage = Storage(FilesystemDriver(tmp_path))
    storage.put_content("dir/file", b"data")
    assert sorted(p.name for p in (tmp_path / "dir").iterdir()) == ["file"]
