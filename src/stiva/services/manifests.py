"""Manifests and image tags: push (put_manifest), pull (resolve), delete, list tags, referrers,
and the storage class of images (archive and restore).

An archived image (`image_status` ARCHIVED, or ACTIVATING while a restore runs) keeps its row
and bytes but cannot be pulled: `resolve` answers ManifestNotFound saying so, by tag and by
digest, as ECR's registry answers 404. Archiving or restoring an image carries along what it is
made of and what refers to it (`storage_class_closure`); pushing an archived image again
restores it at once (ECR: "the image will be immediately restored").
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from stiva.errors import (
    DigestMismatch,
    ImageReferencedByIndex,
    InvalidManifest,
    ManifestNotFound,
    ManifestReferencesUnknown,
    RepositoryNotFound,
)
from stiva.metadata import models as m
from stiva.metadata.dialect import lock_blobs
from stiva.oci.digest import Digest
from stiva.oci.manifest import Descriptor, Manifest, parse_manifest
from stiva.oci.names import is_tag, parse_tag
from stiva.services.mutability import check_tag_move
from stiva.services.replication import outbox as replication
from stiva.services.scanning import hooks as scanning_hooks

ACTIVE, ARCHIVED, ACTIVATING = "ACTIVE", "ARCHIVED", "ACTIVATING"


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
    status: str = ACTIVE
    id: int = 0


def is_digest_reference(reference: str) -> bool:
    """A reference with a colon is a digest (tags cannot hold one), valid or not."""
    return ":" in reference


def _unknown_reference(reference: str, name: str) -> ManifestNotFound:
    return ManifestNotFound(f"manifest {reference[:300]} is unknown to repository {name}")


def _archived(reference: str, name: str, status: str) -> ManifestNotFound:
    state = "being restored" if status == ACTIVATING else "archived"
    return ManifestNotFound(
        f"manifest {reference[:300]} in repository {name} is {state} and cannot be pulled; "
        "restore it (UpdateImageStorageClass to STANDARD, or push it again) to pull it"
    )


_SELECT_STORED = select(
    m.Manifest.id,
    m.Manifest.repository_id,
    m.Manifest.digest,
    m.Manifest.media_type,
    m.Manifest.content,
    m.Manifest.image_status,
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
    each call cost more than running them. An archived image is not pullable (ManifestNotFound
    saying it is archived); its status comes with the row, so a pull costs one query.
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
        if row[5] != ACTIVE:
            raise _archived(reference, name, row[5])
        return StoredManifest(row[0], row[1], row[2], row[3], row[4])
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


def index_using(session: Session, *, repository_id: int, digest: str) -> str | None:
    """The digest of an index in the repository that lists `digest` as a child, if any."""
    return session.scalar(
        select(m.Manifest.digest)
        .join(m.ManifestChild, m.ManifestChild.parent_id == m.Manifest.id)
        .where(m.Manifest.repository_id == repository_id, m.ManifestChild.child_digest == digest)
        .order_by(m.Manifest.id)
        .limit(1)
    )


def delete_manifest(
    session: Session, *, repository: m.Repository, digest: Digest, replicated: bool = False
) -> list[str]:
    """Delete a manifest and every tag on it (returned, sorted); refused while an index in the
    repository uses it (ECR's ImageReferencedByManifestList)."""
    row = session.scalar(
        select(m.Manifest).where(
            m.Manifest.repository_id == repository.id, m.Manifest.digest == str(digest)
        )
    )
    if row is None:
        raise ManifestNotFound(f"manifest {digest} is unknown to repository {repository.name}")
    parent = index_using(session, repository_id=repository.id, digest=row.digest)
    if parent is not None:
        raise ImageReferencedByIndex(
            f"The image with digest {digest} is referenced by the manifest list {parent} "
            "and cannot be deleted while that manifest list exists"
        )
    tags = sorted(session.scalars(select(m.ImageTag.name).where(m.ImageTag.manifest_id == row.id)))
    session.execute(delete(m.ImageTag).where(m.ImageTag.manifest_id == row.id))
    session.execute(delete(m.ManifestBlob).where(m.ManifestBlob.manifest_id == row.id))
    session.execute(delete(m.ManifestChild).where(m.ManifestChild.parent_id == row.id))
    session.delete(row)
    if not replicated:
        replication.image_deleted(session, repository=repository, digest=row.digest)
    return tags


def delete_tag(
    session: Session, *, repository: m.Repository, tag: str, replicated: bool = False
) -> None:
    row = session.get(m.ImageTag, (repository.id, tag)) if is_tag(tag) else None
    if row is None:
        raise ManifestNotFound(f"tag {tag[:300]} is unknown to repository {repository.name}")
    digest = session.scalar(select(m.Manifest.digest).where(m.Manifest.id == row.manifest_id))
    session.delete(row)
    if not replicated and digest is not None:
        replication.tag_removed(session, repository=repository, digest=digest, tag=tag)


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


_REFERRER_COLUMNS = (
    m.Manifest.media_type,
    m.Manifest.digest,
    m.Manifest.size,
    m.Manifest.artifact_type,
    m.Manifest.config_media_type,
    m.Manifest.annotations,
    m.Manifest.image_status,
    m.Manifest.id,
)


def _referrer(
    media_type: str,
    digest: str,
    size: int,
    explicit: str | None,
    config_type: str | None,
    annotations: str | None,
    status: str,
    manifest_id: int,
) -> Referrer:
    return Referrer(
        media_type=media_type,
        digest=digest,
        size=size,
        artifact_type=explicit or config_type,
        annotations=json.loads(annotations) if annotations else {},
        status=status,
        id=manifest_id,
    )


def list_referrers(
    session: Session, *, repository_id: int, subject: Digest, artifact_type: str | None
) -> list[Referrer]:
    """The OCI referrers of `subject` that can be pulled (archived ones are left out)."""
    rows = session.execute(
        select(*_REFERRER_COLUMNS)
        .where(
            m.Manifest.repository_id == repository_id,
            m.Manifest.subject_digest == str(subject),
            m.Manifest.image_status == ACTIVE,
        )
        .order_by(m.Manifest.pushed_at, m.Manifest.id)
    )
    referrers = [_referrer(*row) for row in rows]
    if artifact_type is not None:
        referrers = [r for r in referrers if r.artifact_type == artifact_type]
    return referrers


def page_referrers(
    session: Session,
    *,
    repository_id: int,
    subject: str,
    artifact_types: Collection[str],
    statuses: Collection[str] | None,
    after_id: int,
    limit: int,
) -> list[Referrer]:
    """Referrers of `subject` after manifest id `after_id`, in push order (ListImageReferrers).

    `artifact_types` (empty: any) match the artifactType a referrers listing reports (the
    manifest's artifactType, else its config media type); `statuses` None means any status.
    """
    query = select(*_REFERRER_COLUMNS).where(
        m.Manifest.repository_id == repository_id,
        m.Manifest.subject_digest == subject,
        m.Manifest.id > after_id,
    )
    if statuses is not None:
        query = query.where(m.Manifest.image_status.in_(statuses))
    if artifact_types:
        reported = func.coalesce(m.Manifest.artifact_type, m.Manifest.config_media_type)
        query = query.where(reported.in_(artifact_types))
    rows = session.execute(query.order_by(m.Manifest.id).limit(limit))
    return [_referrer(*row) for row in rows]


def storage_class_closure(
    session: Session, *, repository_id: int, manifest_id: int, archiving: bool
) -> set[int]:
    """The images a change of `manifest_id`'s storage class carries along, itself included.

    An index takes its children and every image takes its referrers (OCI `subject`), both
    recursively, as ECR archives and restores artifacts with their subject. Archiving takes only
    ACTIVE images and leaves out a child another ACTIVE index still lists; restoring takes only
    images that are not ACTIVE.
    """
    members, frontier = {manifest_id}, {manifest_id}
    while frontier:
        linked = _linked(session, repository_id, frontier)
        if archiving:
            candidates = {i: d for i, (d, s) in linked.items() if s == ACTIVE}
            shared = _listed_elsewhere(session, repository_id, candidates.values(), members)
            found = {i for i, d in candidates.items() if d not in shared}
        else:
            found = {i for i, (_d, s) in linked.items() if s != ACTIVE}
        frontier = found - members
        members |= frontier
    return members


def _linked(session: Session, repository_id: int, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Children and referrers of the manifests `ids`: {id: (digest, status)}."""
    child, parent = aliased(m.Manifest), aliased(m.Manifest)
    children = session.execute(
        select(child.id, child.digest, child.image_status)
        .join(m.ManifestChild, m.ManifestChild.child_digest == child.digest)
        .where(m.ManifestChild.parent_id.in_(ids), child.repository_id == repository_id)
    )
    referrers = session.execute(
        select(child.id, child.digest, child.image_status)
        .join(
            parent,
            (parent.digest == child.subject_digest) & (parent.repository_id == repository_id),
        )
        .where(parent.id.in_(ids), child.repository_id == repository_id)
    )
    return {i: (d, s) for i, d, s in [*children, *referrers]}


def _listed_elsewhere(
    session: Session, repository_id: int, digests: Collection[str], members: set[int]
) -> set[str]:
    if not digests:
        return set()
    return set(
        session.scalars(
            select(m.ManifestChild.child_digest)
            .join(m.Manifest, m.Manifest.id == m.ManifestChild.parent_id)
            .where(
                m.Manifest.repository_id == repository_id,
                m.Manifest.image_status == ACTIVE,
                m.Manifest.id.not_in(members),
                m.ManifestChild.child_digest.in_(list(digests)),
            )
        )
    )


def set_storage_status(
    session: Session, *, manifest_ids: Collection[int], status: str, now: datetime
) -> None:
    """Move manifests to `status`, stamping lastArchivedAt (ARCHIVED) or lastActivatedAt."""
    stamp = {"last_archived_at": now} if status == ARCHIVED else {"last_activated_at": now}
    session.execute(
        update(m.Manifest)
        .where(m.Manifest.id.in_(list(manifest_ids)))
        .values(image_status=status, **stamp)
        .execution_options(synchronize_session="fetch")
    )


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
