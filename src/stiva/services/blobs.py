"""Blobs as a repository sees them: stat, read, unlink."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stiva.errors import BlobNotFound
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.storage.base import Storage
from stiva.storage.driver import PathNotFound
from stiva.storage.layout import blob_path


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: Digest
    size: int


def stat_blob(session: Session, *, repository_id: int, digest: Digest) -> BlobInfo:
    """The blob if this repository may use it; BlobNotFound otherwise."""
    size = session.scalar(
        select(m.Blob.size)
        .join(m.RepositoryBlob, m.RepositoryBlob.digest == m.Blob.digest)
        .where(m.RepositoryBlob.repository_id == repository_id, m.Blob.digest == str(digest))
    )
    if size is None:
        raise BlobNotFound(f"blob {digest} is unknown to this repository")
    return BlobInfo(digest, size)


def open_blob(storage: Storage, digest: Digest, offset: int = 0) -> BinaryIO:
    try:
        return storage.open_read(blob_path(digest), offset)
    except PathNotFound:
        raise BlobNotFound(f"blob {digest} is missing from storage") from None


def delete_blob(session: Session, *, repository_id: int, digest: Digest) -> None:
    """Unlink the blob from the repository; its bytes go when no repository holds them (GC)."""
    stat_blob(session, repository_id=repository_id, digest=digest)
    session.execute(
        delete(m.RepositoryBlob).where(
            m.RepositoryBlob.repository_id == repository_id,
            m.RepositoryBlob.digest == str(digest),
        )
    )
