"""The storage driver contract, run against every driver: filesystem, and S3 (moto on loopback)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stiva.storage.base import Storage
from stiva.storage.driver import InvalidPath, PathNotFound, StorageError
from stiva.storage.filesystem import FilesystemDriver
from tests.support.s3 import S3Server

DriverFactory = Callable[[pytest.FixtureRequest, Path], Storage]


def _filesystem(request: pytest.FixtureRequest, root: Path) -> Storage:
    root.mkdir(parents=True, exist_ok=True)  # as open_storage does at start
    return Storage(FilesystemDriver(root))


def _s3(request: pytest.FixtureRequest, root: Path) -> Storage:
    server: S3Server = request.getfixturevalue("s3_server")
    return server.storage(prefix="store")


FACTORIES: dict[str, DriverFactory] = {"filesystem": _filesystem, "s3": _s3}


@pytest.fixture(params=sorted(FACTORIES))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return FACTORIES[request.param](request, tmp_path / "store")


def test_put_get_stat(storage: Storage) -> None:
    storage.put_content("a/b/c", b"hello")
    assert storage.get_content("a/b/c") == b"hello"
    assert storage.stat("a/b/c").size == 5
    storage.put_content("a/b/c", b"replaced")
    assert storage.get_content("a/b/c") == b"replaced"


def test_check_passes_on_a_usable_store(storage: Storage) -> None:
    storage.check()
    storage.put_content("a", b"x")
    storage.check()


def test_filesystem_check_fails_when_the_root_is_gone(tmp_path: Path) -> None:
    """Readiness relies on it: a stat of a missing file under a vanished mount is no error."""
    storage = Storage(FilesystemDriver(tmp_path / "unmounted"))
    with pytest.raises(PathNotFound):
        storage.stat("x")
    with pytest.raises(StorageError, match="is not a directory"):
        storage.check()


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


def test_stat_reports_modification_time(storage: Storage) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    storage.put_content("timed", b"x")
    modified = storage.stat("timed").modified_at
    assert before <= modified <= datetime.now(UTC) + timedelta(seconds=5)


def test_appends_across_writers_read_back_at_any_offset(storage: Storage) -> None:
    pieces = [bytes([n]) * (1000 * n + 1) for n in range(1, 8)]
    storage.open_write("up/x/data").commit()
    for piece in pieces:
        writer = storage.open_write("up/x/data", append=True)
        writer.write(piece)
        writer.close()
    data = b"".join(pieces)
    assert storage.stat("up/x/data").size == len(data)
    for offset in (0, 1, 1001, 5000, len(data) - 1, len(data)):
        with storage.open_read("up/x/data", offset) as stream:
            assert stream.read() == data[offset:]
    assert storage.list("up/x") == ["up/x/data"]
    assert [(i.path, i.size) for i in storage.walk("up")] == [("up/x/data", len(data))]
    storage.move("up/x/data", "final/blob")
    assert storage.get_content("final/blob") == data
    assert storage.list("up/x") == []


def test_copy_replaces_the_destination_and_keeps_the_source(storage: Storage) -> None:
    pieces = [bytes([n]) * (700 * n + 3) for n in range(1, 6)]
    storage.open_write("up/y/data").commit()
    for piece in pieces:  # several segments on S3
        writer = storage.open_write("up/y/data", append=True)
        writer.write(piece)
        writer.close()
    data = b"".join(pieces)
    storage.put_content("final/copy", b"stale")
    storage.copy("up/y/data", "final/copy")
    assert storage.get_content("final/copy") == data
    assert storage.stat("final/copy").size == len(data)
    assert storage.get_content("up/y/data") == data
    storage.copy("final/copy", "final/again")  # a single object
    assert storage.get_content("final/again") == data
    storage.open_write("empty").commit()
    storage.copy("empty", "final/empty")
    assert storage.get_content("final/empty") == b""
    assert [i.path for i in storage.walk("final")] == ["final/again", "final/copy", "final/empty"]
    with pytest.raises(PathNotFound):
        storage.copy("no/such/file", "x")


def test_open_write_without_append_truncates(storage: Storage) -> None:
    storage.put_content("t/file", b"old content")
    writer = storage.open_write("t/file")
    assert writer.size == 0
    writer.write(b"new")
    writer.commit()
    assert storage.get_content("t/file") == b"new"


def test_list_and_walk_from_the_root(storage: Storage) -> None:
    storage.put_content("one/a", b"1")
    storage.put_content("two", b"22")
    assert storage.list("") == ["one", "two"]
    assert sorted((i.path, i.size) for i in storage.walk("")) == [("one/a", 1), ("two", 2)]
