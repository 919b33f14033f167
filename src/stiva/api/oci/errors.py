"""Domain errors → OCI error JSON, through one table."""

from __future__ import annotations

import json

from starlette.responses import Response

from stiva import errors as e

API_VERSION_HEADER = {"Docker-Distribution-Api-Version": "registry/2.0"}


class RangeNotSatisfiable(e.InvalidRange):
    """A blob read's `Range` lies outside the blob: 416 with `Content-Range: bytes */<size>`."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message, current_size=size)
        self.response_headers = {"Content-Range": f"bytes */{size}"}


# Most specific class first: the first entry the error is an instance of wins.
_TABLE: list[tuple[type[e.StivaError], str, int]] = [
    (RangeNotSatisfiable, "SIZE_INVALID", 416),
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
    # The spec's DELETE manifest failures are 400, 404 and 405: a child of an index is a 400.
    (e.ImageReferencedByIndex, "DENIED", 400),
    (e.Conflict, "DENIED", 409),
    (e.AuthenticationError, "UNAUTHORIZED", 401),
    (e.AccessDenied, "DENIED", 403),
    (e.Unsupported, "UNSUPPORTED", 405),
    (e.LimitExceeded, "DENIED", 403),
    (e.KmsError, "UNSUPPORTED", 405),
]


def classify(error: e.StivaError) -> tuple[str, int]:
    for kind, code, status in _TABLE:
        if isinstance(error, kind):
            return code, status
    return "UNKNOWN", 500


def _json_response(
    entries: list[dict[str, object]], status: int, headers: dict[str, str] | None
) -> Response:
    return Response(
        json.dumps({"errors": entries}),
        status_code=status,
        media_type="application/json",
        headers={**API_VERSION_HEADER, **(headers or {})},
    )


def error_response(
    code: str,
    message: str,
    status: int,
    *,
    detail: object = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """`{"errors": [{"code", "message", "detail"?}]}`, the OCI error body."""
    body: dict[str, object] = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return _json_response([body], status, headers)


def to_response(error: e.StivaError, *, headers: dict[str, str] | None = None) -> Response:
    code, status = classify(error)
    if isinstance(error, e.ManifestReferencesUnknown) and error.missing:
        # One error per missing digest, each naming it in `detail`, as Distribution answers.
        kind = "manifest" if error.children else "blob"
        entries: list[dict[str, object]] = [
            {
                "code": code,
                "message": f"the manifest references {kind} {digest}, "
                "which this repository does not hold",
                "detail": {"digest": digest},
            }
            for digest in error.missing
        ]
        return _json_response(entries, status, headers)
    return error_response(code, error.message, status, headers=headers)
