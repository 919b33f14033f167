"""Domain errors → AWS JSON errors (`{"__type", "message"}`), through one table."""

from __future__ import annotations

from typing import Any

from stiva import errors as e

# Most specific class first: the first entry the error is an instance of wins.
_TABLE: list[tuple[type[e.StivaError], str]] = [
    (e.InvalidTagParameter, "InvalidTagParameterException"),
    (e.TooManyTags, "TooManyTagsException"),
    (e.LimitExceeded, "LimitExceededException"),
    (e.RepositoryPolicyNotFound, "RepositoryPolicyNotFoundException"),
    (e.RegistryPolicyNotFound, "RegistryPolicyNotFoundException"),
    (e.TemplateNotFound, "TemplateNotFoundException"),
    (e.TemplateAlreadyExists, "TemplateAlreadyExistsException"),
    (e.LayerAlreadyExists, "LayerAlreadyExistsException"),
    (e.LayerPartTooSmall, "LayerPartTooSmallException"),
    (e.InvalidLayerPart, "InvalidLayerPartException"),
    (e.InvalidLayer, "InvalidLayerException"),
    (e.EmptyUpload, "EmptyUploadException"),
    (e.LayerInaccessible, "LayerInaccessibleException"),
    (e.ImageArchived, "ImageArchivedException"),
    (e.ImageStorageClassUpdateNotSupported, "ImageStorageClassUpdateNotSupportedException"),
    (e.ExclusionAlreadyExists, "ExclusionAlreadyExistsException"),
    (e.ExclusionNotFound, "ExclusionNotFoundException"),
    (e.KmsError, "KmsException"),
    (e.LifecyclePolicyNotFound, "LifecyclePolicyNotFoundException"),
    (e.LifecyclePolicyPreviewNotFound, "LifecyclePolicyPreviewNotFoundException"),
    (e.LifecyclePolicyPreviewInProgress, "LifecyclePolicyPreviewInProgressException"),
    (e.ScanNotFound, "ScanNotFoundException"),
    (e.UnsupportedImageType, "UnsupportedImageTypeException"),
    (e.FeatureDisabled, "ValidationException"),
    (e.ReplicationBackfillNotFound, "ReplicationBackfillNotFoundException"),
    (e.ReplicationBackfillInvalidStatus, "ReplicationBackfillInvalidStatusException"),
    (e.ReplicationBackfillInProgress, "ReplicationBackfillInProgressException"),
    (e.RepositoryNotFound, "RepositoryNotFoundException"),
    (e.RepositoryAlreadyExists, "RepositoryAlreadyExistsException"),
    (e.RepositoryNotEmpty, "RepositoryNotEmptyException"),
    (e.ManifestNotFound, "ImageNotFoundException"),
    (e.BlobNotFound, "LayersNotFoundException"),
    (e.UploadNotFound, "UploadNotFoundException"),
    (e.ImageAlreadyExists, "ImageAlreadyExistsException"),
    (e.TagImmutable, "ImageTagAlreadyExistsException"),
    (e.DigestMismatch, "ImageDigestDoesNotMatchException"),
    (e.AccessDenied, "AccessDeniedException"),
    (e.AuthenticationError, "UnrecognizedClientException"),
    (e.InvalidRequest, "InvalidParameterException"),
    (e.Unsupported, "InvalidParameterException"),
    (e.Conflict, "InvalidParameterException"),
]


def classify(error: e.StivaError) -> tuple[str, int]:
    """The AWS error code and HTTP status for a domain error."""
    if isinstance(error, e.ManifestReferencesUnknown):
        code = "ReferencedImagesNotFoundException" if error.children else "LayersNotFoundException"
        return code, 400
    for kind, code in _TABLE:
        if isinstance(error, kind):
            return code, 400
    return "ServerException", 500


def extra_members(error: e.StivaError) -> dict[str, Any]:
    """Members an exception shape has besides `message` (ECR's InvalidLayerPartException, ...)."""
    if isinstance(error, e.InvalidLayerPart):
        return {
            "registryId": error.registry_id,
            "repositoryName": error.repository_name,
            "uploadId": error.upload_id,
            "lastValidByteReceived": error.last_valid_byte_received,
        }
    if isinstance(error, e.KmsError):
        return {"kmsError": "NoKeyProvider"}
    return {}
