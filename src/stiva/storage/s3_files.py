"""Files on S3 made of segments: how the S3 driver appends, reads and assembles.

S3 objects cannot be appended to, and the parts of a multipart upload cannot be read before it
completes; an upload in progress must be both (each PATCH appends; a node that lacks the hash
state re-reads the bytes to rebuild it). So a file being written is a chain of objects, all of
its state in the bucket, none in a node:

    <key>                      the bytes at offset 0 (a plain file is this object alone)
    <key>~<offset, 20 digits>  the bytes from <offset> on, one object per segment

`~` is not a path character, so no path's key looks like a segment's. A segment counts when it
starts where the previous one ends: a segment starting inside an earlier one is a leftover of a
merge (below) and is skipped; one starting past the end is ignored. Every write is one atomic
PUT, so any node sees, at any time, a consistent prefix of what was appended.

Part rules: every segment except a trailing run of small ones (< 5 MiB, S3's minimum part) is at
least `MIN_PART`. A writer buffers (spooled to disk past the part size) and stores a segment
when its buffer reaches the part size, or on close; when the trailing small run and the new
bytes together reach `MIN_PART`, they are stored as one segment at the run's offset (re-reading
the run, under 5 MiB) and the run's other objects are deleted. So each byte is re-sent at most
once, and `assemble` turns the chain into one object with a multipart upload: a server-side
`UploadPartCopy` per large segment, one uploaded part for the small tail.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from stiva.storage.driver import StorageError

MIN_PART = 5 * 1024 * 1024  # S3's smallest part (but the last)
MAX_PARTS = 10_000
MAX_SEGMENT = 4 * 1024 * 1024 * 1024  # under S3's 5 GiB part and single-PUT limits
COPY_BUFFER = 1024 * 1024
SEPARATOR = "~"


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    offset: int
    size: int
    modified_at: datetime


def segment_key(key: str, offset: int) -> str:
    return key if offset == 0 else f"{key}{SEPARATOR}{offset:020d}"


def segment_offset(key: str, base: str) -> int | None:
    """The offset a segment key of `base` names; None for anything else."""
    if key == base:
        return 0
    suffix = key[len(base) + 1 :]
    if not key.startswith(base + SEPARATOR) or len(suffix) != 20 or not suffix.isdigit():
        return None
    return int(suffix)


def chain(base: str, objects: Iterable[tuple[str, int, datetime]]) -> list[Segment] | None:
    """The segments making up file `base`, in order, from (key, size, modified) listings."""
    segments = _sorted_segments(base, objects)
    if not segments or segments[0].offset != 0:
        return None
    result: list[Segment] = []
    end = 0
    for segment in segments:
        if segment.offset > end:
            break
        if segment.offset == end and (segment.size > 0 or not result):
            result.append(segment)
            end += segment.size
    return result


def _sorted_segments(base: str, objects: Iterable[tuple[str, int, datetime]]) -> list[Segment]:
    found = [
        Segment(key, offset, size, modified)
        for key, size, modified in objects
        if (offset := segment_offset(key, base)) is not None
    ]
    return sorted(found, key=lambda s: s.offset)


class Bucket:
    """The few S3 calls the driver makes, on one bucket."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def head(self) -> None:
        """Raises (a botocore error) unless the bucket answers."""
        self.client.head_bucket(Bucket=self.name)

    def objects(self, prefix: str, *, delimiter: str = "") -> Iterator[dict[str, Any]]:
        """Listing pages of `prefix` (each with `Contents` and `CommonPrefixes`)."""
        paginator = self.client.get_paginator("list_objects_v2")
        options = {"Bucket": self.name, "Prefix": prefix}
        if delimiter:
            options["Delimiter"] = delimiter
        yield from paginator.paginate(**options)

    def keys(self, prefix: str) -> Iterator[tuple[str, int, datetime]]:
        for page in self.objects(prefix):
            for item in page.get("Contents", []):
                yield item["Key"], int(item["Size"]), item["LastModified"]

    def get(self, key: str, start: int = 0) -> Any:
        """The streaming body of `key` from byte `start`."""
        options = {"Bucket": self.name, "Key": key}
        if start:
            options["Range"] = f"bytes={start}-"
        return self.client.get_object(**options)["Body"]

    def put(self, key: str, body: bytes | IO[bytes]) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=body)

    def delete(self, keys: Iterable[str]) -> None:
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == 1000:
                self._delete(batch)
                batch = []
        if batch:
            self._delete(batch)

    def _delete(self, keys: list[str]) -> None:
        objects = [{"Key": key} for key in keys]
        answer = self.client.delete_objects(
            Bucket=self.name, Delete={"Objects": objects, "Quiet": True}
        )
        if answer.get("Errors"):
            error = answer["Errors"][0]
            raise StorageError(f"S3 could not delete {error['Key']}: {error.get('Message')}")

    def copy_into(self, sink: IO[bytes], key: str) -> None:
        body = self.get(key)
        try:
            shutil.copyfileobj(body, sink, COPY_BUFFER)
        finally:
            body.close()


def _spool(limit: int) -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=limit)


class SegmentReader(io.RawIOBase):
    """Reads a chain of segments from an offset, one ranged GET per segment, streaming."""

    def __init__(self, bucket: Bucket, segments: list[Segment], offset: int) -> None:
        super().__init__()
        self._bucket = bucket
        self._segments = segments
        self._position = offset
        self._body: Any = None
        self._end = 0  # where the open body's segment ends

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self._readinto(memoryview(buffer).cast("B"))
        except StorageError:
            raise
        except Exception as exc:  # botocore / urllib3 errors mid-stream: one vocabulary
            raise StorageError(f"reading from S3 failed: {exc}") from exc

    def _readinto(self, view: memoryview) -> int:
        while True:
            if self._body is None and not self._open_next():
                return 0
            data = self._body.read(len(view))
            if data:
                view[: len(data)] = data
                self._position += len(data)
                return len(data)
            self._body.close()
            self._body = None
            if self._position < self._end:
                raise StorageError("a stored file changed while it was being read")

    def _open_next(self) -> bool:
        for segment in self._segments:
            if segment.offset <= self._position < segment.offset + segment.size:
                self._body = self._bucket.get(segment.key, self._position - segment.offset)
                self._end = segment.offset + segment.size
                return True
        return False

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
        super().close()


class SegmentWriter:
    """Appends to a file of segments (see the module docstring); one per request."""

    def __init__(self, bucket: Bucket, key: str, segments: list[Segment], part_size: int) -> None:
        self._bucket = bucket
        self._key = key
        self._segments = segments
        self._part_size = part_size
        self._buffer = _spool(part_size)
        self._buffered = 0
        self._closed = False

    @property
    def size(self) -> int:
        return self._stored + self._buffered

    @property
    def _stored(self) -> int:
        return sum(segment.size for segment in self._segments)

    def write(self, data: bytes) -> None:
        if self._closed:
            raise StorageError("write to a closed writer")
        self._buffer.write(data)
        self._buffered += len(data)
        if self._buffered >= self._target():
            self._flush()

    def _target(self) -> int:
        """The segment size: the part size, growing with the file to stay under 10,000 parts."""
        return min(max(self._part_size, self._stored // 1024), MAX_SEGMENT)

    def _flush(self) -> None:
        if not self._buffered:
            return
        run = self._small_run()
        run_bytes = sum(segment.size for segment in run)
        if run and (run_bytes == 0 or run_bytes + self._buffered >= MIN_PART):
            self._merge(run, run_bytes)
        else:
            offset = self._stored
            self._buffer.seek(0)
            self._bucket.put(segment_key(self._key, offset), self._buffer)
            self._segments.append(
                Segment(segment_key(self._key, offset), offset, self._buffered, _now())
            )
        self._buffer.close()
        self._buffer = _spool(self._part_size)
        self._buffered = 0

    def _small_run(self) -> list[Segment]:
        run: list[Segment] = []
        for segment in reversed(self._segments):
            if segment.size >= MIN_PART:
                break
            run.insert(0, segment)
        return run

    def _merge(self, run: list[Segment], run_bytes: int) -> None:
        """Store the small run and the buffer as one segment at the run's offset."""
        with _spool(self._part_size) as merged:
            for segment in run:
                if segment.size:
                    self._bucket.copy_into(merged, segment.key)
            self._buffer.seek(0)
            shutil.copyfileobj(self._buffer, merged, COPY_BUFFER)
            merged.seek(0)
            self._bucket.put(run[0].key, merged)
        self._bucket.delete(segment.key for segment in run[1:])
        del self._segments[len(self._segments) - len(run) :]
        self._segments.append(
            Segment(run[0].key, run[0].offset, run_bytes + self._buffered, _now())
        )

    def commit(self) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._flush()
        finally:
            self._closed = True
            self._buffer.close()

    def cancel(self) -> None:
        self._closed = True
        self._buffer.close()
        keys = [s.key for s in self._segments if s.key != self._key]
        self._bucket.delete([*keys, self._key])


def _now() -> datetime:
    return datetime.now(UTC)


def assemble(bucket: Bucket, segments: list[Segment], destination: str, part_size: int) -> None:
    """Write the chain's bytes as the one object `destination` with a multipart upload."""
    parts = _plan(segments)
    if len(parts) > MAX_PARTS:  # many chunks of a few MiB: fewer, larger parts, copied here
        total = sum(segment.size for segment in segments)
        parts = _plan(segments, min_part=-(-total // (MAX_PARTS - 1)))
    if len(parts) > MAX_PARTS:
        raise StorageError(f"a file of {len(parts)} parts exceeds S3's {MAX_PARTS}")
    client = bucket.client
    upload = client.create_multipart_upload(Bucket=bucket.name, Key=destination)["UploadId"]
    common = {"Bucket": bucket.name, "Key": destination, "UploadId": upload}
    try:
        done = []
        for number, group in enumerate(parts, start=1):
            if len(group) == 1 and group[0].size >= MIN_PART:
                source = {"Bucket": bucket.name, "Key": group[0].key}
                answer = client.upload_part_copy(**common, PartNumber=number, CopySource=source)
                etag = answer["CopyPartResult"]["ETag"]
            else:
                with _spool(part_size) as body:
                    for segment in group:
                        bucket.copy_into(body, segment.key)
                    body.seek(0)
                    etag = client.upload_part(**common, PartNumber=number, Body=body)["ETag"]
            done.append({"PartNumber": number, "ETag": etag})
        client.complete_multipart_upload(**common, MultipartUpload={"Parts": done})
    except BaseException:
        client.abort_multipart_upload(**common)
        raise


def _plan(segments: list[Segment], *, min_part: int = MIN_PART) -> list[list[Segment]]:
    """Group segments into parts: a segment of `min_part` bytes or more alone (a server-side
    copy), smaller neighbours together until they reach `min_part` (copied through this node).

    Every part but the last has at least `min_part` bytes, so there are at most
    total / min_part + 1 parts; a group stays under min_part + MAX_SEGMENT bytes, within S3's
    5 GiB part limit for any file up to its 5 TiB object limit.
    """
    parts: list[list[Segment]] = []
    pending: list[Segment] = []
    pending_bytes = 0
    for segment in segments:
        if not segment.size:
            continue
        if segment.size >= min_part and not pending:
            parts.append([segment])
            continue
        pending.append(segment)
        pending_bytes += segment.size
        if pending_bytes >= min_part:
            parts.append(pending)
            pending, pending_bytes = [], 0
    if pending:
        parts.append(pending)
    return parts
