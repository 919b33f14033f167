"""The composition root: `prepare` readies the database, `create_app` builds the ASGI app.

Nothing is built at import time; everything hangs off the settings given here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stiva.api import dispatch
from stiva.api.ecr.model import EcrModel
from stiva.api.oci.router import METHODS
from stiva.api.oci.router import dispatch as oci_dispatch
from stiva.clock import Clock
from stiva.config import Settings
from stiva.errors import ConfigError
from stiva.metadata.database import Database
from stiva.metadata.migrate import upgrade
from stiva.services import downloads, identity
from stiva.services.authorization import Authorizer
from stiva.services.context import Keys, RegistryContext
from stiva.services.deployment import Deployment
from stiva.services.secrets import SecretBox, load_key
from stiva.services.uploads import Uploads
from stiva.storage.base import Storage
from stiva.storage.filesystem import FilesystemDriver
from stiva.workers.handlers import HANDLERS, periodic
from stiva.workers.runner import Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prepared:
    bootstrap: identity.BootstrapResult | None
    credentials_file: Path | None


def open_storage(settings: Settings) -> Storage:
    parts = urlsplit(settings.storage_url)
    if parts.scheme == "file":
        root = Path(unquote(parts.path))
        root.mkdir(parents=True, exist_ok=True)
        return Storage(FilesystemDriver(root))
    raise ConfigError(f"storage URL scheme '{parts.scheme}' is not supported (supported: file://)")


def write_credentials(path: Path, result: identity.BootstrapResult, region: str) -> None:
    text = (
        "[default]\n"
        f"aws_access_key_id = {result.access_key_id}\n"
        f"aws_secret_access_key = {result.secret_access_key}\n"
        f"region = {region}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def open_secrets(settings: Settings) -> SecretBox:
    return SecretBox(load_key(settings.auth.secret_key, settings.data_dir))


def prepare(settings: Settings) -> Prepared:
    """Create the data directory, migrate the schema, bootstrap the first account if needed."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    box = open_secrets(settings)
    db = Database(settings.database_url)
    try:
        upgrade(db.engine)
        with db.write() as session:
            sealed = identity.seal_stored_secrets(session, box)
            result = identity.bootstrap(session, box, account_id=settings.account_id)
            identity.ensure_key(session, identity.TOKEN_KEY)
            identity.ensure_key(session, identity.PAGINATION_KEY)
            identity.ensure_key(session, downloads.DOWNLOAD_KEY)
            default = identity.default_account(session)
    finally:
        db.dispose()
    if sealed:
        log.info("sealed %d access-key secrets stored in clear by an earlier release", sealed)
    if settings.account_id and default != settings.account_id and result is None:
        log.warning(
            "--account-id %s ignored: this deployment was bootstrapped with account %s",
            settings.account_id,
            default,
        )
    credentials = None
    if result is not None:
        credentials = settings.data_dir / "credentials"
        write_credentials(credentials, result, settings.region)
    return Prepared(result, credentials)


def build_context(settings: Settings, clock: Clock | None = None) -> RegistryContext:
    db = Database(settings.database_url, clock=clock)
    storage = open_storage(settings)
    with db.write() as session:
        keys = Keys(
            token=identity.ensure_key(session, identity.TOKEN_KEY),
            pagination=identity.ensure_key(session, identity.PAGINATION_KEY),
            download=identity.ensure_key(session, downloads.DOWNLOAD_KEY),
        )
        default = identity.default_account(session)
    if default is None:
        raise ConfigError("the database has no account: run `stiva serve` once to bootstrap it")
    deployment = Deployment(
        region=settings.region,
        default_account_id=default,
        public_url=settings.public_url,
        domain=settings.registry_domain,
    )
    return RegistryContext(
        db=db,
        storage=storage,
        uploads=Uploads(storage),
        deployment=deployment,
        keys=keys,
        clock_skew_seconds=settings.auth.clock_skew_seconds,
        secrets=open_secrets(settings),
        authorizer=Authorizer(db),
    )


async def _flush_recorders(ctx: RegistryContext, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(ctx.flush)
        except Exception:
            log.exception("recording pull times / key use failed; will retry")


def make_worker(ctx: RegistryContext, settings: Settings) -> Worker:
    return Worker(
        ctx,
        HANDLERS,
        lease=timedelta(seconds=settings.workers.lease_seconds),
        max_attempts=settings.workers.max_attempts,
        periodic=periodic(settings),
    )


async def _work(worker: Worker, settings: Settings) -> None:
    """Run background jobs while the server runs; re-check periodic jobs every minute."""
    next_schedule = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            if loop.time() >= next_schedule:
                await asyncio.to_thread(worker.schedule_periodic)
                next_schedule = loop.time() + 60
            if not await asyncio.to_thread(worker.run_once):
                await asyncio.sleep(settings.workers.poll_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the background worker failed; retrying")
            await asyncio.sleep(settings.workers.poll_seconds)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings, ctx: RegistryContext | None = None, *, clock: Clock | None = None
) -> Starlette:
    context = ctx or build_context(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(
                _flush_recorders(context, settings.registry.pull_time_flush_seconds)
            )
        ]
        if settings.workers.enabled:
            tasks.append(asyncio.create_task(_work(make_worker(context, settings), settings)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(context.flush)
            context.db.dispose()

    app = Starlette(
        routes=[
            Route("/", dispatch.endpoint(), methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/v2", oci_dispatch, methods=METHODS),
            Route("/v2/{rest:path}", oci_dispatch, methods=METHODS),
        ],
        lifespan=lifespan,
    )
    app.state.ctx = context
    app.state.ecr_model = EcrModel.load()
    return app


SETTINGS_ENV = "STIVA__SETTINGS_JSON"


def app_from_environment() -> Starlette:
    """App factory for multi-worker servers: the settings travel in one environment variable."""
    return create_app(Settings.model_validate_json(os.environ[SETTINGS_ENV]))
