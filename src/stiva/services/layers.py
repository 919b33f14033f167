"""ECR's layer API: BatchCheckLayerAvailability, Initiate/UploadLayerPart/CompleteLayerUpload,
GetDownloadUrlForLayer.

An ECR layer upload is an OCI upload (`services/uploads.py`): same rows, same appended file, same
incremental sha256, same commit into the content-addressed store and the same repository link.
What ECR adds lives here:

- BatchCheckLayerAvailability answers one `Layer` per well-formed digest: AVAILABLE with size and
  media type when the repository holds the blob (ARCHIVED when every image naming it is archived
  or being restored), UNAVAILABLE when it does not (what ECR's own clients rely on: AWS's
  containerd resolver uploads on UNAVAILABLE and treats a failure as an error). `failures` are
  for the request's own faults: an empty digest (MissingLayerDigest), one that breaks ECR's
  digest pattern (InvalidLayerDigest). The media type comes from the descriptor of the newest
  image naming the blob; a blob no image names has none (Stiva does not store one for blobs).
- Parts must arrive in order: `partFirstByte` equals the bytes received so far and the part spans
  `partLastByte - partFirstByte + 1` bytes, else InvalidLayerPartException carrying the last valid
  byte. At most 4,200 parts (LimitExceededException).
- Every part but the last must be at least 5 MiB. The last part is only known at completion, so a
  part under 5 MiB is accepted and remembered (`Upload.last_part_size`); when another part follows
  it the upload is marked (`undersized_part`) and CompleteLayerUpload refuses it with
  LayerPartTooSmallException, the one operation whose model declares that error.
- CompleteLayerUpload succeeds when any of the digests given (1-100) matches the content ("None of
  the provided layer digests match the calculated layer digest" otherwise); an upload with no
  bytes is EmptyUploadException; a layer the repository already holds is
  LayerAlreadyExistsException, after the content was verified (ECR's own containerd resolver
  treats that error as success when it sent a sha256 digest).
- Layers the repository holds but no image references are LayerInaccessibleException for
  GetDownloadUrlForLayer (ECR serves only layers that are part of an image).

Error texts marked "ECR's" below were captured from ECR; the others follow their wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from stiva.errors import (
    BlobNotFound,
    EmptyUpload,
    InvalidDigest,
    InvalidLayer,
    InvalidLayerPart,
    LayerAlreadyExists,
    LayerInaccessible,
    LayerPartTooSmall,
    LimitExceeded,
    StivaError,
    UploadNotFound,
)
from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.oci.manifest import parse_manifest
from stiva.services import downloads
from stiva.services.deployment import Deployment
from stiva.services.repositories import find_repository, get_repository
from stiva.services.templates import repository_for_push
from stiva.services.uploads import Uploads
from stiva.storage.base import Storage

PART_SIZE = 10 * 1024 * 1024  # InitiateLayerUpload's advice; ECR's samples show 10485760
MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last (ECR quota "minimum layer part size")
MAX_PARTS = 4200  # ECR quota "layer parts"


@dataclass(frozen=True, slots=True)
class PartReceipt:
    registry_id: str
    repository_name: str
    upload_id: str
    last_byte_received: int


@dataclass(frozen=True, slots=True)
class CompletedLayer:
    registry_id: str
    repository_name: str
    upload_id: str
    digest: Digest


@dataclass(frozen=True, slots=True)
class DownloadUrl:
    url: str
    digest: Digest


@dataclass(frozen=True, slots=True)
class LayerStatus:
    """A `Layer` of BatchCheckLayerAvailability; size and media type only for layers held."""

    digest: str
    availability: str  # AVAILABLE, UNAVAILABLE or ARCHIVED
    size: int | None = None
    media_type: str | None = None


@dataclass(frozen=True, slots=True)
class LayerFailure:
    digest: str
    code: str  # InvalidLayerDigest or MissingLayerDigest
    reason: str


# The model lets any string of 0-1000 characters through; ECR's digest pattern decides the rest.
_DIGEST_PATTERN = re.compile(r"[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+")
_MISSING = "Invalid request parameters: layer digest cannot be empty"
_INVALID = (
    "Invalid request parameters: layer digest should satisfy the regex "
    "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"
)


def _held(session: Session, repository_id: int, digests: set[str]) -> dict[str, int]:
    """Size of each of `digests` the repository holds."""
    rows = session.execute(
        select(m.Blob.digest, m.Blob.size)
        .join(m.RepositoryBlob, m.RepositoryBlob.digest == m.Blob.digest)
        .where(m.RepositoryBlob.repository_id == repository_id, m.Blob.digest.in_(digests))
    )
    return {digest: size for digest, size in rows}


def _references(
    session: Session, repository_id: int, digests: set[str]
) -> dict[str, tuple[int, int]]:
    """For each referenced digest: (the newest manifest naming it, how many such are ACTIVE)."""
    active = func.sum(case((m.Manifest.image_status == "ACTIVE", 1), else_=0))
    rows = session.execute(
        select(m.ManifestBlob.digest, func.max(m.Manifest.id), active)
        .join(m.Manifest, m.Manifest.id == m.ManifestBlob.manifest_id)
        .where(m.Manifest.repository_id == repository_id, m.ManifestBlob.digest.in_(digests))
        .group_by(m.ManifestBlob.digest)
    )
    return {digest: (manifest_id, int(count or 0)) for digest, manifest_id, count in rows}


def _media_types(session: Session, manifest_of: dict[str, int]) -> dict[str, str]:
    """Each blob's media type, as the descriptor in one manifest naming it gives it."""
    found: dict[str, str] = {}
    if not manifest_of:
        return found
    rows = session.execute(
        select(m.Manifest.content, m.Manifest.media_type).where(
            m.Manifest.id.in_(set(manifest_of.values()))
        )
    )
    for content, media_type in rows:
        try:
            manifest = parse_manifest(content, media_type)
        except StivaError:
            continue  # stored manifests were valid when pushed; never fail a check on one
        for descriptor in manifest.blob_references():
            if str(descriptor.digest) in manifest_of:
                found.setdefault(str(descriptor.digest), descriptor.media_type)
    return found


def _status(
    text: str, size: int | None, reference: tuple[int, int] | None, media_type: str | None
) -> LayerStatus:
    if size is None:
        return LayerStatus(text, "UNAVAILABLE")
    archived = reference is not None and reference[1] == 0  # every image naming it is archived
    return LayerStatus(text, "ARCHIVED" if archived else "AVAILABLE", size, media_type)


def batch_check_layer_availability(
    session: Session, *, account_id: str, name: str, digests: Sequence[str]
) -> tuple[list[LayerStatus], list[LayerFailure]]:
    """One `Layer` per well-formed digest (UNAVAILABLE when not held), one failure per other."""
    repo = get_repository(session, account_id=account_id, name=name)
    wanted = {text for text in digests if _DIGEST_PATTERN.fullmatch(text)}
    sizes = _held(session, repo.id, wanted) if wanted else {}
    references = _references(session, repo.id, set(sizes)) if sizes else {}
    media = _media_types(session, {d: ref[0] for d, ref in references.items()})
    layers: list[LayerStatus] = []
    failures: list[LayerFailure] = []
    for text in digests:
        if not text:
            failures.append(LayerFailure(text, "MissingLayerDigest", _MISSING))
        elif text not in wanted:
            failures.append(LayerFailure(text, "InvalidLayerDigest", _INVALID))
        else:
            layers.append(_status(text, sizes.get(text), references.get(text), media.get(text)))
    return layers, failures


def initiate_layer_upload(
    session: Session,
    *,
    uploads: Uploads,
    account_id: str,
    name: str,
    authorize_create: Callable[[], None] | None = None,
) -> str:
    """Open an upload in the repository a push to `name` lands in (perhaps created by a
    CREATE_ON_PUSH template, after `authorize_create()`); the upload's id."""
    repo = repository_for_push(
        session, account_id=account_id, name=name, authorize_create=authorize_create
    )
    return uploads.start(session, repository_id=repo.id)


def _upload_ref(repo: m.Repository, upload_id: str) -> str:
    return (
        f"The upload with id '{upload_id}' in the repository with name '{repo.name}' "
        f"in registry with id '{repo.account_id}'"
    )


def may_complete(session: Session, *, account_id: str, name: str, upload_id: str) -> bool:
    """Whether `upload_id` is an upload session of repository `name` that CompleteLayerUpload
    would not refuse for its parts (a plain read, ahead of its unit of work)."""
    repo = find_repository(session, account_id=account_id, name=name)
    if repo is None:
        return False
    row = session.get(m.Upload, upload_id)
    return row is not None and row.repository_id == repo.id and not row.undersized_part


def digest_to_stage(uploads: Uploads, upload_id: str, digests: Sequence[str]) -> Digest | None:
    """The digest among `digests` the upload's bytes have (each algorithm hashed once), or
    None: what CompleteLayerUpload will commit, found before its unit of work."""
    try:
        size = uploads.size(upload_id)
    except UploadNotFound:
        return None
    return _matching_digest(uploads, upload_id, size, digests) if size else None


def _upload(session: Session, repo: m.Repository, upload_id: str) -> m.Upload:
    """The upload row, locked for this unit of work (parts of one upload are serialised)."""
    row = session.get(m.Upload, upload_id, with_for_update=True)
    if row is None or row.repository_id != repo.id:
        raise UploadNotFound(f"{_upload_ref(repo, upload_id)} does not exist")
    return row


def _check_part(
    repo: m.Repository, upload_id: str, received: int, first: int, last: int, length: int
) -> None:
    if first != received:
        problem = f"First byte of the layer part is {first} instead of {received}"  # ECR's
    elif last != first + length - 1:
        problem = f"Last byte of the layer part is {last} instead of {first + length - 1}"
    else:
        return
    raise InvalidLayerPart(
        problem,
        registry_id=repo.account_id,
        repository_name=repo.name,
        upload_id=upload_id,
        last_valid_byte_received=max(received - 1, 0),
    )


def _count_part(row: m.Upload, length: int, now: datetime) -> None:
    if row.part_count > 0 and row.last_part_size < MIN_PART_SIZE:
        row.undersized_part = True  # the previous part was small and was not the last
    row.part_count += 1
    row.last_part_size = length
    row.updated_at = now


def upload_layer_part(
    session: Session,
    *,
    uploads: Uploads,
    account_id: str,
    name: str,
    upload_id: str,
    first_byte: int,
    last_byte: int,
    data: bytes,
    now: datetime,
) -> PartReceipt:
    """Append one part (at most 20 MiB, in memory) to the upload."""
    repo = get_repository(session, account_id=account_id, name=name)
    row = _upload(session, repo, upload_id)
    received = uploads.size(upload_id)
    _check_part(repo, upload_id, received, first_byte, last_byte, len(data))
    if row.part_count >= MAX_PARTS:
        raise LimitExceeded(
            f"{_upload_ref(repo, upload_id)} already has {MAX_PARTS} parts, "
            "the most a layer upload may have"
        )
    writer = uploads.open_chunk(upload_id, start=received, session=session)
    try:
        writer.write(data)
    except BaseException:
        writer.abort()
        raise
    size = writer.close()
    _count_part(row, len(data), now)
    return PartReceipt(repo.account_id, repo.name, upload_id, size - 1)


def _matching_digest(
    uploads: Uploads, upload_id: str, size: int, candidates: Sequence[str]
) -> Digest | None:
    """The first digest given that the upload's content has (sha256 first, from its cache)."""
    wanted: dict[str, set[Digest]] = {}
    for text in candidates:
        try:
            digest = Digest.parse(text)
        except InvalidDigest:
            continue  # a digest Stiva cannot compute cannot match
        wanted.setdefault(digest.algorithm, set()).add(digest)
    for algorithm in sorted(wanted, key=lambda name: name != "sha256"):
        actual = uploads.digest_of(upload_id, algorithm, size=size)
        if actual in wanted[algorithm]:
            return actual
    return None


def _holds(session: Session, repository_id: int, digest: Digest) -> bool:
    return (
        session.scalar(
            select(m.RepositoryBlob.digest).where(
                m.RepositoryBlob.repository_id == repository_id,
                m.RepositoryBlob.digest == str(digest),
            )
        )
        is not None
    )


def complete_layer_upload(
    session: Session,
    *,
    uploads: Uploads,
    account_id: str,
    name: str,
    upload_id: str,
    digests: Sequence[str],
) -> CompletedLayer:
    """Verify the upload against `digests`, commit it as a blob and link it to the repository."""
    repo = get_repository(session, account_id=account_id, name=name)
    row = _upload(session, repo, upload_id)
    size = uploads.size(upload_id)
    if size == 0:  # ECR's text
        raise EmptyUpload(
            f"{_upload_ref(repo, upload_id)} cannot be completed because it does not have any parts"
        )
    if row.undersized_part:
        raise LayerPartTooSmall(
            f"{_upload_ref(repo, upload_id)} cannot be completed because a part other than the "
            f"last is smaller than {MIN_PART_SIZE} bytes; layer parts must be at least 5 MiB"
        )
    with uploads.exclusive(upload_id, session):  # no part lands between the hash and the commit
        size = uploads.size(upload_id)
        digest = _matching_digest(uploads, upload_id, size, digests)
        if digest is None:  # ECR's text
            raise InvalidLayer(
                "None of the provided layer digests match the calculated layer digest"
            )
        if _holds(session, repo.id, digest):
            raise LayerAlreadyExists(
                f"The layer with digest '{digest}' already exists in the repository with name "
                f"'{repo.name}' in registry with id '{repo.account_id}'"
            )
        uploads.commit(session, repository_id=repo.id, upload_id=upload_id, digest=digest)
    return CompletedLayer(repo.account_id, repo.name, upload_id, digest)


def _referenced(session: Session, repository_id: int, digest: Digest) -> bool:
    found = session.scalar(
        select(m.ManifestBlob.manifest_id)
        .join(m.Manifest, m.Manifest.id == m.ManifestBlob.manifest_id)
        .where(m.Manifest.repository_id == repository_id, m.ManifestBlob.digest == str(digest))
        .limit(1)
    )
    return found is not None


def _layer_digest(session: Session, repo: m.Repository, text: str) -> Digest:
    """The layer `text` names if the repository holds it; LayersNotFoundException otherwise."""
    try:
        digest: Digest | None = Digest.parse(text)
    except InvalidDigest:
        digest = None
    if digest is None or not _holds(session, repo.id, digest):  # ECR's text
        raise BlobNotFound(
            f"The layer with digest '{text}' does not exist within the repository with name "
            f"'{repo.name}' in the registry with id '{repo.account_id}'"
        )
    return digest


def get_download_url_for_layer(
    session: Session,
    *,
    storage: Storage,
    deployment: Deployment,
    key: bytes,
    account_id: str,
    name: str,
    layer_digest: str,
    now: datetime,
) -> DownloadUrl:
    """A time-limited URL for a layer an image of the repository references."""
    repo = get_repository(session, account_id=account_id, name=name)
    digest = _layer_digest(session, repo, layer_digest)
    if not _referenced(session, repo.id, digest):
        raise LayerInaccessible(
            f"The layer with digest '{digest}' in the repository with name '{repo.name}' in the "
            f"registry with id '{repo.account_id}' is not associated with an image"
        )
    url = downloads.download_url(
        storage=storage,
        deployment=deployment,
        key=key,
        account_id=repo.account_id,
        name=repo.name,
        digest=digest,
        now=now,
    )
    return DownloadUrl(url, digest)
