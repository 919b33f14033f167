"""Hostile layers: each is rejected with a reason, quickly, without reading beyond the limits.

Inputs stay small; the limits are tightened instead. Nothing here may crash with anything but
`LayerRejected` (or, for damaged files inside a sane layer, a note in the analysis).
"""

from __future__ import annotations

import bz2
import gzip
import io
import sqlite3
import tarfile
import zipfile

import pytest
import zstandard

from stiva.scanning.errors import LayerRejected
from stiva.scanning.layer import LayerAnalysis, Limits, analyze_layer
from stiva.scanning.records import MASK
from tests.support.layers import LayerBuilder, go_buildinfo

BLOCK = 512


def analyze(blob: bytes, limits: Limits = Limits()) -> LayerAnalysis:  # noqa: B008
    return analyze_layer(io.BytesIO(blob), limits)


def rejected(blob: bytes, limits: Limits = Limits()) -> str:  # noqa: B008
    with pytest.raises(LayerRejected) as raised:
        analyze(blob, limits)
    return raised.value.reason


def header(name: bytes, size: int, typeflag: bytes, *, size_field: bytes | None = None) -> bytes:
    """A raw ustar header block with a valid checksum."""
    block = bytearray(BLOCK)
    block[0 : len(name)] = name
    block[100:108] = b"0000644\x00"
    block[124:136] = size_field if size_field is not None else b"%011o\x00" % size
    block[156:157] = typeflag
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)


def pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % BLOCK)


END = b"\x00" * (2 * BLOCK)


def zeros_layer(size: int) -> bytes:
    return LayerBuilder().file("zeros", b"\x00" * size).tar()


def test_gzip_bomb_is_stopped_by_the_ratio() -> None:
    bomb = gzip.compress(zeros_layer(8 << 20), compresslevel=9)
    assert len(bomb) < 20_000
    reason = rejected(bomb, Limits(max_ratio=50, ratio_grace_bytes=1 << 20))
    assert "ratio" in reason


def test_zstd_bomb_is_stopped_by_the_uncompressed_limit() -> None:
    bomb = zstandard.ZstdCompressor(level=19).compress(zeros_layer(8 << 20))
    reason = rejected(bomb, Limits(max_uncompressed_bytes=2 << 20, max_ratio=10**9))
    assert "uncompressed" in reason or "declare" in reason


def test_compressed_size_limit() -> None:
    blob = gzip.compress(LayerBuilder().file("a", bytes(range(256)) * 4096).tar(), compresslevel=0)
    assert "compressed bytes" in rejected(blob, Limits(max_compressed_bytes=100_000))


def test_declared_sizes_beyond_the_limit_are_rejected_before_reading() -> None:
    record = b"%d size=%d\n" % (len(b" size=%d\n" % 10**15) + 2, 10**15)
    blob = (
        header(b"././@PaxHeader", len(record), b"x") + pad(record) + header(b"huge", 0, b"0") + END
    )
    assert "declare more than" in rejected(blob)


def test_gnu_sparse_entry_is_rejected() -> None:
    blob = header(b"sparse", 10**12, b"S") + END
    reason = rejected(blob, Limits(max_uncompressed_bytes=1 << 50))
    assert "sparse" in reason


def test_pax_sparse_entry_is_rejected() -> None:
    info = tarfile.TarInfo("disk.img")
    info.pax_headers = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.realsize": str(10**12),
    }
    blob = LayerBuilder().member(info, b"").tar()
    assert "sparse" in rejected(blob)


def test_too_many_entries() -> None:
    builder = LayerBuilder()
    for index in range(50):
        builder.file(f"f{index}", b"")
    assert "more than 20 entries" in rejected(builder.gzip(), Limits(max_entries=20))


@pytest.mark.parametrize("name", ["../etc/passwd", "a/../../etc/passwd", "a/b/../../../x"])
def test_path_traversal_is_rejected(name: str) -> None:
    blob = LayerBuilder().member(tarfile.TarInfo(name), b"").tar()
    assert "traversal" in rejected(blob)


def test_absolute_path_is_rejected() -> None:
    blob = header(b"/etc/passwd", 0, b"0") + END
    assert "absolute" in rejected(blob)


def test_hardlink_escaping_the_layer_is_rejected() -> None:
    blob = LayerBuilder().hardlink("var/lib/dpkg/status", "../../../etc/shadow").tar()
    assert "traversal" in rejected(blob)


def test_entry_below_a_symlink_of_the_same_layer_is_rejected() -> None:
    blob = (
        LayerBuilder()
        .symlink("var/lib/dpkg", "/tmp/elsewhere")
        .file("var/lib/dpkg/status", "x")
        .tar()
    )
    assert "below a symlink" in rejected(blob)


def test_symlinks_with_absolute_or_parent_targets_are_inert() -> None:
    blob = (
        LayerBuilder()
        .symlink("etc/os-release", "../usr/lib/os-release")
        .symlink("lib/apk/db/installed", "/etc/shadow")
        .symlink("usr/bin/tool", "/proc/self/mem")
        .tar()
    )
    analysis = analyze(blob)
    assert {r.path: r.kind for r in analysis.records} == {
        "etc/os-release": MASK,
        "lib/apk/db/installed": MASK,
    }


def test_truncated_gzip_is_rejected() -> None:
    blob = LayerBuilder().file("a", bytes(range(256)) * 400).gzip()
    assert "corrupt gzip" in rejected(blob[: len(blob) // 2])


def test_gzip_with_a_bad_crc_is_rejected() -> None:
    blob = bytearray(LayerBuilder().file("a", b"hello" * 100).gzip())
    blob[-8] ^= 0xFF
    assert "corrupt gzip" in rejected(bytes(blob))


def test_tar_cut_at_an_entry_boundary_is_rejected() -> None:
    tar = LayerBuilder().file("a", b"x" * 100).file("b", b"y").tar()
    cut = tar[: BLOCK * 2]  # header + data of "a", nothing after
    assert "truncated" in rejected(cut)
    assert "truncated" in rejected(zstandard.ZstdCompressor().compress(cut))


def test_truncated_zstd_is_rejected() -> None:
    blob = LayerBuilder().file("a", bytes(range(256)) * 400).zstd()
    reason = rejected(blob[: len(blob) // 2])
    assert "truncated" in reason or "corrupt zstd" in reason


def test_invalid_zstd_is_rejected() -> None:
    assert "corrupt zstd" in rejected(b"\x28\xb5\x2f\xfd" + b"\xff" * 64)


@pytest.mark.parametrize(
    ("blob", "name"), [(bz2.compress(END), "bzip2"), (b"\xfd7zXZ\x00" + b"\x00" * 32, "xz")]
)
def test_unsupported_compression_is_rejected(blob: bytes, name: str) -> None:
    assert name in rejected(blob)


def test_empty_blob_is_rejected() -> None:
    assert "truncated" in rejected(b"")


def test_corrupt_header_checksum_is_rejected() -> None:
    block = bytearray(header(b"file", 0, b"0"))
    block[0:4] = b"evil"
    assert "checksum" in rejected(bytes(block) + END)


def test_negative_base256_size_is_rejected() -> None:
    negative = b"\xff" * 12
    assert "negative" in rejected(header(b"file", 0, b"0", size_field=negative) + END)


def test_oversized_extended_header_is_rejected() -> None:
    info = tarfile.TarInfo("x" * 300_000)
    blob = LayerBuilder().member(info, b"").tar()
    reason = rejected(blob, Limits(max_header_bytes=64 << 10, max_path_bytes=1 << 20))
    assert "extended tar header" in reason


def test_chained_extended_headers_are_bounded() -> None:
    record = b"13 path=abcd\n"
    chain = (header(b"PaxHeader", len(record), b"x") + pad(record)) * 20
    assert "chained" in rejected(chain + header(b"file", 0, b"0") + END)


def test_long_paths_are_rejected() -> None:
    blob = LayerBuilder().file("a/" * 200 + "file", b"").tar()
    assert "path longer" in rejected(blob, Limits(max_path_bytes=256))


def test_retained_analysis_data_is_bounded() -> None:
    listing = "".join(f"/usr/share/doc/pkg/file{i}\n" for i in range(5000))
    blob = LayerBuilder().file("var/lib/dpkg/info/pkg.list", listing).gzip()
    assert "analysis data" in rejected(blob, Limits(max_retained_bytes=10_000))


def test_package_file_count_is_bounded() -> None:
    builder = LayerBuilder()
    for index in range(30):
        builder.file(
            f"app/node_modules/p{index}/package.json", f'{{"name":"p{index}","version":"1.0.0"}}'
        )
    assert "package files" in rejected(builder.tar(), Limits(max_records=10))


def test_zip_bomb_inside_a_jar_is_read_only_up_to_its_cap() -> None:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as jar:
        jar.writestr(
            "META-INF/maven/g/a/pom.properties",
            "groupId=g\nartifactId=a\nversion=1\n" + "#" * (8 << 20),
        )
        jar.writestr(
            "META-INF/maven/org.x/y/pom.properties", "groupId=org.x\nartifactId=y\nversion=2.0\n"
        )
    blob = LayerBuilder().file("app/lib/app.jar", raw.getvalue()).tar()
    found = {(p.name, p.version) for r in analyze(blob).records for p in r.packages}
    assert found == {("org.x:y", "2.0")}  # the 8 MiB properties file is beyond the 1 MiB cap


def test_jar_announcing_too_many_entries_is_a_note() -> None:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as jar:
        for index in range(50):
            jar.writestr(f"f{index}", b"")
    blob = LayerBuilder().file("app.jar", raw.getvalue()).tar()
    analysis = analyze(blob, Limits(max_archive_entries=10))
    assert analysis.records[0].kind == MASK
    assert "zip directory" in analysis.notes[0]


def test_garbage_jar_is_a_note() -> None:
    analysis = analyze(LayerBuilder().file("lib/x.jar", b"PK\x05\x06" + b"\xff" * 40).tar())
    assert analysis.records[0].kind == MASK
    assert analysis.notes


def test_hostile_rpm_sqlite_view_does_not_spin() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT x AS blob FROM c"
    )
    image = connection.serialize()
    connection.close()
    analysis = analyze(LayerBuilder().file("var/lib/rpm/rpmdb.sqlite", image).tar())
    assert analysis.records[0].kind == MASK
    assert "rpm sqlite" in analysis.notes[0]


def test_rpm_sqlite_with_garbage_headers_yields_nothing() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    for blob in (b"", b"\x00\x00\x00\x01", b"\x7f\xff\xff\xff\x00\x00\x00\x10" + b"\x00" * 64):
        connection.execute("INSERT INTO Packages (blob) VALUES (?)", (blob,))
    connection.commit()
    image = connection.serialize()
    connection.close()
    analysis = analyze(LayerBuilder().file("var/lib/rpm/rpmdb.sqlite", image).tar())
    assert analysis.records[0].packages == ()


def test_not_a_database_at_the_rpm_path_is_a_note() -> None:
    analysis = analyze(LayerBuilder().file("var/lib/rpm/rpmdb.sqlite", b"not sqlite" * 50).tar())
    assert analysis.notes


@pytest.mark.parametrize(
    "binary",
    [
        b"\x7fELF" + b"\xff" * 200,  # garbage after the magic
        b"\x7fELF\x02\x01" + b"\x00" * 58 + go_buildinfo("go1.20", "x")[:40],  # truncated blob
        b"\x7fELF\x02\x01"
        + b"\x00" * 58
        + b"\xff Go buildinf:\x08\x02"
        + b"\x00" * 16
        + b"\xff" * 20,
    ],
)
def test_malformed_executables_yield_nothing(binary: bytes) -> None:
    blob = LayerBuilder().file("usr/bin/bad", binary, mode=0o755).tar()
    assert analyze(blob).records == ()
