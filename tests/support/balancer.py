"""A load balancer for tests: an HTTP reverse proxy on loopback that sends each request to the
next backend in turn (per request, not per connection), as a round-robin balancer in front of
several Stiva nodes does. It streams bodies both ways and notes which backend served what."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.support.live import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length"}


@dataclass
class Balancer:
    backends: list[str]  # base URLs
    port: int = 0
    served: list[tuple[str, str, str]] = field(default_factory=list)  # (backend, method, path)
    _turn: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def next_backend(self) -> str:
        backend = self.backends[self._turn % len(self.backends)]
        self._turn += 1
        return backend

    def app(self) -> Starlette:
        client = httpx.AsyncClient(timeout=120)

        async def forward(request: Request) -> StreamingResponse:
            backend = self.next_backend()
            self.served.append((backend, request.method, request.url.path))
            headers = [(k, v) for k, v in request.headers.items() if k not in HOP_BY_HOP]
            body = request.stream() if request.method in ("POST", "PUT", "PATCH") else None
            upstream = await client.send(
                client.build_request(
                    request.method,
                    backend + request.url.path,
                    params=request.url.query,
                    headers=headers,
                    content=body,
                ),
                stream=True,
            )

            async def relay() -> AsyncIterator[bytes]:
                try:
                    async for chunk in upstream.aiter_raw():
                        yield chunk
                finally:
                    await upstream.aclose()

            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            if "content-length" in upstream.headers:
                kept["content-length"] = upstream.headers["content-length"]
            return StreamingResponse(relay(), status_code=upstream.status_code, headers=kept)

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            try:
                yield
            finally:
                await client.aclose()

        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        routes = [Route("/{path:path}", forward, methods=methods)]
        return Starlette(routes=routes, lifespan=lifespan)


@contextmanager
def balancer(*backends: str) -> Iterator[Balancer]:
    """A round-robin balancer over `backends` (base URLs), serving on an ephemeral port."""
    handle = Balancer(list(backends), port=free_port())
    config = uvicorn.Config(handle.app(), host="127.0.0.1", port=handle.port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test balancer did not start")
        time.sleep(0.02)
    try:
        yield handle
    finally:
        server.should_exit = True
        thread.join(timeout=10)
