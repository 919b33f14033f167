"""The `/v2/` route table and dispatcher: authenticate, authorize, call one handler, map errors.

Each endpoint names the ECR action ECR's own registry endpoint authorizes for it (pull:
BatchGetImage, GetDownloadUrlForLayer; push: BatchCheckLayerAvailability, InitiateLayerUpload,
UploadLayerPart, CompleteLayerUpload, PutImage; delete: BatchDeleteImage).

A blob GET or HEAD carrying a GetDownloadUrlForLayer signature (`services/downloads.py`) is
judged by that signature alone: no Authorization header, no policy; a forged or expired one is
403 DENIED. The signed account, not the Host header, selects the registry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from stiva.api.oci import blobs, discovery, extensions, manifests, uploads
from stiva.api.oci.errors import error_response, to_response
from stiva.api.oci.request import OciRequest
from stiva.errors import AccessDenied, AuthenticationError, StivaError
from stiva.oci.names import parse_name
from stiva.services import downloads
from stiva.services.context import RegistryContext
from stiva.services.identity import Principal
from stiva.services.replication import inbound
from stiva.services.tokens import authenticate_basic
from stiva.storage.driver import StorageError

log = logging.getLogger(__name__)
Handler = Callable[[OciRequest], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    handler: Handler
    action: str | None  # the ECR action authorized on the repository; None: no repository
    presignable: bool = False  # a GetDownloadUrlForLayer URL may stand in for credentials


@dataclass(frozen=True, slots=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Endpoint]


def _route(pattern: str, **methods: Endpoint) -> Route:
    return Route(re.compile(pattern), methods)


# Permissive on purpose: a malformed name must reach `parse_name` and answer NAME_INVALID, not 404.
_NAME = r"(?P<name>[^?#]+?)"
ROUTES: tuple[Route, ...] = (
    _route(r"^/v2/?$", GET=Endpoint(discovery.base, None), HEAD=Endpoint(discovery.base, None)),
    _route(r"^/v2/_catalog$", GET=Endpoint(discovery.catalog, None)),
    _route(rf"^/v2/{_NAME}/tags/list$", GET=Endpoint(discovery.tags_list, "ecr:ListImages")),
    _route(
        rf"^/v2/{_NAME}/manifests/(?P<reference>[^/]+)$",
        GET=Endpoint(manifests.get_manifest, "ecr:BatchGetImage"),
        HEAD=Endpoint(manifests.get_manifest, "ecr:BatchGetImage"),
        PUT=Endpoint(manifests.put_manifest, "ecr:PutImage"),
        DELETE=Endpoint(manifests.delete_manifest, "ecr:BatchDeleteImage"),
    ),
    _route(
        rf"^/v2/{_NAME}/blobs/uploads/?$",
        POST=Endpoint(uploads.start_upload, "ecr:InitiateLayerUpload"),
    ),
    _route(
        rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]+)$",
        GET=Endpoint(uploads.get_upload, "ecr:InitiateLayerUpload"),
        HEAD=Endpoint(uploads.get_upload, "ecr:InitiateLayerUpload"),
        PATCH=Endpoint(uploads.patch_upload, "ecr:UploadLayerPart"),
        PUT=Endpoint(uploads.put_upload, "ecr:CompleteLayerUpload"),
        DELETE=Endpoint(uploads.delete_upload, "ecr:InitiateLayerUpload"),
    ),
    _route(
        rf"^/v2/{_NAME}/blobs/(?P<digest>[^/]+)$",
        GET=Endpoint(blobs.get_blob, "ecr:GetDownloadUrlForLayer", presignable=True),
        HEAD=Endpoint(blobs.head_blob, "ecr:BatchCheckLayerAvailability", presignable=True),
        DELETE=Endpoint(blobs.delete_blob, "ecr:BatchDeleteImage"),
    ),
    _route(
        rf"^/v2/{_NAME}/referrers/(?P<digest>[^/]+)$",
        GET=Endpoint(discovery.referrers, "ecr:BatchGetImage"),
    ),
    _route(
        rf"^/v2/{_NAME}/_stiva/sbom/(?P<reference>[^/]+)$",
        GET=Endpoint(extensions.sbom, "ecr:DescribeImageScanFindings"),
    ),
)
METHODS = sorted({method for route in ROUTES for method in route.methods})
# What a replication delivery may do here (services/replication/remote.py), nothing more.
REPLICATION_ENDPOINTS: frozenset[tuple[str, Handler]] = frozenset(
    {
        ("HEAD", blobs.head_blob),
        ("POST", uploads.start_upload),
        ("PATCH", uploads.patch_upload),
        ("PUT", uploads.put_upload),
        ("HEAD", manifests.get_manifest),
        ("PUT", manifests.put_manifest),
        ("DELETE", manifests.delete_manifest),
    }
)


def _challenge(ctx: RegistryContext, host: str | None) -> dict[str, str]:
    """ECR's challenge; the realm is the registry as the client addressed it."""
    public = urlsplit(ctx.deployment.public_url)
    realm = f"{public.scheme or 'http'}://{host or public.netloc}/"
    return {"WWW-Authenticate": f'Basic realm="{realm}",service="ecr.amazonaws.com"'}


def _match(path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None


async def _guarded(request: Request, work: Awaitable[Response]) -> Response:
    """Await the handler's response, mapping what it raises to OCI errors."""
    try:
        return await work
    except StivaError as exc:
        return to_response(exc, headers=getattr(exc, "response_headers", None))
    except ClientDisconnect:
        log.info("client went away during %s %s", request.method, request.url.path)
        return error_response("BLOB_UPLOAD_INVALID", "the client closed the connection", 400)
    except StorageError:
        log.exception("storage failure on %s %s", request.method, request.url.path)
        return error_response("UNKNOWN", "the registry's storage failed; try again", 503)
    except Exception:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response("UNKNOWN", "internal error; the registry logged the cause", 500)


async def _authorized(
    request: Request, endpoint: Endpoint, params: dict[str, str], principal: Principal
) -> Response:
    ctx: RegistryContext = request.app.state.ctx
    account_id = ctx.deployment.account_for_host(request.headers.get("host"))
    action = endpoint.action
    source = inbound.replication_principal(
        ctx.replication.sources,
        caller=principal,
        header=request.headers.get(inbound.HEADER),
        own_region=ctx.deployment.region,
    )
    if source is not None:  # a peer replicating: what a delivery does, as ecr:ReplicateImage
        if (request.method, endpoint.handler) not in REPLICATION_ENDPOINTS:
            raise AccessDenied(
                f"{request.method} {request.url.path} is not part of a replication: "
                "ecr:ReplicateImage covers blob HEAD, uploads and manifest HEAD, PUT and DELETE"
            )
        principal, action = source, inbound.REPLICATE_IMAGE
    req = OciRequest(request, ctx, principal, account_id, params, replicated=source is not None)
    if "name" in params:
        parse_name(params["name"])
    if action is not None:
        ctx.authorizer.authorize(
            principal,
            action,
            account_id=req.account_id,
            resource=req.repository_arn,
            facts=req.facts,
        )
    return await endpoint.handler(req)


async def _presigned(request: Request, endpoint: Endpoint, params: dict[str, str]) -> Response:
    """A blob read with a GetDownloadUrlForLayer URL: the signature is the only credential."""
    ctx: RegistryContext = request.app.state.ctx
    parse_name(params["name"])
    account_id = downloads.verify_presigned(
        ctx.keys.download,
        request.query_params,
        name=params["name"],
        digest=params["digest"],
        now=ctx.now(),
    )
    req = OciRequest(request, ctx, downloads.url_principal(account_id), account_id, params)
    return await endpoint.handler(req)


async def dispatch(request: Request) -> Response:
    ctx: RegistryContext = request.app.state.ctx
    matched = _match(request.url.path)
    if matched is None:
        return error_response("NAME_UNKNOWN", "no such registry endpoint", 404)
    route, params = matched
    endpoint = route.methods.get(request.method)
    if endpoint is None:
        return error_response(
            "UNSUPPORTED",
            f"{request.method} is not supported on this endpoint",
            405,
            headers={"Allow": ", ".join(route.methods)},
        )
    if endpoint.presignable and downloads.is_presigned(request.query_params):
        return await _guarded(request, _presigned(request, endpoint, params))
    try:
        principal = authenticate_basic(
            request.headers.get("authorization"), keys=[ctx.keys.token], now=ctx.now()
        )
    except AuthenticationError as exc:
        return to_response(exc, headers=_challenge(ctx, request.headers.get("host")))
    return await _guarded(request, _authorized(request, endpoint, params, principal))
