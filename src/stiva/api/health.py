"""Health endpoints for load balancers and orchestrators.

- `GET /healthz`: liveness. 200 while the process serves HTTP; touches neither database nor storage.
- `GET /readyz`: readiness. 200 `{"status": "ready"}` when the database answers at this release's
  schema and the blob store answers; otherwise 503 `{"status": "unavailable", "reasons": [...]}`.
  Checks run off the event loop and give up after `READY_TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stiva.services.context import RegistryContext
from stiva.services.health import readiness_problems, schema_head

READY_TIMEOUT = 5.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ctx: RegistryContext = request.app.state.ctx
    head = getattr(request.app.state, "schema_head", None)
    if head is None:
        head = request.app.state.schema_head = schema_head()
    try:
        problems = await asyncio.wait_for(
            asyncio.to_thread(readiness_problems, ctx.db, ctx.storage, head=head), READY_TIMEOUT
        )
    except TimeoutError:
        problems = [f"readiness checks did not answer within {READY_TIMEOUT:g} s"]
    if problems:
        return JSONResponse({"status": "unavailable", "reasons": problems}, status_code=503)
    return JSONResponse({"status": "ready"})
