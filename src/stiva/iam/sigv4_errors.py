"""The refusals of the SigV4 verifier (`stiva.iam.sigv4`): one exception per AWS answer.

Each class carries what AWS puts on the wire: `code` (the JSON ``__type``), `status` (the HTTP
status) and `message`. Import them from `stiva.iam.sigv4`, which re-exports every one.

Errors
------
Every refusal is a `SigV4Error`; `code` is the ``__type``, `status` the HTTP status.

==========================  ===================================  ======
class                       code                                 status
==========================  ===================================  ======
MissingAuthenticationToken  MissingAuthenticationTokenException  403
IncompleteSignature         IncompleteSignatureException         400
InvalidSignature            InvalidSignatureException            403
  SignatureMismatch         InvalidSignatureException            403
  SignatureExpired          InvalidSignatureException            403
  SignatureNotYetCurrent    InvalidSignatureException            403
  HeaderNotSigned           InvalidSignatureException            403
  InvalidCredentialScope    InvalidSignatureException            403
UnrecognizedClient          UnrecognizedClientException          400
ExpiredToken                ExpiredTokenException                403
ContentSHA256Mismatch       XAmzContentSHA256Mismatch            400
==========================  ===================================  ======

Messages (``<...>`` are filled in; "..." joins the sentences that apply):

* MissingAuthenticationToken: ``Missing Authentication Token``
* IncompleteSignature:
    ``Authorization header requires 'Credential' parameter. Authorization header requires
    'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.
    Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.
    Authorization=<header>``;
    ``'<item>' not a valid key=value pair (missing equal-sign) in Authorization header:
    '<header>'.``;
    ``AWS query-string parameters must include 'X-Amz-Algorithm'. ... Re-examine the
    query-string parameters.`` (also 'X-Amz-Credential', 'X-Amz-Signature',
    'X-Amz-SignedHeaders', 'X-Amz-Date');
    ``Unsupported AWS 'algorithm': '<algorithm>'.``;
    ``Date must be in ISO-8601 'basic format'. Got '<date>'. See
    http://en.wikipedia.org/wiki/ISO_8601``;
    ``Credential must have exactly 5 slash-delimited elements, e.g.
    keyid/date/region/service/term, got '<credential>'``;
    ``X-Amz-Expires should be a number``;
    ``X-Amz-Expires must be less than a week (in seconds) that is 604800``
* SignatureMismatch: ``The request signature we calculated does not match the signature you
  provided. Check your AWS Secret Access Key and signing method. Consult the service
  documentation for details.`` (also carries the canonical request and string to sign)
* InvalidSignature itself: ``Found both 'X-Amz-Algorithm' as a query-string param and
  'Authorization' as HTTP header.``
* SignatureExpired: ``Signature expired: 20240101T000000Z is now earlier than
  20240101T001000Z (20240101T002500Z - 15 min.)``; presigned: ``Request has expired``
* SignatureNotYetCurrent: ``Signature not yet current: 20240101T004000Z is still later than
  20240101T001500Z (20240101T000000Z + 15 min.)``
* HeaderNotSigned: ``'Host' or ':authority' must be a 'SignedHeader' in the AWS
  Authorization.``; likewise ``'X-Amz-Date' ...``, ``'Date' ...``,
  ``'X-Amz-Security-Token' ...``
* InvalidCredentialScope, the applicable sentences concatenated:
  ``Credential should be scoped to a valid region, not '<region>'. `` /
  ``Credential should be scoped to correct service: '<service>'. `` /
  ``Credential should be scoped with a valid terminator: 'aws4_request', not '<term>'. `` /
  ``Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from
  HTTP: '<scope date>' != '<request date>', from '<request timestamp>'.``
* UnrecognizedClient: ``The security token included in the request is invalid.``
* ExpiredToken: ``The security token included in the request is expired`` (raised by the key
  lookup, for temporary credentials past their expiry; JSON services such as Lambda and
  Timestream are seen answering 403 ExpiredTokenException, query services 403 ExpiredToken)
* ContentSHA256Mismatch: ``The provided 'x-amz-content-sha256' header does not match what
  was computed.``

Sources, and the texts that were inferred rather than observed, are listed in the docstring of
`stiva.iam.sigv4`.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ContentSHA256Mismatch",
    "ExpiredToken",
    "HeaderNotSigned",
    "IncompleteSignature",
    "InvalidCredentialScope",
    "InvalidSignature",
    "MissingAuthenticationToken",
    "SigV4Error",
    "SignatureExpired",
    "SignatureMismatch",
    "SignatureNotYetCurrent",
    "UnrecognizedClient",
]


class SigV4Error(Exception):
    """A refused request. `code` is AWS's error code (the JSON ``__type``), `status` the HTTP
    status AWS answers with, `message` AWS's text."""

    code: ClassVar[str] = "InvalidSignatureException"
    status: ClassVar[int] = 403
    default_message: ClassVar[str] = "The request could not be authenticated."

    def __init__(self, message: str | None = None) -> None:
        self.message: str = self.default_message if message is None else message
        super().__init__(self.message)


class MissingAuthenticationToken(SigV4Error):
    """No SigV4 authentication at all (no Authorization header, no X-Amz-Algorithm)."""

    code = "MissingAuthenticationTokenException"
    status = 403
    default_message = "Missing Authentication Token"


class IncompleteSignature(SigV4Error):
    """The authentication is malformed: parts missing, unparseable date or credential."""

    code = "IncompleteSignatureException"
    status = 400
    default_message = "The request signature does not conform to AWS standards."


class InvalidSignature(SigV4Error):
    """The signature does not verify, or the request's signed parts are unacceptable."""

    code = "InvalidSignatureException"
    status = 403
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


class SignatureMismatch(InvalidSignature):
    """The computed signature differs. Carries what the server computed, for logs (never
    secret: neither contains key material)."""

    def __init__(self, *, canonical_request: str, string_to_sign: str) -> None:
        super().__init__()
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


class SignatureExpired(InvalidSignature):
    """The request time is too far in the past, or a presigned URL has expired."""


class SignatureNotYetCurrent(InvalidSignature):
    """The request time is too far in the future."""


class HeaderNotSigned(InvalidSignature):
    """A header that must be covered by the signature is not among SignedHeaders."""


class InvalidCredentialScope(InvalidSignature):
    """The credential scope names another region, service, terminator or date."""


class UnrecognizedClient(SigV4Error):
    """Unknown access key id, or a session token that does not belong to the key."""

    code = "UnrecognizedClientException"
    status = 400
    default_message = "The security token included in the request is invalid."


class ContentSHA256Mismatch(SigV4Error):
    """``x-amz-content-sha256`` is not the hash of the body received."""

    code = "XAmzContentSHA256Mismatch"
    status = 400
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class ExpiredToken(SigV4Error):
    """Temporary credentials (an STS session) used after they expired. The key lookup raises
    it: only the store knows the expiry."""

    code = "ExpiredTokenException"
    status = 403
    default_message = "The security token included in the request is expired"
