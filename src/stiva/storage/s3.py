"""S3 driver: the byte store in a bucket (AWS S3 or any S3-compatible server), through boto3.

A path `p` is the key `<prefix>/p`; directories are key prefixes. Files being appended to are
chains of segment objects (`stiva.storage.s3_files`), so every byte of an upload in progress is
in the bucket and any node can continue it or read it back; `move` turns a chain into one object
with a multipart upload (server-side part copies). Reads stream with ranged GETs, never whole.

Credentials come from the standard AWS chain (environment, shared files, web identity, instance
or task role); the configuration holds none. When `redirect` is on, `redirect_url` presigns a
GET of the object so blob downloads go to the bucket directly (as ECR's do), for the
`public_endpoint_url` when the nodes and the clients reach the bucket at different addresses.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from stiva.storage.driver import FileInfo, PathNotFound, StorageError
from stiva.storage.s3_files import (
    COPY_BUFFER,
    SEPARATOR,
    Bucket,
    Segment,
    SegmentReader,
    SegmentWriter,
    assemble,
    chain,
    segment_offset,
)

_MISSING = {"404", "NoSuchKey", "NotFound"}
Row = tuple[str, int, datetime]  # a listed object: key, size, last modified
Rows = list[Row]


@dataclass(frozen=True, slots=True)
class S3Options:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    redirect: bool = False
    public_endpoint_url: str | None = None  # where clients reach the bucket (presigned URLs)
    presign_expiry_seconds: int = 1200
    part_size: int = 16 * 1024 * 1024
    addressing_style: str = "auto"  # auto: path style with a custom endpoint, else virtual


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`; ValueError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"'{url}' is not s3://bucket[/prefix]")
    if parts.query or parts.fragment:
        raise ValueError(f"'{url}' must not have a query or fragment")
    prefix = parts.path.strip("/")
    if any(not segment or SEPARATOR in segment for segment in prefix.split("/") if prefix):
        raise ValueError(f"'{url}' has an invalid prefix")
    return parts.netloc, prefix


def _missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING


def make_client(options: S3Options, session: Any = None, *, endpoint_url: str | None = None) -> Any:
    """An S3 client for `options`; credentials from `session` (default: the AWS chain).

    `endpoint_url` replaces `options.endpoint_url` (the presigning client's public endpoint).
    """
    import boto3
    from botocore.config import Config

    endpoint_url = endpoint_url or options.endpoint_url
    style = options.addressing_style
    if style == "auto":
        style = "path" if endpoint_url else "virtual"
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": style},
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        request_checksum_calculation="when_required",  # S3-compatible servers lag on CRCs
        response_checksum_validation="when_required",
    )
    session = session or boto3.session.Session()
    return session.client(
        "s3", endpoint_url=endpoint_url, region_name=options.region, config=config
    )


def open_s3(options: S3Options, session: Any = None) -> S3Driver:
    """A driver on the bucket, checked reachable now; StorageError saying why it is not."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = options.endpoint_url or "AWS S3"
    try:
        client = make_client(options, session)
        client.head_bucket(Bucket=options.bucket)
    except NoCredentialsError:
        raise StorageError(
            "no AWS credentials for the S3 store: set them the standard AWS way "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance/task role)"
        ) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise StorageError(f"S3 bucket '{options.bucket}' does not exist at {where}") from None
        raise StorageError(
            f"S3 bucket '{options.bucket}' at {where} refused access ({code}): {exc}"
        ) from None
    except (BotoCoreError, ValueError) as exc:
        raise StorageError(f"cannot reach the S3 endpoint {where}: {exc}") from None
    presigner = None
    if options.public_endpoint_url:  # signs URLs only: no request reaches that endpoint
        presigner = make_client(options, session, endpoint_url=options.public_endpoint_url)
    return S3Driver(client, options, presigner=presigner)


class S3Driver:
    name = "s3"
    instant_move = False  # a copy (or a multipart assembly of the segments) and a delete

    def __init__(self, client: Any, options: S3Options, *, presigner: Any = None) -> None:
        self.bucket = Bucket(client, options.bucket)
        self.options = options
        self._presigner = presigner or client

    def check(self) -> None:
        self.bucket.head()

    def _key(self, path: str) -> str:
        prefix = self.options.prefix
        return f"{prefix}/{path}" if prefix and path else prefix or path

    def _dir(self, path: str) -> str:
        key = self._key(path)
        return f"{key}/" if key else ""

    def _path(self, key: str) -> str:
        prefix = self.options.prefix
        return key[len(prefix) + 1 :] if prefix else key

    def _objects(self, key: str) -> Rows:
        """The object `key` and its segments (one listing in the usual case)."""
        found: Rows = []
        for page in self.bucket.objects(key):
            found.extend(
                (item["Key"], int(item["Size"]), item["LastModified"])
                for item in page.get("Contents", [])
                if segment_offset(item["Key"], key) is not None
            )
            if page.get("IsTruncated"):  # `key` prefixes a whole tree: ask precisely instead
                return self._head(key) + list(self.bucket.keys(key + SEPARATOR))
        return found

    def _head(self, key: str) -> Rows:
        try:
            head = self.bucket.client.head_object(Bucket=self.bucket.name, Key=key)
        except Exception as exc:
            if _missing(exc):
                return []
            raise
        return [(key, int(head["ContentLength"]), head["LastModified"])]

    def _chain(self, path: str) -> list[Segment]:
        segments = chain(self._key(path), self._objects(self._key(path)))
        if segments is None:
            raise PathNotFound(path)
        return segments

    def stat(self, path: str) -> FileInfo:
        segments = self._chain(path)
        return FileInfo(
            path,
            sum(segment.size for segment in segments),
            max(segment.modified_at for segment in segments),
        )

    def get_content(self, path: str) -> bytes:
        with self.open_read(path) as stream:
            return stream.read()

    def put_content(self, path: str, data: bytes) -> None:
        key = self._key(path)
        self.bucket.put(key, data)
        self.bucket.delete(k for k, _, _ in self.bucket.keys(key + SEPARATOR))

    def open_read(self, path: str, offset: int = 0) -> BinaryIO:
        reader = SegmentReader(self.bucket, self._chain(path), offset)
        return io.BufferedReader(reader, buffer_size=COPY_BUFFER)

    def open_write(self, path: str, *, append: bool = False) -> SegmentWriter:
        key = self._key(path)
        objects = self._objects(key)
        segments = chain(key, objects) if append else None
        if segments is None:
            self.bucket.put(key, b"")
            self.bucket.delete(k for k, _, _ in objects if k != key)
            segments = [Segment(key, 0, 0, datetime.now(UTC))]
        return SegmentWriter(self.bucket, key, segments, self.options.part_size)

    def move(self, source: str, destination: str) -> None:
        source_key = self._key(source)
        objects = self._copy(source, destination)
        self.bucket.delete([*(k for k, _, _ in objects if k != source_key), source_key])

    def copy(self, source: str, destination: str) -> None:
        self._copy(source, destination)

    def _copy(self, source: str, destination: str) -> Rows:
        """Write `source`'s bytes as the one object `destination`; the source's objects."""
        source_key, target = self._key(source), self._key(destination)
        objects = self._objects(source_key)
        segments = chain(source_key, objects)
        if segments is None:
            raise PathNotFound(source)
        self.bucket.delete(k for k, _, _ in self.bucket.keys(target + SEPARATOR))
        parts = [segment for segment in segments if segment.size]
        if len(parts) <= 1:
            copy_source = {"Bucket": self.bucket.name, "Key": (parts or segments)[0].key}
            self.bucket.client.copy(copy_source, self.bucket.name, target)
        else:
            assemble(self.bucket, segments, target, self.options.part_size)
        return objects

    def delete(self, path: str) -> None:
        key = self._key(path)
        objects = self._objects(key)
        if any(k == key for k, _, _ in objects):
            self.bucket.delete([*(k for k, _, _ in objects if k != key), key])
            return
        keys = [k for k, _, _ in self.bucket.keys(self._dir(path))]
        if not keys:
            raise PathNotFound(path)
        keys.sort(key=lambda k: SEPARATOR not in k)  # segments before the files they extend
        self.bucket.delete(keys)

    def list(self, prefix: str) -> list[str]:
        children: set[str] = set()
        for page in self.bucket.objects(self._dir(prefix), delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                children.add(self._path(common["Prefix"].rstrip("/")))
            for item in page.get("Contents", []):
                key = item["Key"]
                if SEPARATOR not in key and not key.endswith("/"):
                    children.add(self._path(key))
        return sorted(children)

    def walk(self, prefix: str) -> Iterator[FileInfo]:
        """Every file under `prefix`; a file's segments sort after every key it prefixes."""
        pending: list[Rows] = []  # a file, then its segments
        for key, size, modified in self.bucket.keys(self._dir(prefix)):
            while pending and not key.startswith(pending[-1][0][0]):
                yield from self._info(pending.pop())
            if SEPARATOR in key:
                base = key.split(SEPARATOR, 1)[0]
                if pending and pending[-1][0][0] == base:
                    pending[-1].append((key, size, modified))
            elif not key.endswith("/"):
                pending.append([(key, size, modified)])
        while pending:
            yield from self._info(pending.pop())

    def _info(self, objects: Rows) -> Iterator[FileInfo]:
        key = objects[0][0]
        segments = chain(key, objects)
        if segments is not None:
            size = sum(segment.size for segment in segments)
            modified = max(segment.modified_at for segment in segments)
            yield FileInfo(self._path(key), size, modified)

    def redirect_url(self, path: str, *, method: str, expires_in: int | None) -> str | None:
        if not self.options.redirect:
            return None
        operation = {"GET": "get_object", "HEAD": "head_object"}.get(method)
        if operation is None:
            return None
        url: str = self._presigner.generate_presigned_url(
            operation,
            Params={"Bucket": self.bucket.name, "Key": self._key(path)},
            ExpiresIn=expires_in or self.options.presign_expiry_seconds,
        )
        return url
