"""Errors in the query protocol's words: domain errors and SigV4 refusals -> (code, status).

Domain errors go through one table (most specific class first). The codes and statuses are
IAM's (its model's `error` traits: NoSuchEntity 404, EntityAlreadyExists 409, DeleteConflict
409, LimitExceeded 409, MalformedPolicyDocument 400, InvalidInput 400; a test checks them
against the model), plus AWS's common ones: ValidationError 400, AccessDenied 403.
`stiva.errors.Unsupported` (a parameter or feature Stiva does not have) is `NotImplemented`
with HTTP 501, like an operation Stiva does not serve: botocore and the aws CLI show the code
and message and do not retry a 501.

SigV4 refusals use the query services' codes, not the JSON ones: MissingAuthenticationToken
(403, "Request is missing Authentication Token"), IncompleteSignature (400),
SignatureDoesNotMatch (403: every signature, clock, scope and signed-header problem, and a body
hash mismatch), InvalidClientTokenId (403: unknown or inactive key, wrong session token) and
ExpiredToken (403: temporary credentials past their expiry).
"""

from __future__ import annotations

from typing import Final

from stiva import errors as e
from stiva.iam import sigv4
from stiva.iam.sigv4_errors import ExpiredToken
from stiva.services.iam import errors as iam

NOT_IMPLEMENTED: Final = ("NotImplemented", 501)

_TABLE: Final[list[tuple[type[e.StivaError], str, int]]] = [
    (iam.NoSuchEntity, "NoSuchEntity", 404),
    (iam.EntityAlreadyExists, "EntityAlreadyExists", 409),
    (iam.DeleteConflict, "DeleteConflict", 409),
    (iam.MalformedPolicyDocument, "MalformedPolicyDocument", 400),
    (iam.IamValidationError, "ValidationError", 400),
    (iam.InvalidInput, "InvalidInput", 400),
    (e.LimitExceeded, "LimitExceeded", 409),
    (e.AccessDenied, "AccessDenied", 403),
    (e.AuthenticationError, "InvalidClientTokenId", 403),
    (e.Unsupported, *NOT_IMPLEMENTED),
    (e.NotFound, "NoSuchEntity", 404),
    (e.InvalidRequest, "InvalidInput", 400),
    (e.Conflict, "InvalidInput", 400),
]

_SIGV4: Final[list[tuple[type[sigv4.SigV4Error], str, int, str | None]]] = [
    (sigv4.MissingAuthenticationToken, "MissingAuthenticationToken", 403,
     "Request is missing Authentication Token"),
    (sigv4.IncompleteSignature, "IncompleteSignature", 400, None),
    (sigv4.InvalidSignature, "SignatureDoesNotMatch", 403, None),
    (sigv4.ContentSHA256Mismatch, "SignatureDoesNotMatch", 403, None),
    (sigv4.UnrecognizedClient, "InvalidClientTokenId", 403, None),
    (ExpiredToken, "ExpiredToken", 403, None),
]  # fmt: skip


def classify(error: e.StivaError) -> tuple[str, int]:
    """The query error code and HTTP status of a domain error."""
    for kind, code, status in _TABLE:
        if isinstance(error, kind):
            return code, status
    return "ServiceFailure", 500


def sigv4_error(error: sigv4.SigV4Error) -> tuple[str, int, str]:
    """(code, status, message) of a SigV4 refusal, as IAM and STS answer it."""
    for kind, code, status, message in _SIGV4:
        if isinstance(error, kind):
            return code, status, message or error.message
    return "SignatureDoesNotMatch", 403, error.message
