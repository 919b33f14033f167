"""Pushing a manifest: validate it, check what it references, store it, move its tag.

`put_manifest` checks, in the push's unit of work and under the blobs' locks, that every blob and
child manifest it references is in the repository with the size given (the SAFETY INVARIANT of
`services.gc` relies on it); it stores the exact bytes once (a racing push of the same manifest
takes the winner's row), restores an archived image pushed again, and queues scan-on-push and
replication. `services.manifests` re-exports `put_manifest`.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.errors import DigestMismatch, InvalidManifest, ManifestReferencesUnknown
from stiva.metadata import models as m
from stiva.metadata.dialect import lock_blobs
from stiva.oci.digest import Digest
from stiva.oci.manifest import Descriptor, Manifest, parse_manifest
from stiva.oci.names import parse_tag
from stiva.services.mutability import check_tag_move
from stiva.services.replication import outbox as replication
from stiva.services.resolution import is_digest_reference
from stiva.services.scanning import hooks as scanning_hooks
from stiva.services.storage_class import ACTIVE, set_storage_status, storage_class_closure


def put_manifest(
    session: Session,
    *,
    repository: m.Repository,
    reference: str,
    raw: bytes,
    content_type: str | None,
    replicated: bool = False,
) -> Manifest:
    """Validate and store a manifest exactly as pushed, then point the tag (if any) at it.

    Pushing an archived image (or an index whose children are archived) restores them.
    Replication deliveries are queued in this unit of work, unless the push is itself a
    replication (`replicated`: one hop only).
    """
    digest_ref = Digest.parse(reference) if is_digest_reference(reference) else None
    tag = None if digest_ref else parse_tag(reference)
    manifest = parse_manifest(raw, content_type, digest_ref.algorithm if digest_ref else "sha256")
    if digest_ref is not None and manifest.digest != digest_ref:
        raise DigestMismatch(f"the manifest's digest is {manifest.digest}, not {digest_ref}")
    _check_blobs(session, repository, manifest.blob_references())
    children = _check_children(session, repository, manifest.manifests)
    manifest_id, status = _store(session, repository.id, manifest, [c[1] for c in children])
    if status != ACTIVE or any(c[2] != ACTIVE for c in children):
        set_storage_status(
            session,
            manifest_ids=storage_class_closure(
                session, repository_id=repository.id, manifest_id=manifest_id, archiving=False
            ),
            status=ACTIVE,
            now=m.utcnow(),
        )
    if tag is not None:
        _move_tag(session, repository, tag, manifest_id)
    scanning_hooks.image_pushed(
        session, repository=repository, manifest_id=manifest_id, manifest=manifest
    )
    if not replicated:
        replication.image_pushed(
            session,
            repository=repository,
            digest=str(manifest.digest),
            tags=[tag] if tag else [],
        )
    return manifest


def _missing(kind: str, missing: list[str], repository: m.Repository) -> str:
    """ECR's text for a push naming content the repository lacks (kind: Layers or Images)."""
    return (
        f"{kind} with digests '[{', '.join(missing)}]' required for pushing image into "
        f"repository with name '{repository.name}' in the registry with id "
        f"'{repository.account_id}' do not exist"
    )


def _check_blobs(session: Session, repository: m.Repository, refs: list[Descriptor]) -> None:
    if not refs:
        return
    wanted = {str(d.digest) for d in refs}
    lock_blobs(session, wanted)  # against garbage collection (services/gc.py) until the commit
    rows = session.execute(
        select(m.Blob.digest, m.Blob.size)
        .join(m.RepositoryBlob, m.RepositoryBlob.digest == m.Blob.digest)
        .where(m.RepositoryBlob.repository_id == repository.id, m.Blob.digest.in_(wanted))
    )
    sizes = {digest: size for digest, size in rows}
    missing = sorted(wanted - sizes.keys())
    if missing:
        raise ManifestReferencesUnknown(
            _missing("Layers", missing, repository), missing=missing, children=False
        )
    for ref in refs:
        if sizes[str(ref.digest)] != ref.size:
            raise InvalidManifest(
                f"descriptor of {ref.digest} gives size {ref.size}, "
                f"but the blob is {sizes[str(ref.digest)]} bytes"
            )


def _check_children(
    session: Session, repository: m.Repository, refs: tuple[Descriptor, ...]
) -> list[tuple[str, int, str]]:
    """Check an index's children exist here with the sizes given: (digest, image size, status)."""
    if not refs:
        return []
    wanted = {str(d.digest) for d in refs}
    rows = {
        digest: (size, image_size, status)
        for digest, size, image_size, status in session.execute(
            select(
                m.Manifest.digest, m.Manifest.size, m.Manifest.image_size, m.Manifest.image_status
            ).where(m.Manifest.repository_id == repository.id, m.Manifest.digest.in_(wanted))
        )
    }
    missing = sorted(wanted - rows.keys())
    if missing:
        raise ManifestReferencesUnknown(
            _missing("Images", missing, repository), missing=missing, children=True
        )
    for ref in refs:
        if rows[str(ref.digest)][0] != ref.size:
            raise InvalidManifest(
                f"descriptor of {ref.digest} gives size {ref.size}, "
                f"but the manifest is {rows[str(ref.digest)][0]} bytes"
            )
    return [(digest, image_size, status) for digest, (_s, image_size, status) in rows.items()]


def _existing(session: Session, repository_id: int, digest: str) -> tuple[int, str] | None:
    row = session.execute(
        select(m.Manifest.id, m.Manifest.image_status).where(
            m.Manifest.repository_id == repository_id, m.Manifest.digest == digest
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _store(
    session: Session, repository_id: int, manifest: Manifest, child_sizes: list[int]
) -> tuple[int, str]:
    """Store the manifest unless it is there already: (its id, its status before this push).

    Two pushes of the same manifest may race (PostgreSQL runs them concurrently): the insert
    runs in a savepoint, and the loser of the unique constraint takes the winner's row.
    """
    digest = str(manifest.digest)
    existing = _existing(session, repository_id, digest)
    if existing is not None:
        return existing
    row = m.Manifest(
        repository_id=repository_id,
        digest=digest,
        media_type=manifest.media_type,
        artifact_type=manifest.artifact_type,
        config_media_type=manifest.config.media_type if manifest.config else None,
        subject_digest=str(manifest.subject.digest) if manifest.subject else None,
        annotations=json.dumps(manifest.annotations) if manifest.annotations else None,
        size=manifest.size,
        image_size=max(child_sizes, default=0) if manifest.is_index else manifest.image_size(),
        content=manifest.raw,
        image_status=ACTIVE,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raced = _existing(session, repository_id, digest)
        assert raced is not None
        return raced
    blob_digests = {str(d.digest) for d in manifest.blob_references()}
    session.add_all(m.ManifestBlob(manifest_id=row.id, digest=d) for d in blob_digests)
    child_digests = {str(d.digest) for d in manifest.manifests}
    session.add_all(m.ManifestChild(parent_id=row.id, child_digest=d) for d in child_digests)
    return row.id, ACTIVE


def _move_tag(session: Session, repository: m.Repository, tag: str, manifest_id: int) -> None:
    current = session.get(m.ImageTag, (repository.id, tag))
    if current is None:
        try:
            with session.begin_nested():
                session.add(
                    m.ImageTag(repository_id=repository.id, name=tag, manifest_id=manifest_id)
                )
                session.flush()
            return
        except IntegrityError:  # a concurrent push created the tag first: move it as usual
            current = session.get(m.ImageTag, (repository.id, tag), populate_existing=True)
            assert current is not None
    if current.manifest_id == manifest_id:
        return
    check_tag_move(repository, tag)
    current.manifest_id = manifest_id
    current.updated_at = m.utcnow()
