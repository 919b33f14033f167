"""Stiva's `/v2/` extensions, named as the distribution spec reserves for them
(`/v2/<name>/_<namespace>/<extension>/...`; repository name components never start with `_`).

`GET /v2/<name>/_stiva/sbom/<reference>`: the image's package inventory as CycloneDX 1.5 JSON
(what `stiva sbom` prints), authorized as `ecr:DescribeImageScanFindings` on the repository.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from stiva.api.oci.errors import API_VERSION_HEADER
from stiva.api.oci.request import OciRequest
from stiva.services.scanning.sbom import export_sbom

CYCLONEDX_JSON = "application/vnd.cyclonedx+json"


async def sbom(req: OciRequest) -> Response:
    document = await run_in_threadpool(
        lambda: export_sbom(
            req.ctx, account_id=req.account_id, name=req.name, reference=req.params["reference"]
        )
    )
    return JSONResponse(document, media_type=CYCLONEDX_JSON, headers=API_VERSION_HEADER)
