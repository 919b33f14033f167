"""Resolving a manifest reference (tag or digest) in a repository: the pull hot path.

An archived image (`image_status` ARCHIVED, or ACTIVATING while a restore runs) keeps its row
and bytes but cannot be pulled: `resolve` answers ManifestNotFound saying so, by tag and by
digest, as ECR's registry answers 404. `services.manifests` re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from stiva.errors import ManifestNotFound, RepositoryNotFound
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.oci.names import is_tag
from stiva.services.storage_class import ACTIVATING, ACTIVE


@dataclass(frozen=True, slots=True)
class StoredManifest:
    id: int
    repository_id: int
    digest: str
    media_type: str
    content: bytes


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
