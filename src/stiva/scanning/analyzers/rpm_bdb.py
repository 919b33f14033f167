"""Values of a Berkeley DB hash database (RPM's `Packages` before RPM 4.16: RHEL 7/8, UBI 8).

Page 0 is the hash metadata page (magic 0x061561, either byte order): page size and last page.
Hash pages (type 2 or 13) hold an index of item offsets, keys and values alternating; a value is
inline (H_KEYDATA) or, for anything large such as an RPM header, a reference (H_OFFPAGE) to a
chain of overflow pages (type 7) whose header tells how many bytes each carries. Every page
number, offset and length is bounds-checked and chains are cut at the number of pages.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

HASH_MAGIC = 0x061561
_HEADER = 26
_META, _HASH_PAGES, _OVERFLOW = 8, (2, 13), 7
_KEYDATA, _OFFPAGE = 1, 3


class BdbError(ValueError):
    """Not a Berkeley DB hash file, or a damaged one."""


def _layout(data: bytes) -> tuple[str, int, int]:
    """(byte order, page size, last page number) from the metadata page."""
    if len(data) < 512 or data[25] != _META:
        raise BdbError("no hash metadata page")
    for order in "<>":
        magic, _, pagesize = struct.unpack_from(order + "III", data, 12)
        if magic == HASH_MAGIC:
            last = struct.unpack_from(order + "I", data, 32)[0]
            if not 512 <= pagesize <= 65536 or pagesize & (pagesize - 1):
                raise BdbError("bad page size")
            return order, pagesize, min(last, len(data) // pagesize - 1)
    raise BdbError("not a Berkeley DB hash database")


def _overflow(data: bytes, order: str, pagesize: int, first: int, total: int, pages: int) -> bytes:
    chunks: list[bytes] = []
    size, page = 0, first
    for _ in range(pages):
        if not 0 < page <= pages:
            break
        start = page * pagesize
        if data[start + 25] != _OVERFLOW:
            break
        next_page, _, length = struct.unpack_from(order + "IHH", data, start + 16)
        chunk = data[start + _HEADER : start + _HEADER + min(length, pagesize - _HEADER)]
        chunks.append(chunk)
        size += len(chunk)
        if size >= total or next_page == 0:
            break
        page = next_page
    value = b"".join(chunks)
    if len(value) < total:
        raise BdbError("overflow chain shorter than its item")
    return value[:total]


def _page_values(data: bytes, order: str, pagesize: int, page: int, pages: int) -> Iterator[bytes]:
    start = page * pagesize
    entries = struct.unpack_from(order + "H", data, start + 20)[0]
    if _HEADER + 2 * entries > pagesize:
        return
    offsets = struct.unpack_from(order + f"{entries}H", data, start + _HEADER)
    for index in range(1, entries, 2):  # keys at even positions, values at odd ones
        offset = offsets[index]
        end = offsets[index - 1]
        if not _HEADER <= offset < end <= pagesize:
            continue
        item = data[start + offset : start + end]
        if item[0] == _KEYDATA:
            yield item[1:]
        elif item[0] == _OFFPAGE and len(item) >= 12:
            first, total = struct.unpack_from(order + "II", item, 4)
            try:
                yield _overflow(data, order, pagesize, first, min(total, len(data)), pages)
            except BdbError:
                continue


def values(data: bytes) -> Iterator[bytes]:
    """Every value stored in the database, in page order; BdbError for a non-hash file."""
    order, pagesize, last = _layout(data)
    for page in range(1, last + 1):
        if data[page * pagesize + 25] in _HASH_PAGES:
            yield from _page_values(data, order, pagesize, page, last)
