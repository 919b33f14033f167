"""Blob uploads: start, append chunks, complete (verify + commit), cancel, mount.

An upload is a row (which repository it belongs to) plus a file in the byte store that chunks are
appended to. The file's size is the upload's offset, so a session survives a restart and can
continue on any node. Hashing is incremental while streaming: each node keeps the hash state of
the uploads it is serving (`HashCache`); a node without the state (after a restart, or when the
previous chunk went to another node) rebuilds it by reading the bytes already stored once.

ECR's layer-part API (`services/layers.py`) drives the same machinery: InitiateLayerUpload is
`start`, each UploadLayerPart one `open_chunk`, CompleteLayerUpload `digest_of` + `commit`; the
row's part columns (part_count, last_part_size, undersized_part) carry ECR's part-size rule.

Garbage collection (`services/gc.py`) runs beside uploads: completion and mounts take the blob's
lock (`dialect.lock_blobs`) before they look at the blob's file or row, so the existence check,
the move into place and the link happen as one step against a collector deleting that blob. On
object stores, where a move copies the bytes, `stage` copies them into place beforehand, without
locks, so the unit of work only checks and links (the upload's bytes stay until then, so a copy
that a collector deletes meanwhile costs a move, never data). A session's last activity, for the
collector, is the later of its row's `updated_at` and its data file's modification time (every
chunk appends to the file).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from stiva.errors import DigestMismatch, InvalidRange, UploadNotFound
from stiva.metadata import models as m
from stiva.metadata.dialect import insert_ignore, lock_blobs
from stiva.metadata.locks import UploadLock, UploadLocks
from stiva.oci.digest import Digest, Hasher, new_hasher
from stiva.storage.base import Storage
from stiva.storage.driver import PathNotFound, StorageError, Writer
from stiva.storage.layout import blob_path, upload_dir, upload_path

READ_CHUNK = 1024 * 1024


class HashCache:
    """sha256 states of uploads in progress on this node, keyed by upload id and offset."""

    def __init__(self, capacity: int = 4096) -> None:
        self._states: OrderedDict[str, tuple[int, Hasher]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def take(self, upload_id: str, size: int) -> Hasher | None:
        with self._lock:
            state = self._states.pop(upload_id, None)
        return state[1] if state is not None and state[0] == size else None

    def put(self, upload_id: str, size: int, hasher: Hasher) -> None:
        with self._lock:
            self._states[upload_id] = (size, hasher)
            while len(self._states) > self._capacity:
                self._states.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._states.pop(upload_id, None)


class ChunkWriter:
    """Appends one chunk to an upload, hashing as it goes; one per request, not thread-safe.

    It holds the session's lock (`metadata.locks`) from its opening until `close` or `abort`.
    """

    def __init__(
        self, upload_id: str, writer: Writer, hasher: Hasher, cache: HashCache, lock: UploadLock
    ) -> None:
        self.upload_id = upload_id
        self.start = writer.size
        self._writer = writer
        self._hasher = hasher
        self._cache = cache
        self._lock = lock

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, data: bytes) -> None:
        self._writer.write(data)
        self._hasher.update(data)

    def close(self) -> int:
        """Finish the chunk; the upload's hash state stays cached for the next chunk."""
        try:
            self._writer.close()
            self._cache.put(self.upload_id, self._writer.size, self._hasher)
            return self._writer.size
        finally:
            self._lock.release()

    def abort(self) -> None:
        """Stop after a failure: what reached storage stays, the hash state is rebuilt later."""
        try:
            self._cache.drop(self.upload_id)
            self._writer.close()
        finally:
            self._lock.release()


class Uploads:
    def __init__(
        self, storage: Storage, cache: HashCache | None = None, locks: UploadLocks | None = None
    ) -> None:
        self.storage = storage
        self.cache = cache or HashCache()
        self.locks = locks or UploadLocks(None)

    @contextlib.contextmanager
    def exclusive(self, upload_id: str, session: Session | None = None) -> Iterator[None]:
        """Hold the session's lock: no chunk is appended meanwhile (not re-entrant). Inside a
        unit of work, pass its `session`: the lock is then taken on its connection (and may
        last until it ends)."""
        lock = self.locks.lock(upload_id, session)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def start(self, session: Session, *, repository_id: int) -> str:
        upload_id = str(uuid.uuid4())
        self.storage.open_write(upload_path(upload_id)).commit()
        session.add(m.Upload(id=upload_id, repository_id=repository_id))
        self.cache.put(upload_id, 0, new_hasher("sha256"))  # the first chunk reads nothing back
        return upload_id

    def find(self, session: Session, *, repository_id: int, upload_id: str) -> m.Upload:
        row = session.get(m.Upload, upload_id) if _is_uuid(upload_id) else None
        if row is None or row.repository_id != repository_id:
            raise UploadNotFound(f"upload {upload_id[:64]} is unknown to this repository")
        return row

    def size(self, upload_id: str) -> int:
        try:
            return self.storage.stat(upload_path(upload_id)).size
        except PathNotFound:
            raise UploadNotFound(f"upload {upload_id} has no data") from None

    def open_chunk(
        self, upload_id: str, *, start: int | None, session: Session | None = None
    ) -> ChunkWriter:
        """A writer continuing the upload, holding its lock; `start` (from Content-Range) must
        equal its size. `session`: the unit of work this runs in, if any (see `exclusive`)."""
        lock = self.locks.lock(upload_id, session)
        lock.acquire()
        try:
            return self._open_chunk(upload_id, start, lock)
        except BaseException:
            lock.release()
            raise

    def _open_chunk(self, upload_id: str, start: int | None, lock: UploadLock) -> ChunkWriter:
        current = self.size(upload_id)
        if start is not None and start != current:
            raise InvalidRange(
                f"chunk starts at byte {start} but the upload holds {current} bytes",
                current_size=current,
            )
        hasher = self.cache.take(upload_id, current) or self._rehash(upload_id, "sha256")
        try:
            writer = self.storage.open_write(upload_path(upload_id), append=True)
        except StorageError:
            self.size(upload_id)  # UploadNotFound when a collector deleted the session meanwhile
            raise
        if writer.size < current:  # deleted meanwhile (idle), its file re-created empty here
            writer.close()
            raise UploadNotFound(f"upload {upload_id} was deleted")
        return ChunkWriter(upload_id, writer, hasher, self.cache, lock)

    def _rehash(self, upload_id: str, algorithm: str) -> Hasher:
        hasher = new_hasher(algorithm)
        try:
            stream = self.storage.open_read(upload_path(upload_id))
        except PathNotFound:
            raise UploadNotFound(f"upload {upload_id} has no data") from None
        with stream:
            while chunk := stream.read(READ_CHUNK):
                hasher.update(chunk)
        return hasher

    def digest_of(self, upload_id: str, algorithm: str, *, size: int) -> Digest:
        """The digest of the upload's `size` bytes; sha256 from the cached state when there is one.

        The sha256 state stays cached, so a later `complete` does not hash the bytes again.
        """
        cached = self.cache.take(upload_id, size) if algorithm == "sha256" else None
        hasher = cached or self._rehash(upload_id, algorithm)
        if algorithm == "sha256":
            self.cache.put(upload_id, size, hasher)
        return Digest(algorithm, hasher.hexdigest())

    def stage(self, upload_id: str, digest: Digest) -> None:
        """Copy the upload's bytes to the path of blob `digest` ahead of completion, outside any
        unit of work, on stores where a move copies the bytes (S3: a multipart assembly).

        Only when they hash to `digest`; only when that path holds nothing. `commit` then finds
        the file in place and just links it, instead of copying while it holds the database's
        locks. The copy is a file without a row until then: a collection may delete it (it takes
        the blob's lock and sees no row), and `commit` then moves the upload's bytes, still
        there, as it would have anyway. Nothing is lost either way.
        """
        if self.storage.instant_move:
            return
        with self.exclusive(upload_id), contextlib.suppress(UploadNotFound):
            size = self.size(upload_id)
            if self.digest_of(upload_id, digest.algorithm, size=size) != digest:
                return  # completion refuses it (DigestMismatch)
            try:
                self.storage.stat(blob_path(digest))
            except PathNotFound:
                self.storage.copy(upload_path(upload_id), blob_path(digest))

    def complete(
        self, session: Session, *, repository_id: int, upload_id: str, digest: Digest
    ) -> int:
        """Check the upload hashes to `digest`, commit it as that blob, link it; return its size.

        On DigestMismatch nothing changes here (this unit of work rolls back): the caller ends the
        failed upload with `cancel` in a unit of work of its own.
        """
        self._hold(session, repository_id, upload_id)
        with self.exclusive(upload_id, session):  # no chunk lands between the hash and the move
            size = self.size(upload_id)
            actual = self.digest_of(upload_id, digest.algorithm, size=size)
            if actual != digest:
                raise DigestMismatch(f"the upload's content has digest {actual}, not {digest}")
            self.commit(session, repository_id=repository_id, upload_id=upload_id, digest=digest)
        return size

    def commit(
        self, session: Session, *, repository_id: int, upload_id: str, digest: Digest
    ) -> int:
        """Make the upload blob `digest` (already verified by the caller) and link it; its size.

        The caller holds the session's lock (`exclusive`) across its verification and this.

        Under the blob's lock, so a collector cannot delete the file between the existence check
        and the link (nor the row between the link and the commit); and only while the session's
        row exists (a collector deletes an idle session's row before its data).
        """
        self._hold(session, repository_id, upload_id)
        lock_blobs(session, [str(digest)])
        size = self.size(upload_id)
        self.storage.open_write(upload_path(upload_id), append=True).commit()  # fsync
        try:
            self.storage.stat(blob_path(digest))
        except PathNotFound:
            self.storage.move(upload_path(upload_id), blob_path(digest))
        link_blob(session, repository_id=repository_id, digest=digest, size=size)
        self._forget(session, upload_id)
        return size

    def _hold(self, session: Session, repository_id: int, upload_id: str) -> None:
        """The session's row, locked until this unit of work ends; UploadNotFound when gone."""
        row = session.get(m.Upload, upload_id, with_for_update=True)
        if row is None or row.repository_id != repository_id:
            raise UploadNotFound(f"upload {upload_id[:64]} is unknown to this repository")

    def cancel(self, session: Session, *, repository_id: int, upload_id: str) -> None:
        self.find(session, repository_id=repository_id, upload_id=upload_id)
        self._forget(session, upload_id)

    def _forget(self, session: Session, upload_id: str) -> None:
        self.cache.drop(upload_id)
        session.execute(delete(m.Upload).where(m.Upload.id == upload_id))
        with contextlib.suppress(PathNotFound):
            self.storage.delete(upload_dir(upload_id))


def link_blob(session: Session, *, repository_id: int, digest: Digest, size: int) -> None:
    """Record that blob `digest` exists and that the repository may use it.

    The caller holds the blob's lock. Linking again renews the link's `created_at`: a push that
    uploads or mounts a blob gets the whole grace period to push the manifest that needs it.
    """
    now = m.utcnow()
    insert_ignore(
        session,
        m.Blob.__table__,  # type: ignore[arg-type]
        [{"digest": str(digest), "size": size, "created_at": now}],
    )
    insert_ignore(
        session,
        m.RepositoryBlob.__table__,  # type: ignore[arg-type]
        [{"repository_id": repository_id, "digest": str(digest), "created_at": now}],
    )
    session.execute(
        update(m.RepositoryBlob)
        .where(
            m.RepositoryBlob.repository_id == repository_id,
            m.RepositoryBlob.digest == str(digest),
            m.RepositoryBlob.created_at < now,
        )
        .values(created_at=now)
    )


def mount_blob(
    session: Session, *, repository_id: int, source_repository_id: int, digest: Digest
) -> int | None:
    """Link a blob the source repository holds into this one; its size, or None if absent."""
    lock_blobs(session, [str(digest)])
    size = session.scalar(
        select(m.Blob.size)
        .join(m.RepositoryBlob, m.RepositoryBlob.digest == m.Blob.digest)
        .where(
            m.RepositoryBlob.repository_id == source_repository_id,
            m.Blob.digest == str(digest),
        )
    )
    if size is None:
        return None
    link_blob(session, repository_id=repository_id, digest=digest, size=size)
    return size


def repositories_holding(
    session: Session, *, account_id: str, digest: Digest, limit: int
) -> list[str]:
    """Names of repositories of a registry that hold blob `digest` (at most `limit`, sorted)."""
    return list(
        session.scalars(
            select(m.Repository.name)
            .join(m.RepositoryBlob, m.RepositoryBlob.repository_id == m.Repository.id)
            .where(m.Repository.account_id == account_id, m.RepositoryBlob.digest == str(digest))
            .order_by(m.Repository.name)
            .limit(limit)
        )
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
