"""`/v2/<name>/blobs/uploads/...`: start (incl. mount and monolithic), PATCH, PUT, GET, DELETE."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from stiva.api.oci.errors import API_VERSION_HEADER
from stiva.api.oci.request import STREAM_BUFFER, OciRequest, parse_content_range, upload_range
from stiva.errors import DigestMismatch, InvalidDigest, InvalidRange, StivaError
from stiva.metadata import models as m
from stiva.metadata.database import Session
from stiva.oci.digest import Digest
from stiva.oci.names import parse_name
from stiva.services.repositories import find_repository, get_repository
from stiva.services.settings import blob_mounting_enabled
from stiva.services.templates import repository_for_push
from stiva.services.uploads import mount_blob, repositories_holding

MOUNT_CANDIDATES = 20  # repositories an automatic mount considers (sorted by name)


def push_repository(session: Session, req: OciRequest) -> m.Repository:
    """The repository a push starting here writes to: existing, or created by CREATE_ON_PUSH.

    Creating one also needs `ecr:CreateRepository` on it, besides the endpoint's own action.
    """

    return repository_for_push(
        session,
        account_id=req.account_id,
        name=req.name,
        authorize_create=lambda: req.authorize("ecr:CreateRepository"),
    )


def _upload_headers(req: OciRequest, upload_id: str, size: int) -> dict[str, str]:
    return {
        **API_VERSION_HEADER,
        "Location": f"/v2/{req.name}/blobs/uploads/{upload_id}",
        "Range": upload_range(size),
        "Docker-Upload-UUID": upload_id,
    }


def _blob_created(req: OciRequest, digest: Digest) -> Response:
    return Response(
        status_code=201,
        headers={
            **API_VERSION_HEADER,
            "Location": f"/v2/{req.name}/blobs/{digest}",
            "Docker-Content-Digest": str(digest),
        },
    )


async def start_upload(req: OciRequest) -> Response:
    query = req.http.query_params
    if "mount" in query:
        if "from" in query:
            mounted = await _try_mount(req, query["mount"], query["from"])
        else:
            mounted = await _try_automatic_mount(req, query["mount"])
        if mounted is not None:
            return _blob_created(req, mounted)
    digest = Digest.parse(query["digest"]) if "digest" in query else None

    def start(session: Session) -> str:
        repo = push_repository(session, req)
        return req.ctx.uploads.start(session, repository_id=repo.id)

    upload_id = await req.write(start)
    if digest is not None:
        await _append(req, upload_id, start=None)
        await _complete(req, upload_id, digest)
        return _blob_created(req, digest)
    return Response(status_code=202, headers=_upload_headers(req, upload_id, 0))


async def _try_mount(req: OciRequest, mount: str, source: str) -> Digest | None:
    """Mount a blob from another repository of this registry when allowed; else None.

    None (the client then uploads the blob) when the account setting BLOB_MOUNTING is DISABLED,
    the pusher may not read the source, or the source lacks the blob.
    """
    try:
        digest = Digest.parse(mount)
        source_name = parse_name(source)
    except StivaError:
        return None
    if not req.is_allowed("ecr:GetDownloadUrlForLayer", name=source_name):
        return None
    return await _mount(req, digest, source_name)


async def _try_automatic_mount(req: OciRequest, mount: str) -> Digest | None:
    """OCI 1.1's mount without `from`: from a repository of this registry that holds the blob
    and that the pusher may read (ecr:GetDownloadUrlForLayer), as `_try_mount` would; else None
    (an upload session, as the spec allows). Replications to a peer use it: a layer the
    destination holds in another repository is linked, not sent again."""
    try:
        digest = Digest.parse(mount)
    except StivaError:
        return None

    def holders(session: Session) -> list[str]:
        if not blob_mounting_enabled(session, account_id=req.account_id):
            return []
        return repositories_holding(
            session, account_id=req.account_id, digest=digest, limit=MOUNT_CANDIDATES
        )

    for name in await req.read(holders):
        if req.is_allowed("ecr:GetDownloadUrlForLayer", name=name):
            mounted = await _mount(req, digest, name)
            if mounted is not None:
                return mounted
    return None


async def _mount(req: OciRequest, digest: Digest, source_name: str) -> Digest | None:
    """Link blob `digest` of repository `source_name` into this one (the caller may read it)."""

    def mount_from(session: Session) -> Digest | None:
        if not blob_mounting_enabled(session, account_id=req.account_id):
            return None
        origin = find_repository(session, account_id=req.account_id, name=source_name)
        if origin is None:
            return None
        repo = push_repository(session, req)
        size = mount_blob(
            session, repository_id=repo.id, source_repository_id=origin.id, digest=digest
        )
        return digest if size is not None else None

    return await req.write(mount_from)


async def _check_upload(req: OciRequest, upload_id: str) -> None:
    def check(session: Session) -> None:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        req.ctx.uploads.find(session, repository_id=repo.id, upload_id=upload_id)

    await req.read(check)


async def _append(
    req: OciRequest, upload_id: str, *, start: int | None, body: AsyncIterator[bytes] | None = None
) -> int:
    """Stream `body` (by default the request's) onto the upload; return the upload's new size."""
    writer = await run_in_threadpool(req.ctx.uploads.open_chunk, upload_id, start=start)
    try:
        await _pour(body if body is not None else req.http.stream(), writer.write)
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise
    return await run_in_threadpool(writer.close)


async def _pour(chunks: AsyncIterator[bytes], write: Callable[[bytes], object]) -> None:
    """Hand `chunks` to `write` (in the thread pool) in pieces of about STREAM_BUFFER bytes."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= STREAM_BUFFER:
            await run_in_threadpool(write, bytes(buffer))
            buffer.clear()
    if buffer:
        await run_in_threadpool(write, bytes(buffer))


async def _spool(req: OciRequest, spool: tempfile.SpooledTemporaryFile[bytes], length: int) -> None:
    """Read the request body into `spool`; InvalidRange unless it is exactly `length` bytes
    (refused as soon as it runs past them)."""
    total = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal total
        async for chunk in req.http.stream():
            total += len(chunk)
            if total > length:
                raise InvalidRange(
                    f"the chunk runs past the {length} bytes its Content-Range spans"
                )
            yield chunk

    await _pour(counted(), spool.write)
    if total != length:
        raise InvalidRange(f"the chunk holds {total} bytes but its Content-Range spans {length}")


async def _replay(spool: tempfile.SpooledTemporaryFile[bytes]) -> AsyncIterator[bytes]:
    await run_in_threadpool(spool.seek, 0)
    while chunk := await run_in_threadpool(spool.read, STREAM_BUFFER):
        yield chunk


async def _append_sized(req: OciRequest, upload_id: str, content_range: tuple[int, int]) -> int:
    """Append a chunk whose Content-Range comes without a Content-Length (a chunked body):
    spooled first (in memory, on disk past STREAM_BUFFER), so that a body longer or shorter
    than its range is refused with nothing written to the upload."""
    with tempfile.SpooledTemporaryFile(max_size=STREAM_BUFFER) as spool:
        await _spool(req, spool, content_range[1] - content_range[0] + 1)
        return await _append(req, upload_id, start=content_range[0], body=_replay(spool))


class _RangeError(InvalidRange):
    """416 carrying the upload's Location and Range, so the client can resume."""

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.response_headers = headers


async def _range_error(req: OciRequest, upload_id: str, message: str) -> _RangeError:
    size = await run_in_threadpool(req.ctx.uploads.size, upload_id)
    return _RangeError(message, _upload_headers(req, upload_id, size))


def _chunk_range(req: OciRequest) -> tuple[int, int] | None:
    """The chunk's `Content-Range`, checked against `Content-Length` when both are given."""
    content_range = parse_content_range(req.http.headers.get("content-range"))
    declared = req.http.headers.get("content-length") or ""
    if (
        content_range is not None
        and declared.isdigit()
        and int(declared) != content_range[1] - content_range[0] + 1
    ):
        raise InvalidRange(
            f"Content-Range {content_range[0]}-{content_range[1]} does not span the "
            f"{declared} bytes of Content-Length"
        )
    return content_range


async def _append_chunk(req: OciRequest, upload_id: str) -> int:
    """Append the body (a chunk, in order) to the upload; its new size. 416 when out of order,
    or when the body's length is not its Content-Range's (checked before any byte is written:
    against Content-Length when given, else on the spooled body)."""
    await _check_upload(req, upload_id)
    try:
        content_range = _chunk_range(req)
        if content_range is not None and not req.http.headers.get("content-length"):
            size = await _append_sized(req, upload_id, content_range)
        else:
            size = await _append(req, upload_id, start=content_range[0] if content_range else None)
    except InvalidRange as exc:
        raise await _range_error(req, upload_id, exc.message) from None
    if content_range is not None and size != content_range[1] + 1:
        raise await _range_error(
            req,
            upload_id,
            f"Content-Range ends at {content_range[1]} but the upload now ends at {size - 1}",
        )
    return size


async def patch_upload(req: OciRequest) -> Response:
    upload_id = req.params["upload"]
    size = await _append_chunk(req, upload_id)
    return Response(status_code=202, headers=_upload_headers(req, upload_id, size))


async def _complete(req: OciRequest, upload_id: str, digest: Digest) -> None:
    def complete(session: Session) -> int:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        return req.ctx.uploads.complete(
            session, repository_id=repo.id, upload_id=upload_id, digest=digest
        )

    await run_in_threadpool(req.ctx.uploads.stage, upload_id, digest)  # the slow copy, unlocked
    try:
        await req.write(complete)
    except DigestMismatch:
        await _cancel(req, upload_id)  # a rejected upload is over; its bytes go now
        raise


async def _cancel(req: OciRequest, upload_id: str) -> None:
    def cancel(session: Session) -> None:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        req.ctx.uploads.cancel(session, repository_id=repo.id, upload_id=upload_id)

    await req.write(cancel)


async def put_upload(req: OciRequest) -> Response:
    upload_id = req.params["upload"]
    if "digest" not in req.http.query_params:
        raise InvalidDigest("completing an upload needs the ?digest= query parameter")
    digest = Digest.parse(req.http.query_params["digest"])
    await _append_chunk(req, upload_id)
    await _complete(req, upload_id, digest)
    return _blob_created(req, digest)


async def get_upload(req: OciRequest) -> Response:
    upload_id = req.params["upload"]
    await _check_upload(req, upload_id)
    size = await run_in_threadpool(req.ctx.uploads.size, upload_id)
    return Response(status_code=204, headers=_upload_headers(req, upload_id, size))


async def delete_upload(req: OciRequest) -> Response:
    upload_id = req.params["upload"]
    await _cancel(req, upload_id)
    return Response(
        status_code=204, headers={**API_VERSION_HEADER, "Docker-Upload-UUID": upload_id}
    )
