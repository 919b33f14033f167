"""Repositories: create, look up, describe, list, delete; tag mutability; resource tags.

Settings a repository is created with, and the rules Stiva checks for them (ECR's texts where
ECR has one; `docs/repositories.md` lists them):

- `imageTagMutability` is one of four values; the two `_WITH_EXCLUSION` forms need 1-5 WILDCARD
  exclusion filters, the other two refuse them (enforced on push by `services.mutability`);
- encryption is AES256; KMS and KMS_DSSE need a KMS key provider, which Stiva does not have
  (KmsException), and a `kmsKey` only goes with those;
- resource tags follow `services.tags`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.errors import (
    InvalidParameter,
    KmsError,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
)
from stiva.metadata import models as m
from stiva.oci.names import parse_name
from stiva.services import tags as resource_tags
from stiva.services.pagination import decode_token, encode_token

MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
EXCLUSION_FORMS = ("IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
KMS_TYPES = ("KMS", "KMS_DSSE")


@dataclass(frozen=True, slots=True)
class RepositorySpec:
    name: str
    tag_mutability: str = "MUTABLE"
    mutability_filters: Sequence[str] | None = None  # None: not given
    scan_on_push: bool = False
    encryption_type: str = "AES256"
    kms_key: str | None = None
    tags: Sequence[tuple[str, str]] = ()
    policy_text: str | None = None  # a repository policy (templates set one)


def mutability_exclusions(mutability: str, filters: Sequence[str] | None) -> str | None:
    """The exclusion filters to store (a JSON array) for a mutability setting, or None.

    Filters are required with the `_WITH_EXCLUSION` forms and refused with the other two.
    """
    if mutability not in MUTABILITY:
        raise InvalidParameter(
            "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: "
            f"'Member must satisfy enum value set: [{', '.join(MUTABILITY)}]'"
        )
    if mutability in EXCLUSION_FORMS:
        if not filters:
            raise InvalidParameter(
                "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy "
                "constraint: 'ImageTagMutabilityExclusionFilters can't be null when "
                f"imageTagMutability is set as {mutability}'"
            )
        return json.dumps(list(filters))
    if filters is not None:
        raise InvalidParameter(
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy "
            "constraint: 'ImageTagMutabilityExclusionFilters are not allowed when "
            f"imageTagMutability is set as {mutability}'"
        )
    return None


def check_encryption(encryption_type: str, kms_key: str | None) -> None:
    """AES256 only: Stiva has no KMS key provider (KmsError names the fix)."""
    if encryption_type in KMS_TYPES:
        raise KmsError(
            f"encryptionType {encryption_type} needs a KMS key, and this Stiva deployment has "
            "no KMS key provider configured; use AES256 (see docs/repositories.md for what "
            "Stiva does at rest)"
        )
    if kms_key:
        raise InvalidParameter(
            "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: "
            f"'a kmsKey can only be given with encryptionType KMS or KMS_DSSE, not "
            f"{encryption_type}'"
        )


def create_repository(session: Session, *, account_id: str, spec: RepositorySpec) -> m.Repository:
    name = parse_name(spec.name)
    exclusions = mutability_exclusions(spec.tag_mutability, spec.mutability_filters)
    check_encryption(spec.encryption_type, spec.kms_key)
    resource_tags.check_tags(spec.tags)
    resource_tags.check_count(len(spec.tags))
    if find_repository(session, account_id=account_id, name=name) is not None:
        raise RepositoryAlreadyExists(name, account_id)
    repo = m.Repository(
        account_id=account_id,
        name=name,
        image_tag_mutability=spec.tag_mutability,
        tag_mutability_exclusions=exclusions,
        scan_on_push=spec.scan_on_push,
        encryption_type=spec.encryption_type,
        kms_key=spec.kms_key or None,
        policy_text=spec.policy_text,
    )
    session.add(repo)
    try:
        session.flush()
    except IntegrityError:
        raise RepositoryAlreadyExists(name, account_id) from None
    resource_tags.set_tags(session, repository_id=repo.id, tags=spec.tags)
    return repo


def find_repository(session: Session, *, account_id: str, name: str) -> m.Repository | None:
    return session.scalar(
        select(m.Repository).where(m.Repository.account_id == account_id, m.Repository.name == name)
    )


def get_repository(session: Session, *, account_id: str, name: str) -> m.Repository:
    repo = find_repository(session, account_id=account_id, name=name)
    if repo is None:
        raise RepositoryNotFound(name, account_id)
    return repo


def describe_repositories(
    session: Session,
    *,
    account_id: str,
    names: Sequence[str] | None,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[m.Repository], str | None]:
    """ECR's DescribeRepositories: by names (all must exist), or paginated by name."""
    if names:
        return [get_repository(session, account_id=account_id, name=n) for n in names], None
    after = ""
    if next_token:
        after = str(decode_token(next_token, key, kind="repositories")["after"])
    rows = list(
        session.scalars(
            select(m.Repository)
            .where(m.Repository.account_id == account_id, m.Repository.name > after)
            .order_by(m.Repository.name)
            .limit(max_results + 1)
        )
    )
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        token = encode_token({"kind": "repositories", "after": rows[-1].name}, key)
    return rows, token


def list_repository_names(
    session: Session, *, account_id: str, after: str, limit: int | None
) -> list[str]:
    query = (
        select(m.Repository.name)
        .where(m.Repository.account_id == account_id, m.Repository.name > after)
        .order_by(m.Repository.name)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def delete_repository(session: Session, *, account_id: str, name: str, force: bool) -> m.Repository:
    """Delete a repository; it must hold no images unless `force`. Blobs are freed by GC."""
    repo = get_repository(session, account_id=account_id, name=name)
    has_images = session.scalar(select(exists().where(m.Manifest.repository_id == repo.id)))
    if has_images and not force:
        raise RepositoryNotEmpty(name, account_id)
    for model in (m.ImageTag, m.Upload, m.RepositoryBlob, m.RepositoryTag):
        session.execute(delete(model).where(model.repository_id == repo.id))
    manifest_ids = select(m.Manifest.id).where(m.Manifest.repository_id == repo.id)
    session.execute(delete(m.ManifestBlob).where(m.ManifestBlob.manifest_id.in_(manifest_ids)))
    session.execute(delete(m.ManifestChild).where(m.ManifestChild.parent_id.in_(manifest_ids)))
    session.execute(delete(m.Manifest).where(m.Manifest.repository_id == repo.id))
    session.delete(repo)
    return repo


def put_image_tag_mutability(
    session: Session,
    *,
    account_id: str,
    name: str,
    mutability: str,
    filters: Sequence[str] | None,
) -> m.Repository:
    """Set a repository's tag mutability (and exclusion filters); applies to later pushes."""
    exclusions = mutability_exclusions(mutability, filters)
    repo = get_repository(session, account_id=account_id, name=name)
    repo.image_tag_mutability = mutability
    repo.tag_mutability_exclusions = exclusions
    return repo


# --- resource tags (TagResource, UntagResource, ListTagsForResource) --------------------------


def tag_repository(
    session: Session, *, account_id: str, name: str, tags: Sequence[tuple[str, str]]
) -> None:
    repo = get_repository(session, account_id=account_id, name=name)
    resource_tags.set_tags(session, repository_id=repo.id, tags=tags)


def untag_repository(session: Session, *, account_id: str, name: str, keys: Sequence[str]) -> None:
    repo = get_repository(session, account_id=account_id, name=name)
    resource_tags.remove_tags(session, repository_id=repo.id, keys=keys)


def tags_of(session: Session, repository_id: int) -> list[tuple[str, str]]:
    return resource_tags.tags_of(session, repository_id=repository_id)


def list_repository_tags(session: Session, *, account_id: str, name: str) -> list[tuple[str, str]]:
    repo = get_repository(session, account_id=account_id, name=name)
    return resource_tags.tags_of(session, repository_id=repo.id)
