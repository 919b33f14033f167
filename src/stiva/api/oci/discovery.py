"""Content discovery: `/v2/`, `_catalog`, `tags/list`, `referrers/<digest>`."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from stiva.api.oci.errors import API_VERSION_HEADER
from stiva.api.oci.request import OciRequest, query_int
from stiva.metadata.database import Session
from stiva.oci import mediatypes as mt
from stiva.oci.digest import Digest
from stiva.services import manifests as svc
from stiva.services.repositories import (
    find_repository,
    get_repository,
    list_repository_names,
)

CATALOG_PAGE = 1000  # the most repositories one `_catalog` response holds
TAGS_PAGE = 100_000  # the most tags a `tags/list?n=` response holds (ECR: images per repository)


async def base(req: OciRequest) -> Response:
    return JSONResponse({}, headers=API_VERSION_HEADER)


def _link(path: str, n: int, last: str) -> dict[str, str]:
    return {"Link": f'<{path}?{urlencode({"n": n, "last": last})}>; rel="next"'}


async def catalog(req: OciRequest) -> Response:
    n = query_int(req.http, "n", ceiling=CATALOG_PAGE)
    last = req.http.query_params.get("last", "")
    limit = CATALOG_PAGE if n is None else n
    visible: list[str] = []
    after = last
    while len(visible) <= limit:
        batch = await req.read(
            lambda s, a=after: list_repository_names(
                s, account_id=req.account_id, after=a, limit=500
            )
        )
        if not batch:
            break
        visible += [name for name in batch if req.is_allowed("ecr:BatchGetImage", name=name)]
        after = batch[-1]
    headers = dict(API_VERSION_HEADER)
    if len(visible) > limit:
        visible = visible[:limit]
        if limit > 0:
            headers.update(_link("/v2/_catalog", limit, visible[-1]))
    return JSONResponse({"repositories": visible}, headers=headers)


async def tags_list(req: OciRequest) -> Response:
    """All tags without `n`; with it, at most `n` (up to TAGS_PAGE), a Link when more remain."""
    n = query_int(req.http, "n", ceiling=TAGS_PAGE)
    last = req.http.query_params.get("last") or None

    def tags(session: Session) -> list[str]:
        repo = get_repository(session, account_id=req.account_id, name=req.name)
        return svc.list_tags(
            session, repository_id=repo.id, last=last, n=None if n is None else n + 1
        )

    names = await req.read(tags)
    headers = dict(API_VERSION_HEADER)
    if n is not None and len(names) > n:
        names = names[:n]
        if n > 0:
            headers.update(_link(f"/v2/{req.name}/tags/list", n, names[-1]))
    return JSONResponse({"name": req.name, "tags": names}, headers=headers)


async def referrers(req: OciRequest) -> Response:
    subject = Digest.parse(req.params["digest"])
    artifact_type = req.http.query_params.get("artifactType") or None

    def find(session: Session) -> list[svc.Referrer]:
        # An unknown repository has no referrers: an empty index, never 404, which clients read
        # as "no referrers API here" and fall back to the tag schema (spec).
        repo = find_repository(session, account_id=req.account_id, name=req.name)
        if repo is None:
            return []
        return svc.list_referrers(
            session, repository_id=repo.id, subject=subject, artifact_type=artifact_type
        )

    found = await req.read(find)
    manifests = []
    for ref in found:
        entry: dict[str, object] = {
            "mediaType": ref.media_type,
            "digest": ref.digest,
            "size": ref.size,
        }
        if ref.artifact_type:
            entry["artifactType"] = ref.artifact_type
        if ref.annotations:
            entry["annotations"] = ref.annotations
        manifests.append(entry)
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
    headers = dict(API_VERSION_HEADER)
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    return Response(json.dumps(index), media_type=mt.OCI_INDEX, headers=headers)
