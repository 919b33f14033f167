"""Layer download URLs (GetDownloadUrlForLayer): time-limited, usable with a plain GET.

ECR answers GetDownloadUrlForLayer with a presigned S3 URL valid for an hour (`X-Amz-Expires=3600`
in observed URLs). Stiva does the same: when the storage driver can presign (`redirect_url`, S3),
the URL is the driver's own; otherwise it is Stiva's blob endpoint with a signature in the query:

    <proxy endpoint>/v2/<name>/blobs/<digest>
        ?X-Stiva-Account=<registry id>      the registry the blob is read from
        &X-Stiva-Expires=<epoch seconds>    when the URL stops working
        &X-Stiva-Signature=<base64url(HMAC-SHA256(download key, account, name, digest, expires))>

The `/v2/` router serves GET and HEAD of exactly that blob with these parameters and no other
credentials (`verify_presigned`): the signature binds account, repository, digest and expiry, so a
change to any of them, or a late request, is refused (403 DENIED). The key is a deployment secret
(`DOWNLOAD_KEY`, in `deployment_secrets`), so any node verifies any node's URLs. No IAM policy is
evaluated for such a request: the caller of GetDownloadUrlForLayer was authorized when the URL
was made, as with ECR's presigned S3 URLs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from stiva.errors import AccessDenied
from stiva.oci.digest import Digest
from stiva.services.deployment import Deployment
from stiva.services.identity import Principal
from stiva.storage.base import Storage
from stiva.storage.layout import blob_path

DOWNLOAD_KEY = "download-url-key"
URL_LIFETIME = timedelta(hours=1)
ACCOUNT_PARAM = "X-Stiva-Account"
EXPIRES_PARAM = "X-Stiva-Expires"
SIGNATURE_PARAM = "X-Stiva-Signature"
URL_PRINCIPAL_ARN = "stiva:download-url"  # who reads through a download URL (not an IAM identity)


def _signature(key: bytes, *, account_id: str, name: str, digest: str, expires: int) -> str:
    message = "\n".join(("stiva-download-v1", account_id, name, digest, str(expires)))
    mac = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def presigned_query(
    key: bytes, *, account_id: str, name: str, digest: str, expires: int
) -> dict[str, str]:
    """The query parameters that let a plain GET read blob `digest` of `name` until `expires`."""
    signature = _signature(key, account_id=account_id, name=name, digest=digest, expires=expires)
    return {ACCOUNT_PARAM: account_id, EXPIRES_PARAM: str(expires), SIGNATURE_PARAM: signature}


def is_presigned(query: Mapping[str, str]) -> bool:
    """True when a request carries download-URL parameters (and must be judged by them alone)."""
    return any(param in query for param in (ACCOUNT_PARAM, EXPIRES_PARAM, SIGNATURE_PARAM))


def verify_presigned(
    key: bytes, query: Mapping[str, str], *, name: str, digest: str, now: datetime
) -> str:
    """The registry (account) a download-URL request reads from; AccessDenied if forged or late."""
    account_id = query.get(ACCOUNT_PARAM, "")
    expires = query.get(EXPIRES_PARAM, "")
    signature = query.get(SIGNATURE_PARAM, "")
    well_formed = (
        len(account_id) == 12
        and account_id.isdigit()
        and 0 < len(expires) <= 12
        and expires.isdigit()
    )
    if not well_formed or not signature:
        raise AccessDenied("The download URL is incomplete or malformed.")
    expected = _signature(
        key, account_id=account_id, name=name, digest=digest, expires=int(expires)
    )
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise AccessDenied(
            "The download URL's signature does not match the blob it names; "
            "request a new URL with GetDownloadUrlForLayer."
        )
    if int(expires) <= int(now.timestamp()):
        raise AccessDenied(
            "The download URL has expired; request a new one with GetDownloadUrlForLayer."
        )
    return account_id


def url_principal(account_id: str) -> Principal:
    """The principal of a request made with a download URL (the URL grants; nobody signs in)."""
    return Principal(arn=URL_PRINCIPAL_ARN, account_id=account_id, user_id="", access_key_id="")


def download_url(
    *,
    storage: Storage,
    deployment: Deployment,
    key: bytes,
    account_id: str,
    name: str,
    digest: Digest,
    now: datetime,
) -> str:
    """A URL that reads blob `digest` of repository `name` with no other credentials, for an hour.

    The storage driver's presigned URL when it offers one, else Stiva's own blob endpoint at the
    deployment's public address with a signed query.
    """
    lifetime = int(URL_LIFETIME.total_seconds())
    redirect = storage.redirect_url(blob_path(digest), expires_in=lifetime)
    if redirect is not None:
        return redirect
    query = presigned_query(
        key,
        account_id=account_id,
        name=name,
        digest=str(digest),
        expires=int(now.timestamp()) + lifetime,
    )
    path = f"/v2/{quote(name)}/blobs/{quote(str(digest), safe=':')}"
    return f"{deployment.proxy_endpoint(account_id)}{path}?{urlencode(query)}"
