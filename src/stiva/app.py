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

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.routing import Route

from stiva.api import dispatch, health
from stiva.api.ecr.model import EcrModel
from stiva.api.oci.router import METHODS
from stiva.api.oci.router import dispatch as oci_dispatch
from stiva.clock import Clock
from stiva.config import Settings, redact_url
from stiva.errors import ConfigError
from stiva.metadata.database import Database
from stiva.metadata.dialect import PoolOptions, collation_problem, lock_deployment
from stiva.metadata.locks import UploadLocks
from stiva.metadata.migrate import upgrade
from stiva.services import downloads, identity
from stiva.services.authorization import Authorizer
from stiva.services.context import Keys, RegistryContext
from stiva.services.deployment import Deployment
from stiva.services.secrets import SecretBox, load_key
from stiva.services.uploads import Uploads
from stiva.storage.base import Storage
from stiva.storage.driver import StorageError
from stiva.storage.filesystem import FilesystemDriver
from stiva.storage.s3 import S3Driver, S3Options, open_s3, parse_s3_url
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
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"storage.url {settings.storage_url}: cannot create the directory {root}: "
                f"{exc.strerror or exc}"
            ) from None
        return Storage(FilesystemDriver(root))
    if parts.scheme == "s3":
        return Storage(_open_s3(settings))
    raise ConfigError(
        f"storage URL scheme '{parts.scheme}' is not supported (supported: file://, s3://)"
    )


def _open_s3(settings: Settings) -> S3Driver:
    """The S3 driver of `storage.url` and `storage.s3`, its bucket checked reachable now."""
    s3 = settings.storage.s3
    try:
        bucket, prefix = parse_s3_url(settings.storage_url)
        return open_s3(
            S3Options(
                bucket=bucket,
                prefix=prefix,
                endpoint_url=s3.endpoint_url,
                region=s3.region,
                redirect=s3.redirect,
                public_endpoint_url=s3.public_endpoint_url,
                presign_expiry_seconds=s3.presign_expiry_seconds,
                part_size=s3.part_size_mb * 1024 * 1024,
                addressing_style=s3.addressing_style,
            )
        )
    except (ValueError, StorageError) as exc:
        raise ConfigError(f"storage.url {settings.storage_url}: {exc}") from None


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


def open_database(settings: Settings, clock: Clock | None = None) -> Database:
    """The configured metadata database, its pool sized by the `database` section."""
    config = settings.database
    pool = PoolOptions(
        size=config.pool_size,
        max_overflow=config.max_overflow,
        timeout_seconds=config.pool_timeout_seconds,
        recycle_seconds=config.pool_recycle_seconds,
    )
    return Database(settings.database_url, clock=clock, pool=pool)


def database_problem(settings: Settings, exc: DBAPIError) -> str:
    """Why the configured database cannot be used, in a line, without its password."""
    cause = exc.orig or exc
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    return f"cannot use the database at {redact_url(settings.database_url)}: {reason}"


def prepare(settings: Settings) -> Prepared:
    """Create the data directory, migrate the schema, bootstrap the first account if needed.

    Nodes sharing one database take turns here: only the first to find it empty bootstraps."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    open_storage(settings)  # a store that is unreachable or missing stops the start here
    box = open_secrets(settings)
    db = open_database(settings)
    try:
        upgrade(db.engine)
        with db.write() as session:
            lock_deployment(session.connection())
            collation = collation_problem(session.connection())
            sealed = identity.seal_stored_secrets(session, box)
            result = identity.bootstrap(session, box, account_id=settings.account_id)
            identity.ensure_key(session, identity.TOKEN_KEY)
            identity.ensure_key(session, identity.PAGINATION_KEY)
            identity.ensure_key(session, downloads.DOWNLOAD_KEY)
            default = identity.default_account(session)
    except (OperationalError, InterfaceError) as exc:  # unreachable, refused, not a database
        raise ConfigError(database_problem(settings, exc)) from None
    finally:
        db.dispose()
    if collation:
        log.warning("%s", collation)
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
    db = open_database(settings, clock)
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
        uploads=Uploads(storage, locks=UploadLocks(db.engine)),
        deployment=deployment,
        keys=keys,
        clock_skew_seconds=settings.auth.clock_skew_seconds,
        secrets=open_secrets(settings),
        authorizer=Authorizer(db),
        replication=settings.replication,
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


WORKER_SHUTDOWN_SECONDS = 30.0  # how long shutdown waits for the job in hand to finish


async def _idle(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def _work(worker: Worker, settings: Settings, stopping: asyncio.Event) -> None:
    """Run background jobs until `stopping` is set; re-check periodic jobs every minute.

    A job in hand when `stopping` is set is finished, not abandoned: an abandoned job would stay
    leased to this (exiting) process until its lease ran out, delaying it for every other node.
    """
    next_schedule = 0.0
    loop = asyncio.get_running_loop()
    while not stopping.is_set():
        try:
            if loop.time() >= next_schedule:
                await asyncio.to_thread(worker.schedule_periodic)
                next_schedule = loop.time() + 60
            if not await asyncio.to_thread(worker.run_once):
                await _idle(stopping, settings.workers.poll_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the background worker failed; retrying")
            await _idle(stopping, settings.workers.poll_seconds)


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
        stopping = asyncio.Event()
        worker = (
            asyncio.create_task(_work(make_worker(context, settings), settings, stopping))
            if settings.workers.enabled
            else None
        )
        try:
            yield
        finally:
            stopping.set()
            if worker is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(worker), WORKER_SHUTDOWN_SECONDS)
                except TimeoutError:
                    log.warning("the job in hand did not finish; its lease will run out")
                    tasks.append(worker)
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
            Route("/healthz", health.healthz, methods=["GET"]),
            Route("/readyz", health.readyz, methods=["GET"]),
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
