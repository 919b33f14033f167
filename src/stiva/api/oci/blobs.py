"""`/v2/<name>/blobs/<digest>`: GET (with Range), HEAD, DELETE."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from stiva.api.oci.errors import API_VERSION_HEADER, RangeNotSatisfiable
from stiva.api.oci.request import STREAM_BUFFER, OciRequest
from stiva.metadata.database import Session
from stiva.oci.digest import Digest
from stiva.services import blobs as svc
from stiva.services.repositories import get_repository
from stiva.storage.layout import blob_path

_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
BLOB_CACHE_CONTROL = "max-age=31536000"  # content-addressed: a digest's bytes never change


def _stream(handle: BinaryIO, length: int) -> Iterator[bytes]:
    with handle:
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(STREAM_BUFFER, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def is_byte_range(header: str) -> bool:
    """True for one `bytes=` range; anything else (multiple ranges, other units) is ignored."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    return match is not None and (match[1] != "" or match[2] != "")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for a single-range `Range` header; None if unsatisfiable."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match or (match[1] == "" and match[2] == ""):
        return None
    if match[1] == "":
        suffix = int(match[2])
        return (max(size - suffix, 0), size - 1) if suffix > 0 and size > 0 else None
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


async def _stat(req: OciRequest) -> svc.BlobInfo:
    digest = Digest.parse(req.params["digest"])

    def stat(session: Session) -> svc.BlobInfo:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        return svc.stat_blob(session, repository_id=repo.id, digest=digest)

    return await req.read(stat)


async def head_blob(req: OciRequest) -> Response:
    info = await _stat(req)
    return Response(
        status_code=200,
        media_type="application/octet-stream",
        headers={
            **API_VERSION_HEADER,
            "Content-Length": str(info.size),
            "Docker-Content-Digest": str(info.digest),
            "Accept-Ranges": "bytes",
        },
    )


def _requested_range(req: OciRequest, size: int) -> tuple[int, int] | None:
    """The byte range a `Range` header asks for (None: the whole blob); 416 if unsatisfiable."""
    header = req.http.headers.get("range")
    if not header or not is_byte_range(header):
        return None
    wanted = parse_range(header, size)
    if wanted is None:
        raise RangeNotSatisfiable(
            f"range {header[:100]} cannot be satisfied for a blob of {size} bytes", size=size
        )
    return wanted


async def get_blob(req: OciRequest) -> Response:
    info = await _stat(req)
    headers = {
        **API_VERSION_HEADER,
        "Docker-Content-Digest": str(info.digest),
        "Accept-Ranges": "bytes",
        "ETag": f'"{info.digest}"',
        "Cache-Control": BLOB_CACHE_CONTROL,
    }
    redirect = await run_in_threadpool(req.ctx.storage.redirect_url, blob_path(info.digest))
    if redirect is not None:
        return RedirectResponse(redirect, status_code=307, headers=headers)
    wanted = _requested_range(req, info.size)
    start, end = wanted if wanted is not None else (0, info.size - 1)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    handle = await run_in_threadpool(svc.open_blob, req.ctx.storage, info.digest, start)
    length = max(end - start + 1, 0)
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        _stream(handle, length),
        status_code=200 if wanted is None else 206,
        media_type="application/octet-stream",
        headers=headers,
    )


async def delete_blob(req: OciRequest) -> Response:
    digest = Digest.parse(req.params["digest"])

    def remove(session: Session) -> None:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        svc.delete_blob(session, repository_id=repo.id, digest=digest)

    await req.write(remove)
    return Response(status_code=202, headers=API_VERSION_HEADER)
