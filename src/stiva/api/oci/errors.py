"""Domain errors → OCI error JSON, through one table."""

from __future__ import annotations

import json

from starlette.responses import Response

from stiva import errors as e

API_VERSION_HEADER = {"Docker-Distribution-Api-Version": "registry/2.0"}

# Most specific class first: the first entry the error is an instance of wins.
_TABLE: list[tuple[type[e.StivaError], str, int]] = [
    (e.InvalidName, "NAME_INVALID", 400),
    (e.InvalidTag, "TAG_INVALID", 400),
    (e.InvalidDigest, "DIGEST_INVALID", 400),
    (e.DigestMismatch, "DIGEST_INVALID", 400),
    (e.SizeMismatch, "SIZE_INVALID", 400),
    (e.ManifestTooLarge, "SIZE_INVALID", 413),
    (e.InvalidManifest, "MANIFEST_INVALID", 400),
    (e.InvalidRange, "BLOB_UPLOAD_INVALID", 416),
    (e.InvalidRequest, "UNSUPPORTED", 400),
    (e.RepositoryNotFound, "NAME_UNKNOWN", 404),
    (e.ManifestNotFound, "MANIFEST_UNKNOWN", 404),
    (e.BlobNotFound, "BLOB_UNKNOWN", 404),
    (e.UploadNotFound, "BLOB_UPLOAD_UNKNOWN", 404),
    (e.NotFound, "NAME_UNKNOWN", 404),
    (e.ManifestReferencesUnknown, "MANIFEST_BLOB_UNKNOWN", 400),
    (e.TagImmutable, "TAG_INVALID", 400),
    (e.Conflict, "DENIED", 409),
    (e.AuthenticationError, "UNAUTHORIZED", 401),
    (e.AccessDenied, "DENIED", 403),
    (e.Unsupported, "UNSUPPORTED", 405),
]


def classify(error: e.StivaError) -> tuple[str, int]:
    for kind, code, status in _TABLE:
        if isinstance(error, kind):
            return code, status
    return "UNKNOWN", 500


def error_response(
    code: str,
    message: str,
    status: int,
    *,
    detail: object = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    all_headers = {**API_VERSION_HEADER, **(headers or {})}
    return Response(
        json.dumps({"errors": [body]}),
        status_code=status,
        media_type="application/json",
        headers=all_headers,
    )


def to_response(error: e.StivaError, *, headers: dict[str, str] | None = None) -> Response:
    code, status = classify(error)
    detail: object = None
    if isinstance(error, e.ManifestReferencesUnknown):
        detail = {"missing": error.missing}
    return error_response(code, error.message, status, detail=detail, headers=headers)
