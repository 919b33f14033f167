"""Domain errors → AWS JSON errors (`{"__type", "message"}`), through one table."""

from __future__ import annotations

from stiva import errors as e

# Most specific class first: the first entry the error is an instance of wins.
_TABLE: list[tuple[type[e.StivaError], str]] = [
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
