"""Health endpoints for load balancers and orchestrators.

- `GET /healthz`: liveness. 200 while the process serves HTTP; touches neither database nor storage.
- `GET /readyz`: readiness. 200 `{"status": "ready"}` when the database answers at this release's
  schema and the blob store answers; otherwise 503 `{"status": "unavailable", "reasons": [...]}`.
  Checks run on a thread of their own and the answer gives up after `READY_TIMEOUT` seconds. At
  most one check runs at a time: probes arriving while one is still running (a hung mount, a
  database that does not answer) wait for that one instead of starting another, so a hang holds
  one thread, not one per probe.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stiva.services.context import RegistryContext
from stiva.services.health import readiness_problems, schema_head

READY_TIMEOUT = 5.0


class ReadinessProbe:
    """Runs the readiness checks one at a time, each on a daemon thread of its own."""

    def __init__(self, ctx: RegistryContext) -> None:
        self.ctx = ctx
        self._head = schema_head()
        self._lock = threading.Lock()
        self._running: Future[list[str]] | None = None

    def start(self) -> Future[list[str]]:
        """The check in progress, or a new one."""
        with self._lock:
            if self._running is not None and not self._running.done():
                return self._running
            future: Future[list[str]] = Future()
            self._running = future
        threading.Thread(target=self._run, args=(future,), name="readyz", daemon=True).start()
        return future

    def _run(self, future: Future[list[str]]) -> None:
        try:
            future.set_result(readiness_problems(self.ctx.db, self.ctx.storage, head=self._head))
        except BaseException as exc:
            future.set_exception(exc)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ctx: RegistryContext = request.app.state.ctx
    probe: ReadinessProbe | None = getattr(request.app.state, "readiness", None)
    if probe is None or probe.ctx is not ctx:  # none yet, or the context was replaced
        probe = request.app.state.readiness = ReadinessProbe(ctx)
    try:
        problems = await asyncio.wait_for(
            asyncio.shield(asyncio.wrap_future(probe.start())), READY_TIMEOUT
        )
    except TimeoutError:
        problems = [f"readiness checks did not answer within {READY_TIMEOUT:g} s"]
    if problems:
        return JSONResponse({"status": "unavailable", "reasons": problems}, status_code=503)
    return JSONResponse({"status": "ready"})
