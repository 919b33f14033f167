"""`/v2/<name>/manifests/<reference>`: GET, HEAD, PUT, DELETE."""

from __future__ import annotations

from starlette.responses import Response

from stiva.api.oci.errors import API_VERSION_HEADER
from stiva.api.oci.request import OciRequest
from stiva.api.oci.uploads import push_repository
from stiva.errors import ManifestTooLarge
from stiva.metadata.database import Session
from stiva.oci.convert import convert_for
from stiva.oci.digest import Digest
from stiva.oci.manifest import MAX_MANIFEST_BYTES, Manifest
from stiva.services import manifests as svc
from stiva.services.repositories import get_repository


def _offered(accept: str) -> set[str]:
    """The media types an Accept header names (parameters such as `q` set aside)."""
    return {part.split(";", 1)[0].strip().lower() for part in accept.split(",")} - {""}


def _accepts(offered: set[str], media_type: str) -> bool:
    """Accept negotiation for pulls by tag; an absent or wildcard Accept takes anything."""
    return bool(offered & {media_type, "*/*", "application/*"}) or not any(
        "manifest" in o or "index" in o for o in offered
    )


def _negotiate(stored: svc.StoredManifest, accept: str) -> tuple[bytes, str, str]:
    """What a pull by tag serves: (bytes, media type, digest).

    The stored manifest when the Accept header takes it. Otherwise, as ECR does, the stored
    manifest converted to a format the header names (OCI image manifest ⇄ Docker schema 2,
    `oci.convert`); when it names none the manifest converts to, the stored one all the same:
    the spec wants 200 with the manifest for an existing tag, never 404.
    """
    offered = _offered(accept)
    if not _accepts(offered, stored.media_type):
        converted = convert_for(stored.content, stored.media_type, offered)
        if converted is not None:
            content, media_type = converted
            return content, media_type, str(Digest.of(content))
    return stored.content, stored.media_type, stored.digest


async def get_manifest(req: OciRequest) -> Response:
    reference = req.params["reference"]
    stored = await req.query(
        lambda s: svc.resolve(s, account_id=req.account_id, name=req.name, reference=reference)
    )
    content, media_type, digest = stored.content, stored.media_type, stored.digest
    if not svc.is_digest_reference(reference):  # a digest names exact bytes: never converted
        accept = ", ".join(req.http.headers.getlist("accept"))
        content, media_type, digest = _negotiate(stored, accept)
    headers = {
        **API_VERSION_HEADER,
        "Docker-Content-Digest": digest,
        "ETag": f'"{digest}"',
        "Content-Length": str(len(content)),
    }
    if req.http.method == "HEAD":
        return Response(status_code=200, media_type=media_type, headers=headers)
    req.ctx.pulls.record(stored.id, stored.digest, req.ctx.now(), req.principal.arn)
    return Response(content, media_type=media_type, headers=headers)


async def _read_body(req: OciRequest, limit: int) -> bytes:
    declared = req.http.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ManifestTooLarge(f"manifest is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    total = 0
    async for chunk in req.http.stream():
        total += len(chunk)
        if total > limit:
            raise ManifestTooLarge(f"manifest exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def put_manifest(req: OciRequest) -> Response:
    raw = await _read_body(req, MAX_MANIFEST_BYTES)
    reference = req.params["reference"]
    content_type = req.http.headers.get("content-type")

    def put(session: Session) -> Manifest:
        repo = push_repository(session, req)
        return svc.put_manifest(
            session,
            repository=repo,
            reference=reference,
            raw=raw,
            content_type=content_type,
            replicated=req.replicated,
        )

    manifest = await req.write(put)
    headers = {
        **API_VERSION_HEADER,
        "Location": f"/v2/{req.name}/manifests/{manifest.digest}",
        "Docker-Content-Digest": str(manifest.digest),
    }
    if manifest.subject is not None:
        headers["OCI-Subject"] = str(manifest.subject.digest)
    return Response(status_code=201, headers=headers)


async def delete_manifest(req: OciRequest) -> Response:
    reference = req.params["reference"]

    def remove(session: Session) -> None:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        if svc.is_digest_reference(reference):
            svc.delete_manifest(
                session,
                repository=repo,
                digest=Digest.parse(reference),
                replicated=req.replicated,
            )
        else:
            svc.delete_tag(session, repository=repo, tag=reference, replicated=req.replicated)

    await req.write(remove)
    return Response(status_code=202, headers=API_VERSION_HEADER)
