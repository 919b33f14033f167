"""Images as ECR's control plane sees them: list, describe, get, put, delete.

An image is a manifest in a repository (an index's children are images of their own, usually
untagged); its tags are the image tags pointing at it. Its status is ACTIVE, or ARCHIVED after
UpdateImageStorageClass(ARCHIVE): listed only when asked for, never pulled, restorable.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, true
from sqlalchemy.orm import Session

from stiva.errors import (
    DigestMismatch,
    ImageAlreadyExists,
    InvalidDigest,
    InvalidParameter,
    InvalidTag,
    ManifestNotFound,
)
from stiva.metadata import models as m
from stiva.oci import mediatypes as mt
from stiva.oci.convert import convert_for
from stiva.oci.digest import Digest
from stiva.oci.names import is_tag, parse_tag
from stiva.services import manifests
from stiva.services.manifests import ACTIVE
from stiva.services.pagination import decode_token, encode_token
from stiva.services.scanning.summary import scan_summaries

DEFAULT_PAGE = 100  # ListImages / DescribeImages without maxResults


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
    status: str = ACTIVE
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None
    scan_status: dict[str, Any] | None = None  # imageScanStatus (services.scanning.summary)
    scan_summary: dict[str, Any] | None = None  # imageScanFindingsSummary


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


@dataclass(frozen=True, slots=True)
class PushedImage:
    digest: str
    media_type: str


def image_not_found(image_id: ImageId, repository: m.Repository) -> ManifestNotFound:
    """ECR's ImageNotFoundException text."""
    described = f"imageDigest:'{image_id.digest or 'null'}', imageTag:'{image_id.tag or 'null'}'"
    return ManifestNotFound(
        f"The image with imageId {{{described}}} does not exist within the repository with "
        f"name '{repository.name}' in the registry with id '{repository.account_id}'"
    )


def require_image_id(image_id: ImageId) -> None:
    """InvalidParameterException, in ECR's words, for an id that names no image (neither tag nor
    digest: it would match anything) or is malformed (`check_image_id`)."""
    problem = check_image_id(image_id)
    if problem is not None:
        raise InvalidParameter(problem.reason)


def get_image(session: Session, repository: m.Repository, image_id: ImageId) -> m.Manifest:
    """The image `image_id` names (`require_image_id`); ImageNotFoundException when absent."""
    require_image_id(image_id)
    manifest_id = find_image(session, repository.id, image_id)
    row = session.get(m.Manifest, manifest_id) if manifest_id is not None else None
    if row is None:
        raise image_not_found(image_id, repository)
    return row


# --- listing -------------------------------------------------------------------------------


def _with_status(image_status: str) -> ColumnElement[bool]:
    """The imageStatus filter (ACTIVE, ARCHIVED, ACTIVATING or ANY) as a WHERE clause."""
    return true() if image_status == "ANY" else m.Manifest.image_status == image_status


def token_position(token: str, key: bytes, kind: str, repository_id: int) -> dict[str, Any]:
    position = decode_token(token, key, kind=kind)
    if position.get("repository") != repository_id:
        raise InvalidParameter(
            "Invalid parameter at 'nextToken': the token belongs to another repository"
        )
    return position


def list_images(
    session: Session,
    *,
    repository_id: int,
    tag_status: str,
    image_status: str,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[ImageId], str | None]:
    """One entry per tag, an untagged image once by digest only; pages count entries."""
    after, after_tag = 0, ""
    if next_token:
        position = token_position(next_token, key, "list-images", repository_id)
        after, after_tag = int(position["after"]), str(position["tag"])
    tag = func.coalesce(m.ImageTag.name, "")
    query = (
        select(m.Manifest.id, m.Manifest.digest, m.ImageTag.name)
        .outerjoin(m.ImageTag, m.ImageTag.manifest_id == m.Manifest.id)
        .where(
            m.Manifest.repository_id == repository_id,
            (m.Manifest.id > after) | ((m.Manifest.id == after) & (tag > after_tag)),
            _with_status(image_status),
        )
    )
    if tag_status != "ANY":
        name = m.ImageTag.name
        query = query.where(name.is_not(None) if tag_status == "TAGGED" else name.is_(None))
    query = query.order_by(m.Manifest.id, tag)
    rows = session.execute(query.limit(max_results + 1)).all()
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        last = {"after": rows[-1][0], "tag": rows[-1][2] or ""}
        token = encode_token({"kind": "list-images", "repository": repository_id, **last}, key)
    return [ImageId(digest, name) for _id, digest, name in rows], token


def _page_of_manifests(
    session: Session,
    *,
    repository_id: int,
    tag_status: str,
    image_status: str,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[int], str | None]:
    after = 0
    if next_token:
        after = int(token_position(next_token, key, "describe-images", repository_id)["after"])
    query = select(m.Manifest.id).where(
        m.Manifest.repository_id == repository_id,
        m.Manifest.id > after,
        _with_status(image_status),
    )
    tagged = exists().where(m.ImageTag.manifest_id == m.Manifest.id)
    if tag_status != "ANY":
        query = query.where(tagged if tag_status == "TAGGED" else ~tagged)
    query = query.order_by(m.Manifest.id)
    ids = list(session.scalars(query.limit(max_results + 1)))
    token = None
    if len(ids) > max_results:
        ids = ids[:max_results]
        position = {"kind": "describe-images", "repository": repository_id, "after": ids[-1]}
        token = encode_token(position, key)
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


def _details(session: Session, manifest_ids: Sequence[int]) -> list[ImageDetail]:
    rows = session.scalars(
        select(m.Manifest).where(m.Manifest.id.in_(manifest_ids)).order_by(m.Manifest.id)
    )
    tags = _tags_by_manifest(session, manifest_ids)
    scans = scan_summaries(session, manifest_ids)
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
            status=row.image_status,
            last_archived_at=row.last_archived_at,
            last_activated_at=row.last_activated_at,
            scan_status=scans[row.id][0] if row.id in scans else None,
            scan_summary=scans[row.id][1] if row.id in scans else None,
        )
        for row in rows
    ]


def describe_images(
    session: Session,
    *,
    repository: m.Repository,
    image_ids: Sequence[ImageId] | None,
    tag_status: str,
    image_status: str,
    max_results: int | None,
    next_token: str | None,
    key: bytes,
) -> tuple[list[ImageDetail], str | None]:
    """The images named (whatever their status; each must exist), or a page of them."""
    if image_ids:
        if max_results is not None or next_token:
            raise InvalidParameter(
                "Invalid parameter at 'imageIds' failed to satisfy constraint: "
                "'imageIds cannot be used with maxResults or nextToken'"
            )
        found: list[int] = []
        for image_id in image_ids:
            require_image_id(image_id)
            manifest_id = find_image(session, repository.id, image_id)
            if manifest_id is None:
                raise image_not_found(image_id, repository)
            if manifest_id not in found:
                found.append(manifest_id)
        return _details(session, found), None
    ids, token = _page_of_manifests(
        session,
        repository_id=repository.id,
        tag_status=tag_status,
        image_status=image_status,
        max_results=max_results or DEFAULT_PAGE,
        next_token=next_token,
        key=key,
    )
    return _details(session, ids), token


# --- finding one image ---------------------------------------------------------------------


def find_image(session: Session, repository_id: int, image_id: ImageId) -> int | None:
    """The manifest an image id names, or None. Both given: they must agree."""
    query = select(m.Manifest.id).where(m.Manifest.repository_id == repository_id)
    if image_id.digest is not None:
        query = query.where(m.Manifest.digest == image_id.digest)
    if image_id.tag is not None:
        query = query.join(m.ImageTag, m.ImageTag.manifest_id == m.Manifest.id).where(
            m.ImageTag.repository_id == repository_id, m.ImageTag.name == image_id.tag
        )
    return session.scalar(query)


def check_image_id(image_id: ImageId) -> ImageFailure | None:
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


def _not_found(session: Session, repository_id: int, image_id: ImageId) -> ImageFailure:
    if image_id.digest is not None and image_id.tag is not None:
        tag_only = find_image(session, repository_id, ImageId(tag=image_id.tag))
        if tag_only is not None:
            return ImageFailure(
                image_id,
                "ImageTagDoesNotMatchDigest",
                "Invalid request parameters: the given tag does not point to the given digest",
            )
    return ImageFailure(image_id, "ImageNotFound", "Requested image not found")


def _get_one(
    session: Session, repository_id: int, image_id: ImageId, accepted: Sequence[str] | None
) -> FoundImage | ImageFailure:
    problem = check_image_id(image_id)
    manifest_id = None if problem else find_image(session, repository_id, image_id)
    if problem is not None or manifest_id is None:
        return problem or _not_found(session, repository_id, image_id)
    row = session.get(m.Manifest, manifest_id)
    assert row is not None
    if row.image_status != ACTIVE:
        reason = (
            f"Requested image is {row.image_status.lower()} and cannot be pulled; restore it "
            "with UpdateImageStorageClass (targetStorageClass STANDARD) or push it again"
        )
        return ImageFailure(image_id, "ImageNotFound", reason)
    content, media_type = row.content, row.media_type
    if accepted and media_type not in accepted:
        converted = None if image_id.digest else convert_for(content, media_type, accepted)
        if converted is None:
            reason = (
                f"Requested image is a {media_type}, which acceptedMediaTypes excludes; "
                "only OCI image manifests and Docker schema 2 manifests named by tag alone "
                "convert to each other"
            )
            return ImageFailure(image_id, "ImageNotFound", reason)
        content, media_type = converted
    # A converted manifest keeps the image's own digest in imageId: the image is the one stored.
    return FoundImage(ImageId(row.digest, image_id.tag), row.id, content, media_type)


def batch_get_image(
    session: Session,
    *,
    repository_id: int,
    image_ids: Sequence[ImageId],
    accepted_media_types: Sequence[str] | None,
) -> tuple[list[FoundImage], list[ImageFailure]]:
    """The manifests named, each exactly as pushed; archived images are failures.

    With `acceptedMediaTypes` excluding an image's type, an image named by tag alone comes
    converted when it can be (OCI image manifest ⇄ Docker schema 2, `oci.convert`), as ECR
    converts pulls by tag: `imageManifest` and `imageManifestMediaType` are the converted
    manifest's, `imageId.imageDigest` stays the stored image's (the image ECR lists and
    describes). Named by digest, or not convertible: an ImageNotFound failure.
    """
    images: list[FoundImage] = []
    failures: list[ImageFailure] = []
    for image_id in image_ids:
        result = _get_one(session, repository_id, image_id, accepted_media_types)
        if isinstance(result, ImageFailure):
            failures.append(result)
        else:
            images.append(result)
    return images, failures


# --- push ----------------------------------------------------------------------------------


def put_image(
    session: Session,
    *,
    repository: m.Repository,
    manifest: str,
    media_type: str | None,
    tag: str | None,
    digest: str | None,
) -> PushedImage:
    """PutImage: store the UTF-8 bytes of `manifest` exactly; digest = sha256 of those bytes.

    Refused as ImageAlreadyExists when nothing would change (the same manifest, ACTIVE, already
    there with this tag, or untagged when no tag is given); an archived image is restored.
    """
    try:
        raw = manifest.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameter(
            "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
            "'the manifest is not valid UTF-8 text'"
        ) from None
    if tag is not None:
        parse_tag(tag)  # a digest-shaped "tag" would be taken for the digest and tag nothing
    computed = Digest.of(raw)
    if digest is not None and _given_digest(digest) != computed:
        raise DigestMismatch(
            f"The image digest '{digest}' does not match the digest '{computed}' calculated "
            "for the image manifest"
        )
    content_type = _content_type(raw, media_type)
    _refuse_unchanged(session, repository, str(computed), tag)
    stored = manifests.put_manifest(
        session,
        repository=repository,
        reference=tag if tag is not None else str(computed),
        raw=raw,
        content_type=content_type,
    )
    return PushedImage(str(stored.digest), stored.media_type)


def _given_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except InvalidDigest:
        raise InvalidParameter(
            "Invalid parameter at 'imageDigest' failed to satisfy constraint: "
            "'must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''"
        ) from None


def _content_type(raw: bytes, media_type: str | None) -> str | None:
    """The media type PutImage stores; imageManifestMediaType is needed without `mediaType`."""
    if media_type is not None:
        if media_type not in mt.MANIFEST_TYPES | mt.SCHEMA1_TYPES:
            raise InvalidParameter(
                "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: "
                f"'unsupported manifest media type {media_type[:255]}'"
            )
        return media_type
    try:
        doc = json.loads(raw)
    except ValueError:
        return None  # not JSON: parse_manifest says so
    if isinstance(doc, dict) and "mediaType" not in doc:
        raise InvalidParameter(
            "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: "
            "'required when the image manifest has no mediaType field'"
        )
    return None


def _refuse_unchanged(
    session: Session, repository: m.Repository, digest: str, tag: str | None
) -> None:
    row = session.execute(
        select(m.Manifest.id, m.Manifest.image_status).where(
            m.Manifest.repository_id == repository.id, m.Manifest.digest == digest
        )
    ).first()
    if row is None or row[1] != ACTIVE:
        return
    if tag is not None:
        current = session.get(m.ImageTag, (repository.id, tag))
        if current is None or current.manifest_id != row[0]:
            return
    raise ImageAlreadyExists(
        f"Image with digest '{digest}' and tag '{tag or 'null'}' already exists in the "
        f"repository with name '{repository.name}' in registry with id '{repository.account_id}'"
    )


# --- delete --------------------------------------------------------------------------------


def batch_delete_image(
    session: Session, *, repository: m.Repository, image_ids: Sequence[ImageId]
) -> tuple[list[ImageId], list[ImageFailure]]:
    """BatchDeleteImage: a tag goes (and its image with its last tag); a digest takes the image
    and all its tags. Returns what was deleted (digest + tag per tag) and per-item failures."""
    deleted: list[ImageId] = []
    failures: list[ImageFailure] = []
    for image_id in image_ids:
        result = check_image_id(image_id) or _delete_one(session, repository, image_id)
        if isinstance(result, ImageFailure):
            failures.append(result)
        else:
            deleted += result
    return deleted, failures


def _delete_one(
    session: Session, repository: m.Repository, image_id: ImageId
) -> list[ImageId] | ImageFailure:
    manifest_id = find_image(session, repository.id, image_id)
    if manifest_id is None:
        return _not_found(session, repository.id, image_id)
    digest = session.scalar(select(m.Manifest.digest).where(m.Manifest.id == manifest_id))
    assert digest is not None
    if image_id.digest is None and image_id.tag is not None:
        others = session.scalar(
            select(func.count()).where(
                m.ImageTag.manifest_id == manifest_id, m.ImageTag.name != image_id.tag
            )
        )
        if others:
            manifests.delete_tag(session, repository=repository, tag=image_id.tag)
            return [ImageId(digest, image_id.tag)]
    parent = manifests.index_using(session, repository_id=repository.id, digest=digest)
    if parent is not None:
        reason = (
            f"Requested image is referenced by the manifest list {parent} and cannot be "
            "deleted while that manifest list exists"
        )
        return ImageFailure(image_id, "ImageReferencedByManifestList", reason)
    tags = manifests.delete_manifest(session, repository=repository, digest=Digest.parse(digest))
    return [ImageId(digest, tag) for tag in tags] or [ImageId(digest)]
