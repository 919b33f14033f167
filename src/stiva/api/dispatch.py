"""`POST /`: one endpoint, three services, told apart the way AWS's SDKs address them.

* `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>` (AWS JSON 1.1): ECR
  (`stiva.api.ecr.protocol`);
* a form-encoded body (`Content-Type: application/x-www-form-urlencoded`, `Action=...`) or an
  `Action` in the query string: the query protocol (`stiva.api.iam.protocol`), IAM or STS by the
  service of the SigV4 credential scope (`Credential=<key>/<date>/<region>/<service>/...`;
  `sts` is STS, anything else IAM, whose verification then refuses a foreign scope);
* anything else: ECR, which answers in its own words (missing target, unsigned request).

`endpoint()` builds the handler once per app (it loads the IAM and STS models).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from stiva.api.ecr.protocol import handle as ecr_handle
from stiva.api.iam.protocol import handle as query_handle
from stiva.api.iam.services import iam_service, sts_service

FORM_TYPE: Final = "application/x-www-form-urlencoded"
_CREDENTIAL: Final = re.compile(r"Credential=([^,\s]+)")


def is_query_protocol(request: Request) -> bool:
    if request.headers.get("x-amz-target") is not None:
        return False
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return content_type == FORM_TYPE or "Action" in parse_qs(request.url.query)


def scope_service(request: Request) -> str | None:
    """The service named by the request's SigV4 credential scope, if it has a readable one."""
    match = _CREDENTIAL.search(request.headers.get("authorization", ""))
    credential = match[1] if match else None
    if credential is None:
        values = parse_qs(request.url.query).get("X-Amz-Credential")
        credential = values[0] if values else None
    parts = credential.split("/") if credential else []
    return parts[3] if len(parts) == 5 else None


def endpoint() -> Callable[[Request], Awaitable[Response]]:
    iam, sts = iam_service(), sts_service()

    async def handle(request: Request) -> Response:
        if not is_query_protocol(request):
            return await ecr_handle(request)
        service = sts if scope_service(request) == "sts" else iam
        return await query_handle(request, service)

    return handle
