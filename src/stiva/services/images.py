"""Images as ECR's control plane sees them: ListImages, DescribeImages, BatchGetImage.

An image is a manifest in a repository (an index's children are images of their own, usually
untagged); its tags are the image tags pointing at it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from stiva.errors import InvalidDigest, InvalidParameter, InvalidTag, ManifestNotFound
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.oci.names import is_tag
from stiva.services.pagination import decode_token, encode_token


@dataclass(frozen=True, slots=True)
class ImageId:
    digest: str | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class ImageDetail:
    digest: str
    tags: list[str]
    size: int
    pushed_at: datetime
    media_type: str
    artifact_media_type: str | None
    last_pulled_at: datetime | None
    subject_digest: str | None


@dataclass(frozen=True, slots=True)
class FoundImage:
    image_id: ImageId
    manifest_id: int
    manifest: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class ImageFailure:
    image_id: ImageId
    code: str
    reason: str


def _tag_filter(query: Select[int], tag_status: str) -> Select[int]:
    tagged = exists().where(m.ImageTag.manifest_id == m.Manifest.id)
    if tag_status == "TAGGED":
        return query.where(tagged)
    if tag_status == "UNTAGGED":
        return query.where(~tagged)
    return query


def _page_of_manifests(
    session: Session,
    *,
    repository_id: int,
    tag_status: str,
    max_results: int,
    next_token: str | None,
    key: bytes,
    kind: str,
) -> tuple[list[int], str | None]:
    after = 0
    if next_token:
        position = decode_token(next_token, key, kind=kind)
        if position.get("repository") != repository_id:
            raise InvalidParameter(
                "Invalid parameter at 'nextToken': the token belongs to another repository"
            )
        after = int(position["after"])
    query = select(m.Manifest.id).where(
        m.Manifest.repository_id == repository_id, m.Manifest.id > after
    )
    ids = list(
        session.scalars(
            _tag_filter(query, tag_status).order_by(m.Manifest.id).limit(max_results + 1)
        )
    )
    token = None
    if len(ids) > max_results:
        ids = ids[:max_results]
        token = encode_token({"kind": kind, "repository": repository_id, "after": ids[-1]}, key)
    return ids, token


def _tags_by_manifest(session: Session, manifest_ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(m.ImageTag.manifest_id, m.ImageTag.name)
        .where(m.ImageTag.manifest_id.in_(manifest_ids))
        .order_by(m.ImageTag.name)
    )
    for manifest_id, name in rows:
        tags[manifest_id].append(name)
    return tags


def list_images(
    session: Session,
    *,
    repository_id: int,
    tag_status: str,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[ImageId], str | None]:
    """One entry per tag; an untagged image appears once, by digest only."""
    ids, token = _page_of_manifests(
        session,
        repository_id=repository_id,
        tag_status=tag_status,
        max_results=max_results,
        next_token=next_token,
        key=key,
        kind="list-images",
    )
    rows = session.execute(select(m.Manifest.id, m.Manifest.digest).where(m.Manifest.id.in_(ids)))
    digests = {manifest_id: digest for manifest_id, digest in rows}
    tags = _tags_by_manifest(session, ids)
    result: list[ImageId] = []
    for manifest_id in ids:
        names: list[str | None] = list(tags.get(manifest_id, [])) or [None]
        result += [ImageId(digests[manifest_id], name) for name in names]
    return result, token


def _details(session: Session, manifest_ids: Sequence[int]) -> list[ImageDetail]:
    rows = session.scalars(
        select(m.Manifest).where(m.Manifest.id.in_(manifest_ids)).order_by(m.Manifest.id)
    )
    tags = _tags_by_manifest(session, manifest_ids)
    return [
        ImageDetail(
            digest=row.digest,
            tags=tags.get(row.id, []),
            size=row.image_size,
            pushed_at=row.pushed_at,
            media_type=row.media_type,
            artifact_media_type=row.config_media_type or row.artifact_type,
            last_pulled_at=row.last_pulled_at,
            subject_digest=row.subject_digest,
        )
        for row in rows
    ]


def describe_images(
    session: Session,
    *,
    repository_id: int,
    repository_name: str,
    registry_id: str,
    image_ids: Sequence[ImageId] | None,
    tag_status: str,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[ImageDetail], str | None]:
    if image_ids:
        found: list[int] = []
        for image_id in image_ids:
            manifest_id = _find(session, repository_id, image_id)
            if manifest_id is None:
                raise ManifestNotFound(
                    f"The image with imageId {{{_describe_id(image_id)}}} does not exist within "
                    f"the repository with name '{repository_name}' in the registry with id "
                    f"'{registry_id}'"
                )
            if manifest_id not in found:
                found.append(manifest_id)
        return _details(session, found), None
    ids, token = _page_of_manifests(
        session,
        repository_id=repository_id,
        tag_status=tag_status,
        max_results=max_results,
        next_token=next_token,
        key=key,
        kind="describe-images",
    )
    return _details(session, ids), token


def _describe_id(image_id: ImageId) -> str:
    return f"imageDigest:'{image_id.digest or 'null'}', imageTag:'{image_id.tag or 'null'}'"


def _find(session: Session, repository_id: int, image_id: ImageId) -> int | None:
    """The manifest an image id names, or None. Both given: they must agree."""
    query = select(m.Manifest.id).where(m.Manifest.repository_id == repository_id)
    if image_id.digest is not None:
        query = query.where(m.Manifest.digest == image_id.digest)
    if image_id.tag is not None:
        query = query.join(m.ImageTag, m.ImageTag.manifest_id == m.Manifest.id).where(
            m.ImageTag.repository_id == repository_id, m.ImageTag.name == image_id.tag
        )
    return session.scalar(query)


def _check_id(image_id: ImageId) -> ImageFailure | None:
    if image_id.digest is None and image_id.tag is None:
        return ImageFailure(
            image_id,
            "MissingDigestAndTag",
            "Invalid request parameters: both tag and digest cannot be null",
        )
    if image_id.digest is not None:
        try:
            Digest.parse(image_id.digest)
        except InvalidDigest:
            return ImageFailure(
                image_id,
                "InvalidImageDigest",
                "Invalid request parameters: image digest should satisfy the regex "
                "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
            )
    if image_id.tag is not None and not is_tag(image_id.tag):
        return ImageFailure(
            image_id, "InvalidImageTag", str(InvalidTag(f"invalid tag '{image_id.tag}'"))
        )
    return None


def batch_get_image(
    session: Session,
    *,
    repository_id: int,
    image_ids: Sequence[ImageId],
    accepted_media_types: Sequence[str] | None,
) -> tuple[list[FoundImage], list[ImageFailure]]:
    images: list[FoundImage] = []
    failures: list[ImageFailure] = []
    for image_id in image_ids:
        problem = _check_id(image_id)
        manifest_id = None if problem else _find(session, repository_id, image_id)
        if problem is None and manifest_id is None:
            problem = _not_found(session, repository_id, image_id)
        if problem is not None:
            failures.append(problem)
            continue
        row = session.get(m.Manifest, manifest_id)
        assert row is not None
        if accepted_media_types and row.media_type not in accepted_media_types:
            failures.append(
                ImageFailure(
                    image_id,
                    "ImageNotFound",
                    f"Requested image is a {row.media_type}, which acceptedMediaTypes excludes "
                    "(Stiva does not convert manifests)",
                )
            )
            continue
        resolved = ImageId(row.digest, image_id.tag)
        images.append(FoundImage(resolved, row.id, row.content, row.media_type))
    return images, failures


def _not_found(session: Session, repository_id: int, image_id: ImageId) -> ImageFailure:
    if image_id.digest is not None and image_id.tag is not None:
        tag_only = _find(session, repository_id, ImageId(tag=image_id.tag))
        if tag_only is not None:
            return ImageFailure(
                image_id,
                "ImageTagDoesNotMatchDigest",
                "Invalid request parameters: the given tag does not point to the given digest",
            )
    return ImageFailure(image_id, "ImageNotFound", "Requested image not found")
