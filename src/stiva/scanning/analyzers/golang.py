"""Go build information in binaries: the `\\xff Go buildinf:` blob.

Go >= 1.18 stores the toolchain version and module list inline after the 32-byte header
(length-prefixed with uvarints); older toolchains store pointers to Go strings, resolved here
through the ELF load segments. The module list has lines `mod`, `dep` and `=>` (replacement of
the line before). The toolchain is reported as module `stdlib` with a SemVer version, as the Go
vulnerability database names it.
"""

from __future__ import annotations

import re
from typing import Literal

from stiva.scanning.analyzers.elf import Elf
from stiva.scanning.packages import LANGUAGE, Package

MAGIC = b"\xff Go buildinf:"
HEADER = 32
_FLAG_BIG_ENDIAN, _FLAG_INLINE = 1, 2
_MAX_STRING = 4 << 20
_GO_VERSION = re.compile(r"^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


def find_magic(data: bytes, base: int = 0) -> int:
    """Offset of the first 16-aligned magic in `data` (whose first byte is at `base`), or -1."""
    index = data.find(MAGIC)
    while index >= 0 and (base + index) % 16:
        index = data.find(MAGIC, index + 1)
    return index


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("bad uvarint")


def inline_strings(blob: bytes) -> tuple[str, str] | None:
    """(version, modinfo) from a >= 1.18 blob that starts at the magic."""
    try:
        pos = HEADER
        length, pos = _uvarint(blob, pos)
        version = blob[pos : pos + length]
        pos += length
        length, pos = _uvarint(blob, pos)
        modinfo = blob[pos : pos + length]
    except ValueError:
        return None
    if length > _MAX_STRING or len(modinfo) != length:
        return None
    return version.decode("utf-8", "replace"), modinfo.decode("utf-8", "replace")


def _go_string(elf: Elf, address: int, width: int) -> str | None:
    pointer, length = elf.pointer(address, width), elf.pointer(address + width, width)
    if pointer is None or length is None or length > _MAX_STRING:
        return None
    raw = elf.at(pointer, length)
    return raw.decode("utf-8", "replace") if raw is not None else None


def build_strings(elf: Elf) -> tuple[str, str] | None:
    """(version, modinfo) from any Go binary, inline or pointer format."""
    offset = find_magic(elf.data)
    if offset < 0 or offset + HEADER > len(elf.data):
        return None
    width, flags = elf.data[offset + 14], elf.data[offset + 15]
    if flags & _FLAG_INLINE:
        return inline_strings(elf.data[offset:])
    if width not in (4, 8) or bool(flags & _FLAG_BIG_ENDIAN) == elf.little:
        return None
    version_at = int.from_bytes(elf.data[offset + 16 : offset + 16 + width], _order(elf))
    modinfo_at = int.from_bytes(
        elf.data[offset + 16 + width : offset + 16 + 2 * width], _order(elf)
    )
    version, modinfo = _go_string(elf, version_at, width), _go_string(elf, modinfo_at, width)
    return (version, modinfo) if version is not None and modinfo is not None else None


def _order(elf: Elf) -> Literal["little", "big"]:
    return "little" if elf.little else "big"


def stdlib_version(toolchain: str) -> str | None:
    """ "go1.21rc2" -> "1.21.0-rc.2"; "go1.20.3 X:boringcrypto" -> "1.20.3"; devel -> None."""
    match = _GO_VERSION.match(toolchain.split(" ", 1)[0])
    if match is None:
        return None
    major, minor, patch, pre, number = match.groups()
    version = f"{major}.{minor}.{patch or 0}"
    return f"{version}-{pre}.{number}" if pre else version


def _strip_sentinels(modinfo: str) -> str:
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        return modinfo[16:-16]
    return modinfo


def modules(modinfo: str) -> list[tuple[str, str]]:
    """(module path, version) of the main module and dependencies, replacements applied."""
    found: list[tuple[str, str]] = []
    for line in _strip_sentinels(modinfo).splitlines():
        fields = line.split("\t")
        if fields[0] in ("mod", "dep") and len(fields) >= 3:
            found.append((fields[1], fields[2]))
        elif fields[0] == "=>" and found:
            found.pop()
            if len(fields) >= 3 and fields[2]:
                found.append((fields[1], fields[2]))
    return [(path, version) for path, version in found if version and version != "(devel)"]


def packages(version: str, modinfo: str, path: str) -> list[Package]:
    """The packages a binary was built from, `stdlib` included."""
    found = [
        Package(name=module, version=ver, ecosystem="Go", kind=LANGUAGE, type="golang", path=path)
        for module, ver in modules(modinfo)
    ]
    if (std := stdlib_version(version)) is not None:
        found.append(
            Package(
                name="stdlib", version=std, ecosystem="Go", kind=LANGUAGE, type="golang", path=path
            )
        )
    return found
