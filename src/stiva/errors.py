"""Stiva's domain errors: what went wrong, in the registry's own words.

Services raise these; each API surface maps them to its wire format once, through a table
(`stiva.api.oci.errors` for OCI error JSON, `stiva.api.ecr.errors` for AWS `__type` + `message`).
Messages follow ECR's texts where ECR has one, because clients print them verbatim.

    StivaError
    ├── InvalidRequest                 the caller sent something malformed
    │   ├── InvalidName                repository name fails the grammar
    │   ├── InvalidTag                 tag fails the grammar
    │   ├── InvalidDigest              digest fails the grammar or its algorithm is unknown
    │   ├── DigestMismatch             content does not hash to the digest given
    │   ├── SizeMismatch               content length differs from the size given
    │   ├── InvalidManifest            manifest JSON / schema / media type problems
    │   ├── ManifestTooLarge           manifest over the size limit
    │   ├── InvalidRange               chunk out of order or Range unsatisfiable
    │   └── InvalidParameter           any other bad parameter (ECR's InvalidParameterException)
    ├── NotFound
    │   ├── RepositoryNotFound
    │   ├── ManifestNotFound           also ECR's ImageNotFound
    │   ├── BlobNotFound
    │   └── UploadNotFound
    ├── ManifestReferencesUnknown      manifest names blobs / child manifests the repository lacks
    ├── Conflict
    │   ├── RepositoryAlreadyExists
    │   ├── RepositoryNotEmpty
    │   ├── ImageReferencedByIndex     a child of a live index cannot be deleted
    │   ├── ImageAlreadyExists         PutImage of the same manifest and tag
    │   └── TagImmutable               tag exists in an immutable repository
    ├── AuthenticationError            no, garbled or unknown credentials
    │   └── TokenExpired
    ├── AccessDenied                   authenticated, but not allowed
    ├── Unsupported                    a feature Stiva does not (yet) have; never a fake success
    ├── ConfigError                    invalid configuration (start-up and `stiva check-config`)
    └── (ECR control-plane errors, each one ECR exception)
        InvalidTagParameter, TooManyTags, LimitExceeded, RepositoryPolicyNotFound,
        RegistryPolicyNotFound, TemplateNotFound, TemplateAlreadyExists, LayerAlreadyExists,
        LayerPartTooSmall, InvalidLayerPart, InvalidLayer, EmptyUpload, LayerInaccessible,
        ImageArchived, ImageStorageClassUpdateNotSupported, ExclusionAlreadyExists,
        ExclusionNotFound, KmsError, LifecyclePolicyNotFound, LifecyclePolicyPreviewNotFound,
        LifecyclePolicyPreviewInProgress, ScanNotFound, UnsupportedImageType, FeatureDisabled,
        ReplicationBackfillNotFound, ReplicationBackfillInvalidStatus,
        ReplicationBackfillInProgress
"""

from __future__ import annotations


class StivaError(Exception):
    """Base of every domain error. `message` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(StivaError):
    pass


class InvalidName(InvalidRequest):
    pass


class InvalidTag(InvalidRequest):
    pass


class InvalidDigest(InvalidRequest):
    pass


class DigestMismatch(InvalidRequest):
    pass


class SizeMismatch(InvalidRequest):
    pass


class InvalidManifest(InvalidRequest):
    pass


class ManifestTooLarge(InvalidRequest):
    pass


class InvalidRange(InvalidRequest):
    """A chunk does not continue the upload, or a requested range cannot be served.

    `current_size` is the number of bytes the upload (or blob) holds, for the response headers.
    """

    def __init__(self, message: str, *, current_size: int | None = None) -> None:
        super().__init__(message)
        self.current_size = current_size


class InvalidParameter(InvalidRequest):
    pass


class NotFound(StivaError):
    pass


class RepositoryNotFound(NotFound):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{name}' does not exist in the registry "
            f"with id '{registry_id}'"
        )
        self.name = name
        self.registry_id = registry_id


class ManifestNotFound(NotFound):
    pass


class BlobNotFound(NotFound):
    pass


class UploadNotFound(NotFound):
    pass


class ManifestReferencesUnknown(StivaError):
    """The manifest names content the repository does not hold.

    `missing` lists the digests; `children` is True when they are child manifests of an index
    (ECR's ReferencedImagesNotFoundException) rather than blobs (LayersNotFoundException).
    """

    def __init__(self, message: str, *, missing: list[str], children: bool) -> None:
        super().__init__(message)
        self.missing = missing
        self.children = children


class Conflict(StivaError):
    pass


class RepositoryAlreadyExists(Conflict):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{name}' already exists in the registry "
            f"with id '{registry_id}'"
        )


class RepositoryNotEmpty(Conflict):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{name}' in registry with id '{registry_id}' "
            "cannot be deleted because it still contains images"
        )


class ImageReferencedByIndex(Conflict):
    pass


class ImageAlreadyExists(Conflict):
    pass


class TagImmutable(Conflict):
    pass


class AuthenticationError(StivaError):
    pass


class TokenExpired(AuthenticationError):
    def __init__(self) -> None:
        super().__init__("Your authorization token has expired. Reauthenticate and try again.")


class AccessDenied(StivaError):
    pass


class Unsupported(StivaError):
    pass


class ConfigError(StivaError):
    pass


# --- ECR control-plane errors: one class per ECR exception (mapped in api/ecr/errors.py) -------


class InvalidTagParameter(InvalidRequest):
    """A resource tag key or value breaks ECR's rules."""


class TooManyTags(InvalidRequest):
    """More than 50 resource tags on a repository."""


class LimitExceeded(StivaError):
    """A quota (templates, exclusions, parts, ...) would be exceeded."""


class RepositoryPolicyNotFound(NotFound):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"Repository policy does not exist for the repository with name '{name}' "
            f"in the registry with id '{registry_id}'"
        )


class RegistryPolicyNotFound(NotFound):
    def __init__(self, registry_id: str) -> None:
        super().__init__(f"Registry policy does not exist in the registry with id '{registry_id}'")


class TemplateNotFound(NotFound):
    pass


class TemplateAlreadyExists(Conflict):
    pass


class LayerAlreadyExists(Conflict):
    pass


class LayerPartTooSmall(InvalidRequest):
    pass


class InvalidLayerPart(InvalidRequest):
    """A part does not continue the upload; carries what ECR's InvalidLayerPartException does."""

    def __init__(
        self,
        message: str,
        *,
        registry_id: str,
        repository_name: str,
        upload_id: str,
        last_valid_byte_received: int,
    ) -> None:
        super().__init__(message)
        self.registry_id = registry_id
        self.repository_name = repository_name
        self.upload_id = upload_id
        self.last_valid_byte_received = last_valid_byte_received


class InvalidLayer(InvalidRequest):
    """The uploaded layer's content does not match the digest given."""


class EmptyUpload(InvalidRequest):
    pass


class LayerInaccessible(NotFound):
    """The layer exists but no image in the repository references it."""


class ImageArchived(Conflict):
    pass


class ImageStorageClassUpdateNotSupported(InvalidRequest):
    pass


class ExclusionAlreadyExists(Conflict):
    pass


class ExclusionNotFound(NotFound):
    pass


class KmsError(StivaError):
    """A KMS key is needed and no key provider is configured (ECR's KmsException)."""


class LifecyclePolicyNotFound(NotFound):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"Lifecycle policy does not exist for the repository with name '{name}' "
            f"in the registry with id '{registry_id}'"
        )


class LifecyclePolicyPreviewNotFound(NotFound):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"Lifecycle policy preview does not exist for the repository with name '{name}' "
            f"in the registry with id '{registry_id}'"
        )


class LifecyclePolicyPreviewInProgress(Conflict):
    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            "The previous lifecycle policy preview request has not completed for the repository "
            f"with name '{name}' in the registry with id '{registry_id}'. Wait and try again."
        )


class ScanNotFound(NotFound):
    """The image has no scan (ECR's ScanNotFoundException)."""


class UnsupportedImageType(InvalidRequest):
    """The image is of a type that cannot be scanned (an index, a non-image artifact)."""


class FeatureDisabled(InvalidRequest):
    """An operation the registry's configuration turns off (ECR's ValidationException)."""


class ReplicationBackfillNotFound(NotFound):
    """No backfill with that id in the registry (ECR's ReplicationBackfillNotFoundException)."""


class ReplicationBackfillInvalidStatus(Conflict):
    """The backfill cannot change from its status (ReplicationBackfillInvalidStatusException)."""


class ReplicationBackfillInProgress(Conflict):
    """A backfill to that destination region runs already (ReplicationBackfillInProgress)."""
