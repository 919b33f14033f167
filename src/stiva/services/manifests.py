"""Manifests and image tags: push (put_manifest), pull (resolve), delete, list tags, referrers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from stiva.errors import (
    DigestMismatch,
    ImageReferencedByIndex,
    InvalidManifest,
    ManifestNotFound,
    ManifestReferencesUnknown,
    RepositoryNotFound,
)
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.oci.manifest import Descriptor, Manifest, parse_manifest
from stiva.oci.names import is_tag, parse_tag
from stiva.services.mutability import check_tag_move


@dataclass(frozen=True, slots=True)
class StoredManifest:
    id: int
    repository_id: int
    digest: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Referrer:
    media_type: str
    digest: str
    size: int
    artifact_type: str | None
    annotations: dict[str, str]


def is_digest_reference(reference: str) -> bool:
    """A reference with a colon is a digest (tags cannot hold one), valid or not."""
    return ":" in reference


def _unknown_reference(reference: str, name: str) -> ManifestNotFound:
    return ManifestNotFound(f"manifest {reference[:300]} is unknown to repository {name}")


_SELECT_STORED = select(
    m.Manifest.id,
    m.Manifest.repository_id,
    m.Manifest.digest,
    m.Manifest.media_type,
    m.Manifest.content,
)


_IN_REPOSITORY = (m.Repository.account_id == bindparam("account_id")) & (
    m.Repository.name == bindparam("name")
)
_RESOLVE_TAG = (
    _SELECT_STORED.join(m.Repository, m.Repository.id == m.Manifest.repository_id)
    .join(m.ImageTag, m.ImageTag.manifest_id == m.Manifest.id)
    .where(
        _IN_REPOSITORY,
        m.ImageTag.repository_id == m.Repository.id,
        m.ImageTag.name == bindparam("reference"),
    )
)
_RESOLVE_DIGEST = _SELECT_STORED.join(
    m.Repository, m.Repository.id == m.Manifest.repository_id
).where(_IN_REPOSITORY, m.Manifest.digest == bindparam("reference"))
_REPOSITORY_ID = select(m.Repository.id).where(_IN_REPOSITORY)


def resolve(
    session: Session | Connection, *, account_id: str, name: str, reference: str
) -> StoredManifest:
    """The manifest `reference` (tag or digest) names in a repository: the pull hot path.

    Its statements are built once, with bound parameters: building and cache-keying them on
    each call cost more than running them.
    """
    params = {"account_id": account_id, "name": name, "reference": reference}
    if is_digest_reference(reference):
        params["reference"] = str(Digest.parse(reference))
        row = session.execute(_RESOLVE_DIGEST, params).first()
    elif not is_tag(reference):
        raise _unknown_reference(reference, name)  # no such tag can exist: 404, as for any other
    else:
        row = session.execute(_RESOLVE_TAG, params).first()
    if row is not None:
        return StoredManifest(*row)
    if session.execute(_REPOSITORY_ID, params).first() is None:
        raise RepositoryNotFound(name, account_id)
    raise _unknown_reference(reference, name)


def put_manifest(
    session: Session,
    *,
    repository: m.Repository,
    reference: str,
    raw: bytes,
    content_type: str | None,
) -> Manifest:
    """Validate and store a manifest exactly as pushed, then point the tag (if any) at it."""
    digest_ref = Digest.parse(reference) if is_digest_reference(reference) else None
    tag = None if digest_ref else parse_tag(reference)
    manifest = parse_manifest(raw, content_type, digest_ref.algorithm if digest_ref else "sha256")
    if digest_ref is not None and manifest.digest != digest_ref:
        raise DigestMismatch(f"the manifest's digest is {manifest.digest}, not {digest_ref}")
    _check_blobs(session, repository.id, manifest.blob_references())
    child_sizes = _check_children(session, repository.id, manifest.manifests)
    manifest_id = _store(session, repository.id, manifest, child_sizes)
    if tag is not None:
        _move_tag(session, repository, tag, manifest_id)
    return manifest


def _check_blobs(session: Session, repository_id: int, refs: list[Descriptor]) -> None:
    if not refs:
        return
    wanted = {str(d.digest) for d in refs}
    rows = session.execute(
        select(m.Blob.digest, m.Blob.size)
        .join(m.RepositoryBlob, m.RepositoryBlob.digest == m.Blob.digest)
        .where(m.RepositoryBlob.repository_id == repository_id, m.Blob.digest.in_(wanted))
    )
    sizes = {digest: size for digest, size in rows}
    missing = sorted(wanted - sizes.keys())
    if missing:
        raise ManifestReferencesUnknown(
            f"the manifest references blobs this repository does not hold: {', '.join(missing)}",
            missing=missing,
            children=False,
        )
    for ref in refs:
        if sizes[str(ref.digest)] != ref.size:
            raise InvalidManifest(
                f"descriptor of {ref.digest} gives size {ref.size}, "
                f"but the blob is {sizes[str(ref.digest)]} bytes"
            )


def _check_children(
    session: Session, repository_id: int, refs: tuple[Descriptor, ...]
) -> list[int]:
    """Check an index's children exist here with the sizes given; return their image sizes."""
    if not refs:
        return []
    wanted = {str(d.digest) for d in refs}
    rows = {
        digest: (size, image_size)
        for digest, size, image_size in session.execute(
            select(m.Manifest.digest, m.Manifest.size, m.Manifest.image_size).where(
                m.Manifest.repository_id == repository_id, m.Manifest.digest.in_(wanted)
            )
        )
    }
    missing = sorted(wanted - rows.keys())
    if missing:
        raise ManifestReferencesUnknown(
            f"the index references manifests this repository does not hold: {', '.join(missing)}",
            missing=missing,
            children=True,
        )
    for ref in refs:
        if rows[str(ref.digest)][0] != ref.size:
            raise InvalidManifest(
                f"descriptor of {ref.digest} gives size {ref.size}, "
                f"but the manifest is {rows[str(ref.digest)][0]} bytes"
            )
    return [image_size for _size, image_size in rows.values()]


def _store(session: Session, repository_id: int, manifest: Manifest, child_sizes: list[int]) -> int:
    existing = session.scalar(
        select(m.Manifest.id).where(
            m.Manifest.repository_id == repository_id, m.Manifest.digest == str(manifest.digest)
        )
    )
    if existing is not None:
        return existing
    row = m.Manifest(
        repository_id=repository_id,
        digest=str(manifest.digest),
        media_type=manifest.media_type,
        artifact_type=manifest.artifact_type,
        config_media_type=manifest.config.media_type if manifest.config else None,
        subject_digest=str(manifest.subject.digest) if manifest.subject else None,
        annotations=json.dumps(manifest.annotations) if manifest.annotations else None,
        size=manifest.size,
        image_size=max(child_sizes, default=0) if manifest.is_index else manifest.image_size(),
        content=manifest.raw,
    )
    session.add(row)
    session.flush()
    blob_digests = {str(d.digest) for d in manifest.blob_references()}
    session.add_all(m.ManifestBlob(manifest_id=row.id, digest=d) for d in blob_digests)
    child_digests = {str(d.digest) for d in manifest.manifests}
    session.add_all(m.ManifestChild(parent_id=row.id, child_digest=d) for d in child_digests)
    return row.id


def _move_tag(session: Session, repository: m.Repository, tag: str, manifest_id: int) -> None:
    current = session.get(m.ImageTag, (repository.id, tag))
    if current is None:
        session.add(m.ImageTag(repository_id=repository.id, name=tag, manifest_id=manifest_id))
        return
    if current.manifest_id == manifest_id:
        return
    check_tag_move(repository, tag)
    current.manifest_id = manifest_id
    current.updated_at = m.utcnow()


def delete_manifest(session: Session, *, repository: m.Repository, digest: Digest) -> None:
    """Delete a manifest and every tag on it; refused while an index in the repository uses it."""
    row = session.scalar(
        select(m.Manifest).where(
            m.Manifest.repository_id == repository.id, m.Manifest.digest == str(digest)
        )
    )
    if row is None:
        raise ManifestNotFound(f"manifest {digest} is unknown to repository {repository.name}")
    parent = session.scalar(
        select(m.Manifest.digest)
        .join(m.ManifestChild, m.ManifestChild.parent_id == m.Manifest.id)
        .where(
            m.Manifest.repository_id == repository.id, m.ManifestChild.child_digest == row.digest
        )
        .limit(1)
    )
    if parent is not None:
        raise ImageReferencedByIndex(
            f"The image with digest {digest} is referenced by the manifest list {parent} "
            "and cannot be deleted while that manifest list exists"
        )
    session.execute(delete(m.ImageTag).where(m.ImageTag.manifest_id == row.id))
    session.execute(delete(m.ManifestBlob).where(m.ManifestBlob.manifest_id == row.id))
    session.execute(delete(m.ManifestChild).where(m.ManifestChild.parent_id == row.id))
    session.delete(row)


def delete_tag(session: Session, *, repository: m.Repository, tag: str) -> None:
    row = session.get(m.ImageTag, (repository.id, tag)) if is_tag(tag) else None
    if row is None:
        raise ManifestNotFound(f"tag {tag[:300]} is unknown to repository {repository.name}")
    session.delete(row)


def list_tags(
    session: Session, *, repository_id: int, last: str | None, n: int | None
) -> list[str]:
    query = select(m.ImageTag.name).where(m.ImageTag.repository_id == repository_id)
    if last:
        query = query.where(m.ImageTag.name > last)
    query = query.order_by(m.ImageTag.name)
    if n is not None:
        query = query.limit(n)
    return list(session.scalars(query))


def list_referrers(
    session: Session, *, repository_id: int, subject: Digest, artifact_type: str | None
) -> list[Referrer]:
    rows = session.execute(
        select(
            m.Manifest.media_type,
            m.Manifest.digest,
            m.Manifest.size,
            m.Manifest.artifact_type,
            m.Manifest.config_media_type,
            m.Manifest.annotations,
        )
        .where(m.Manifest.repository_id == repository_id, m.Manifest.subject_digest == str(subject))
        .order_by(m.Manifest.pushed_at, m.Manifest.id)
    )
    referrers = [
        Referrer(
            media_type=media_type,
            digest=digest,
            size=size,
            artifact_type=explicit or config_type,
            annotations=json.loads(annotations) if annotations else {},
        )
        for media_type, digest, size, explicit, config_type, annotations in rows
    ]
    if artifact_type is not None:
        referrers = [r for r in referrers if r.artifact_type == artifact_type]
    return referrers


def record_pulls(session: Session, pulls: dict[int, datetime]) -> None:
    """Advance `last_pulled_at` of each manifest (never backwards)."""
    for manifest_id, when in pulls.items():
        session.execute(
            update(m.Manifest)
            .where(
                m.Manifest.id == manifest_id,
                (m.Manifest.last_pulled_at.is_(None)) | (m.Manifest.last_pulled_at < when),
            )
            .values(last_pulled_at=when)
        )
