"""SigV4 verification of a `POST /` request, shared by the ECR, IAM and STS surfaces."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta

from starlette.requests import Request

from stiva.iam import sigv4
from stiva.services.context import RegistryContext
from stiva.services.credentials import lookup_credentials
from stiva.services.identity import Principal
from stiva.services.usage import KeyUse


def signed_request(request: Request, body: bytes) -> sigv4.SignedRequest:
    return sigv4.SignedRequest(
        method=request.method,
        path=request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0],
        query_string=request.scope.get("query_string", b"").decode("latin-1"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


def verify_request(
    request: Request,
    body: bytes,
    ctx: RegistryContext,
    *,
    service: str,
    regions: Sequence[str] | None = None,
) -> Principal:
    """The principal whose credential signed the request (blocking: run it in a thread).

    `regions` lists the credential-scope regions accepted (default: the deployment's region;
    IAM and STS also accept us-east-1, where AWS SDKs sign their global endpoints).
    Raises `sigv4.SigV4Error` with AWS's code and message when verification fails.
    """
    found: dict[str, Principal] = {}
    now = ctx.now()

    def lookup(access_key_id: str) -> sigv4.Credential | None:
        with ctx.db.read() as session:
            result = lookup_credentials(session, ctx.secrets, access_key_id, now=now)
        if result is None:
            return None
        found["principal"] = result[1]
        return result[0]

    accepted = list(regions or [ctx.deployment.region])
    verified = _verify_in_regions(request, body, lookup, accepted, service, ctx)
    principal = found["principal"]
    ctx.key_usage.record(principal.access_key_id, KeyUse(now, service, verified.region))
    return principal


def _verify_in_regions(
    request: Request,
    body: bytes,
    lookup: Callable[[str], sigv4.Credential | None],
    regions: list[str],
    service: str,
    ctx: RegistryContext,
) -> sigv4.VerifiedRequest:
    for region in regions[:-1]:
        try:
            return sigv4.verify(
                signed_request(request, body),
                lookup=lookup,
                region=region,
                service=service,
                now=ctx.now(),
                max_skew=timedelta(seconds=ctx.clock_skew_seconds),
            )
        except sigv4.InvalidCredentialScope:
            continue
    return sigv4.verify(
        signed_request(request, body),
        lookup=lookup,
        region=regions[-1],
        service=service,
        now=ctx.now(),
        max_skew=timedelta(seconds=ctx.clock_skew_seconds),
    )
