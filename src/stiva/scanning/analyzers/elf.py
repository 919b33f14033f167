"""Just enough ELF to find a section by name and map a virtual address to file bytes.

Every offset read from the file is bounds-checked; a malformed file yields None, never an error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\x7fELF"
_PT_LOAD = 1
_MAX_HEADERS = 4096


@dataclass(frozen=True)
class Elf:
    data: bytes
    little: bool
    wide: bool
    sections: dict[str, tuple[int, int]]
    segments: tuple[tuple[int, int, int], ...]  # (vaddr, offset, filesz) of PT_LOAD segments

    def section(self, name: str) -> bytes | None:
        """The contents of a section, or None when absent or out of bounds."""
        if name not in self.sections:
            return None
        offset, size = self.sections[name]
        if offset + size > len(self.data):
            return None
        return self.data[offset : offset + size]

    def at(self, address: int, size: int) -> bytes | None:
        """`size` bytes at a virtual address of a loaded segment."""
        for vaddr, offset, filesz in self.segments:
            if vaddr <= address and address + size <= vaddr + filesz:
                start = offset + address - vaddr
                return self.data[start : start + size] if start + size <= len(self.data) else None
        return None

    def pointer(self, address: int, width: int) -> int | None:
        raw = self.at(address, width)
        if raw is None:
            return None
        return int.from_bytes(raw, "little" if self.little else "big")


def _table(data: bytes, fmt: str, offset: int, entsize: int, count: int) -> list[tuple[int, ...]]:
    if count > _MAX_HEADERS or entsize < struct.calcsize(fmt):
        return []
    if offset + entsize * count > len(data):
        return []
    return [struct.unpack_from(fmt, data, offset + i * entsize) for i in range(count)]


def _names(data: bytes, raw: list[tuple[int, ...]], strndx: int) -> dict[str, tuple[int, int]]:
    if not 0 <= strndx < len(raw):
        return {}
    str_offset, str_size = raw[strndx][4], raw[strndx][5]
    table = data[str_offset : str_offset + str_size]
    sections: dict[str, tuple[int, int]] = {}
    for entry in raw:
        end = table.find(b"\x00", entry[0])
        if end > entry[0]:
            sections[table[entry[0] : end].decode("latin-1")] = (entry[4], entry[5])
    return sections


def parse(data: bytes) -> Elf | None:
    """An `Elf` view of the bytes, or None when they are not a well-formed ELF file."""
    if len(data) < 64 or not data.startswith(MAGIC) or data[4] not in (1, 2):
        return None
    wide, little = data[4] == 2, data[5] == 1
    order = "<" if little else ">"
    word = "Q" if wide else "I"
    head = struct.unpack_from(order + ("QQ" if wide else "II"), data, 0x20 if wide else 0x1C)
    counts = struct.unpack_from(order + "HHHHH", data, 0x36 if wide else 0x2A)
    phentsize, phnum, shentsize, shnum, shstrndx = counts
    section_fmt = order + f"II{word}{word}{word}{word}"
    raw_sections = _table(data, section_fmt, head[1], shentsize, shnum)
    if wide:
        program = _table(data, order + "IIQQQQ", head[0], phentsize, phnum)
        segments = tuple((p[3], p[2], p[5]) for p in program if p[0] == _PT_LOAD)
    else:
        program = _table(data, order + "IIIIII", head[0], phentsize, phnum)
        segments = tuple((p[2], p[1], p[4]) for p in program if p[0] == _PT_LOAD)
    sections = _names(data, raw_sections, shstrndx)
    return Elf(data, little, wide, sections, segments)
