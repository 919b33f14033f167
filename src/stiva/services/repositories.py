"""Repositories: create, look up, describe, list, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stiva.errors import (
    InvalidParameter,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
    Unsupported,
)
from stiva.metadata import models as m
from stiva.oci.names import parse_name
from stiva.services.pagination import decode_token, encode_token

MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")


@dataclass(frozen=True, slots=True)
class RepositorySpec:
    name: str
    tag_mutability: str = "MUTABLE"
    scan_on_push: bool = False
    encryption_type: str = "AES256"
    kms_key: str | None = None
    tags: Sequence[tuple[str, str]] = ()


def create_repository(session: Session, *, account_id: str, spec: RepositorySpec) -> m.Repository:
    name = parse_name(spec.name)
    if spec.tag_mutability not in ("MUTABLE", "IMMUTABLE"):
        raise Unsupported(
            f"imageTagMutability {spec.tag_mutability} is not supported yet by Stiva "
            "(MUTABLE and IMMUTABLE are)"
        )
    if spec.encryption_type != "AES256":
        raise Unsupported(
            f"encryptionType {spec.encryption_type} needs a KMS key provider, and none is "
            "configured; use AES256"
        )
    if find_repository(session, account_id=account_id, name=name) is not None:
        raise RepositoryAlreadyExists(name, account_id)
    repo = m.Repository(
        account_id=account_id,
        name=name,
        image_tag_mutability=spec.tag_mutability,
        scan_on_push=spec.scan_on_push,
        encryption_type=spec.encryption_type,
        kms_key=spec.kms_key,
    )
    session.add(repo)
    try:
        session.flush()
    except IntegrityError:
        raise RepositoryAlreadyExists(name, account_id) from None
    _set_tags(session, repo, spec.tags)
    return repo


def _set_tags(session: Session, repo: m.Repository, tags: Sequence[tuple[str, str]]) -> None:
    keys = [key for key, _ in tags]
    if len(set(keys)) != len(keys):
        raise InvalidParameter("Invalid parameter at 'tags': tag keys must be unique")
    for key, value in tags:
        session.add(m.RepositoryTag(repository_id=repo.id, key=key, value=value))


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


def tags_of(session: Session, repository_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(m.RepositoryTag.key, m.RepositoryTag.value)
        .where(m.RepositoryTag.repository_id == repository_id)
        .order_by(m.RepositoryTag.key)
    )
    return [(k, v) for k, v in rows]
