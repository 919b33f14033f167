"""Build container layer tarballs in memory with `tarfile`, for scanner tests.

    layer = LayerBuilder().file("etc/os-release", OS_RELEASE).whiteout("usr/lib/old").gzip()

Also: paths of the real fixtures in `tests/fixtures/shared/` (copies of `../shared/`), and minimal
ELF executables carrying Go build information or cargo-auditable data (the scanner only reads
those parts).
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import zstandard

from stiva.scanning.osv import Advisory, index_keys, parse_osv

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / "tests" / "fixtures" / "shared"  # copies of the workplace's ../shared data
TESTDATA = SHARED / "testdata"
OS_PACKAGES = TESTDATA / "os-packages"
VECTORS = TESTDATA / "version-vectors"
VULNDB = SHARED / "vulndb"
DATA = REPO / "tests" / "data" / "scanning"


class LayerBuilder:
    """Accumulates tar members in order; `tar()`, `gzip()` and `zstd()` give the blob."""

    def __init__(self, *, format: int = tarfile.PAX_FORMAT) -> None:
        self._raw = io.BytesIO()
        self._tar = tarfile.open(fileobj=self._raw, mode="w", format=format)  # noqa: SIM115

    def _add(self, info: tarfile.TarInfo, data: bytes | None = None) -> LayerBuilder:
        info.mtime = 0
        self._tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return self

    def file(self, path: str, data: bytes | str, *, mode: int = 0o644) -> LayerBuilder:
        payload = data.encode() if isinstance(data, str) else data
        info = tarfile.TarInfo(path)
        info.size, info.mode = len(payload), mode
        return self._add(info, payload)

    def dir(self, path: str) -> LayerBuilder:
        info = tarfile.TarInfo(path)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        return self._add(info)

    def symlink(self, path: str, target: str) -> LayerBuilder:
        info = tarfile.TarInfo(path)
        info.type, info.linkname = tarfile.SYMTYPE, target
        return self._add(info)

    def hardlink(self, path: str, target: str) -> LayerBuilder:
        info = tarfile.TarInfo(path)
        info.type, info.linkname = tarfile.LNKTYPE, target
        return self._add(info)

    def whiteout(self, path: str) -> LayerBuilder:
        parent, _, name = path.rpartition("/")
        return self.file(f"{parent}/.wh.{name}" if parent else f".wh.{name}", b"")

    def opaque(self, directory: str) -> LayerBuilder:
        return self.file(f"{directory}/.wh..wh..opq", b"")

    def member(self, info: tarfile.TarInfo, data: bytes | None = None) -> LayerBuilder:
        """Any member as given (for hostile layers)."""
        self._tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return self

    def tar(self) -> bytes:
        self._tar.close()
        return self._raw.getvalue()

    def gzip(self) -> bytes:
        return gzip.compress(self.tar(), compresslevel=1, mtime=0)

    def zstd(self) -> bytes:
        return zstandard.ZstdCompressor().compress(self.tar())


def dist_info(name: str, version: str, *, site: str = "usr/lib/python3/site-packages") -> str:
    """The METADATA path of a distribution (as pip lays it out)."""
    return f"{site}/{name}-{version}.dist-info/METADATA"


def metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n\nBody\n"


def package_json(name: str, version: str) -> str:
    return json.dumps({"name": name, "version": version, "description": "test"})


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


GO_SENTINEL_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
GO_SENTINEL_END = bytes.fromhex("f932433186182072008242104116d8f2")


def go_buildinfo(version: str, modinfo: str) -> bytes:
    """The Go >= 1.18 build information blob (header + inline strings), 16-aligned."""
    header = b"\xff Go buildinf:" + bytes([8, 2]) + b"\x00" * 16
    mod = GO_SENTINEL_START + modinfo.encode() + GO_SENTINEL_END
    body = _uvarint(len(version)) + version.encode() + _uvarint(len(mod)) + mod
    return header + body


def elf(sections: dict[str, bytes], *, padding: int = 0) -> bytes:
    """A minimal little-endian ELF64 file with the named sections (and a section name table)."""
    names = b"\x00" + b"".join(name.encode() + b"\x00" for name in [*sections, ".shstrtab"])
    body = bytearray(b"\x00" * 64 + b"\x00" * padding)
    placed: list[tuple[int, int, int]] = []  # (name offset, data offset, size)
    for name, data in [*sections.items(), (".shstrtab", names)]:
        body += b"\x00" * (-len(body) % 16)
        placed.append((names.index(name.encode() + b"\x00"), len(body), len(data)))
        body += data
    body += b"\x00" * (-len(body) % 8)
    shoff = len(body)
    body += b"\x00" * 64
    for name_offset, offset, size in placed:
        body += struct.pack("<IIQQQQIIQQ", name_offset, 1, 0, 0, offset, size, 0, 0, 1, 0)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\x00" * 9
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 56, 0, 64, len(placed) + 1, len(placed)
    )
    body[:64] = header
    return bytes(body)


def go_binary(version: str, modinfo: str, *, padding: int = 0) -> bytes:
    return elf({".go.buildinfo": go_buildinfo(version, modinfo)}, padding=padding)


def auditable_binary(packages: list[dict[str, object]]) -> bytes:
    data = zlib.compress(json.dumps({"packages": packages}).encode())
    return elf({".text": b"\x90" * 32, ".dep-v0": data})


def osv_records(path: Path) -> list[dict[str, object]]:
    """The OSV documents of a zip like osv.dev's `<ECOSYSTEM>/all.zip`, or of a directory."""
    if path.is_dir():
        return [json.loads(p.read_text()) for p in sorted(path.glob("*.json"))]
    with zipfile.ZipFile(path) as archive:
        return [json.loads(archive.read(name)) for name in sorted(archive.namelist())]


class AdvisoryIndex:
    """An in-memory stand-in for the service's advisory store: (ecosystem, name) -> advisories."""

    def __init__(self, records: list[dict[str, object]]) -> None:
        self._by_key: dict[tuple[str, str], list[Advisory]] = {}
        for record in records:
            advisory = parse_osv(record)
            for key in index_keys(advisory):
                self._by_key.setdefault(key, []).append(advisory)

    def __call__(self, ecosystem: str, name: str) -> list[Advisory]:
        return list(self._by_key.get((ecosystem, name), []))


def go_binary_legacy(version: str, modinfo: str, *, base: int = 0x400000) -> bytes:
    """An ELF64 file with pre-1.18 Go build information: pointers to Go strings in a PT_LOAD."""
    mod = GO_SENTINEL_START + modinfo.encode() + GO_SENTINEL_END
    blob_at = 128  # after the ELF header (64) and one program header (56), 16-aligned
    strings_at = blob_at + 32
    version_at = strings_at + 32
    modinfo_at = version_at + len(version)
    blob = (
        b"\xff Go buildinf:"
        + bytes([8, 0])
        + struct.pack("<QQ", base + strings_at, base + strings_at + 16)
    )
    headers = struct.pack("<QQQQ", base + version_at, len(version), base + modinfo_at, len(mod))
    body = blob + headers + version.encode() + mod
    size = blob_at + len(body)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\x00" * 9
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return header + program + b"\x00" * (blob_at - 120) + body
