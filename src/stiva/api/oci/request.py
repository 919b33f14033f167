"""What every `/v2/` handler receives, and the small helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from stiva.api.facts import request_facts
from stiva.errors import InvalidParameter, InvalidRange
from stiva.metadata import models as m
from stiva.metadata.database import Session
from stiva.services.authorization import RequestFacts
from stiva.services.context import RegistryContext
from stiva.services.identity import Principal
from stiva.services.repositories import get_repository

T = TypeVar("T")
STREAM_BUFFER = 1024 * 1024


@dataclass(slots=True)
class OciRequest:
    http: Request
    ctx: RegistryContext
    principal: Principal
    account_id: str
    params: dict[str, str]
    replicated: bool = False  # a peer replicating on behalf of a source account (one hop)

    @property
    def name(self) -> str:
        return self.params["name"]

    @property
    def repository_arn(self) -> str:
        return self.ctx.deployment.repository_arn(self.account_id, self.name)

    @property
    def facts(self) -> RequestFacts:
        return request_facts(self.http)

    def authorize(self, action: str, *, name: str | None = None) -> None:
        """Raise AccessDenied unless the caller may do `action` on a repository of this registry."""
        self.ctx.authorizer.authorize(
            self.principal,
            action,
            account_id=self.account_id,
            resource=self.ctx.deployment.repository_arn(self.account_id, name or self.name),
            facts=self.facts,
        )

    def is_allowed(self, action: str, *, name: str | None = None) -> bool:
        return self.ctx.authorizer.is_allowed(
            self.principal,
            action,
            account_id=self.account_id,
            resource=self.ctx.deployment.repository_arn(self.account_id, name or self.name),
            facts=self.facts,
        )

    async def read(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(session, *args)` in a read-only unit of work, off the event loop."""

        def call() -> T:
            with self.ctx.db.read() as session:
                return fn(session, *args)

        return await run_in_threadpool(call)

    async def query(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(connection, *args)` on a read-only Core connection (no ORM session).

        For short indexed reads on hot paths. Off the event loop, except on SQLite (see
        `Database.reads_inline`).
        """

        def call() -> T:
            with self.ctx.db.connect() as connection:
                return fn(connection, *args)

        if self.ctx.db.reads_inline:
            return call()
        return await run_in_threadpool(call)

    async def write(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(session, *args)` in a committing unit of work, off the event loop."""

        def call() -> T:
            with self.ctx.db.write() as session:
                return fn(session, *args)

        return await run_in_threadpool(call)

    async def repository(self) -> m.Repository:
        def find(session: Session) -> m.Repository:
            return get_repository(session, account_id=self.account_id, name=self.name)

        return await self.read(find)


def query_int(request: Request, key: str, *, ceiling: int) -> int | None:
    """A non-negative integer query parameter (None when absent or empty), at most `ceiling`.

    Any run of digits is taken, however long: a larger value is `ceiling` (a client asking for
    `n=10000000000` wants everything; it gets what one response holds, with a Link when more
    remain). Anything but digits is 400.
    """
    value = request.query_params.get(key)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit():
        raise InvalidParameter(f"query parameter '{key}' must be a non-negative integer")
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(ceiling)):  # int() of thousands of digits is slow, then refused
        return ceiling
    return min(int(digits), ceiling)


def parse_content_range(header: str | None) -> tuple[int, int] | None:
    """`Content-Range: <start>-<end>` (inclusive; a `bytes ` prefix is tolerated) of a chunk."""
    if header is None:
        return None
    text = header.strip()
    text = text.removeprefix("bytes ").removeprefix("bytes=")
    start, sep, end = text.partition("-")
    end = end.split("/", 1)[0]
    if not sep or not start.isdigit() or not end.isdigit() or int(end) < int(start):
        raise InvalidRange(f"malformed Content-Range '{header[:100]}'")
    return int(start), int(end)


def upload_range(size: int) -> str:
    """The `Range` header value describing an upload of `size` bytes."""
    return f"0-{max(size - 1, 0)}"
