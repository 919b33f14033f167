"""One typed configuration tree, loaded once: defaults < TOML file < `STIVA_*` environment < flags.

Unknown keys in the file are an error. Environment twins: `STIVA_<KEY>` for top-level keys
(`STIVA_DATA_DIR`, `STIVA_LISTEN`, `STIVA_REGION`, `STIVA_ACCOUNT_ID`, `STIVA_REGISTRY_DOMAIN`) and
`STIVA_<SECTION>_<KEY>` for keys of a section (`STIVA_DATABASE_URL`, `STIVA_SERVER_WORKERS`).
Secrets are never printed: `Settings.redacted()` is what logs and `check-config` show.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from stiva.errors import ConfigError

ENV_PREFIX = "STIVA_"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_LISTEN = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Databases Stiva runs on, by the URL's scheme, and the SQLAlchemy driver each one uses.
_DATABASE_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",  # libpq's own form, as users write it
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def redact_url(url: str) -> str:
    """`url` without the password (or whole user info) it may carry."""
    return re.sub(r"//[^@/]*@", "//***@", url)


class DatabaseConfig(_Section):
    url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data directory"
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        """A URL of a supported database, with its driver named (`postgresql://` becomes
        `postgresql+psycopg://`)."""
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        expected = "sqlite:///path or postgresql+psycopg://user@host:port/database"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"'{redact_url(value)}' is not a database URL ({expected})") from None
        driver = _DATABASE_DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"'{url.drivername}' databases are not supported: use {expected}"
            ) from None
        return url.set(drivername=driver).render_as_string(hide_password=False)

    pool_size: int | None = Field(
        default=None, ge=1, le=1000, description="PostgreSQL: connections kept open (default 10)"
    )
    max_overflow: int | None = Field(
        default=None, ge=0, le=1000, description="PostgreSQL: extra connections (default 20)"
    )
    pool_timeout_seconds: float | None = Field(
        default=None, gt=0, le=600, description="PostgreSQL: wait for a connection (default 30)"
    )
    pool_recycle_seconds: int | None = Field(
        default=None, ge=1, description="PostgreSQL: reopen connections older than this (1800)"
    )


class S3Config(_Section):
    """`storage.s3`: options of an `s3://bucket/prefix` store (env `STIVA_S3_<KEY>`).

    Credentials come from the standard AWS chain (environment, shared files, roles), never here.
    """

    endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, Ceph, ...); default: AWS"
    )
    region: str | None = Field(default=None, description="The bucket's region; default: AWS chain")
    redirect: bool = Field(
        default=False, description="Answer blob GETs with a 307 to a presigned S3 URL"
    )
    public_endpoint_url: str | None = Field(
        default=None,
        description="The endpoint clients reach the bucket at, for presigned URLs; "
        "default: endpoint_url",
    )
    presign_expiry_seconds: int = Field(default=1200, ge=60, le=604800)
    part_size_mb: int = Field(
        default=16, ge=5, le=4096, description="Multipart part size of chunked uploads"
    )
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="auto: path style with endpoint_url, else virtual host"
    )

    @field_validator("endpoint_url", "public_endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+/?", value):
            raise ValueError(f"'{value}' is not an http(s)://host[:port] URL")
        return value


class StorageConfig(_Section):
    url: str | None = Field(
        default=None, description="file:///path or s3://bucket/prefix; default: <data-dir>/storage"
    )
    s3: S3Config = S3Config()

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme, _, rest = value.partition("://")
        if scheme not in ("file", "s3") or not rest:
            raise ValueError(f"'{value}' is not a file:///path or s3://bucket/prefix URL")
        if scheme == "s3" and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?", rest):
            raise ValueError(f"'{value}' does not name a bucket: s3://bucket[/prefix]")
        return value


class RegistryConfig(_Section):
    public_url: str | None = Field(
        default=None,
        description="URL clients use to reach this registry (proxyEndpoint, repositoryUri); "
        "default: http://<listen>",
    )
    pull_time_flush_seconds: float = Field(default=10.0, gt=0)


class AuthConfig(_Section):
    clock_skew_seconds: int = Field(default=900, ge=1, le=3600)
    secret_key: str | None = Field(
        default=None,
        description="base64 of 32 bytes sealing access-key secrets at rest; "
        "default: <data_dir>/secret.key (share one key across nodes)",
    )


class WorkersConfig(_Section):
    enabled: bool = Field(default=True, description="Run background jobs in this node")
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    lease_seconds: int = Field(default=300, ge=5, le=86400)
    max_attempts: int = Field(default=8, ge=1, le=100)


class LifecycleConfig(_Section):
    sweep_interval_seconds: int = Field(
        default=3600, ge=1, description="How often every repository's lifecycle policy is applied"
    )


class GcConfig(_Section):
    interval_seconds: int = Field(default=3600, ge=1, description="How often GC runs")
    grace_seconds: int = Field(
        default=3600, ge=0, description="Unreferenced blobs and uploads younger than this stay"
    )


class ReplicationPeer(_Section):
    """Another region's deployment this one replicates to, and the credential it uses there."""

    region: str
    endpoint: str = Field(description="http(s)://host:port of the peer's public API")
    access_key_id: str = Field(min_length=16, max_length=128)
    secret_access_key: str = Field(min_length=1)

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"'{value}' is not a region name like eu-west-1")
        return value

    @field_validator("endpoint")
    @classmethod
    def _check_endpoint(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^/\s?#]+/?", value):
            raise ValueError(f"'{value}' is not an http(s)://host:port URL")
        return value.rstrip("/")


class ReplicationSource(_Section):
    """A peer region allowed to replicate into this deployment, its principal here, and the
    source accounts it may replicate for (default: only the principal's own account)."""

    region: str
    principal: str = Field(pattern=r"^arn:aws:(iam|sts)::\d{12}:\S+$")
    accounts: list[str] = Field(
        default_factory=list,
        description="Source account ids this region may claim, besides the principal's own",
    )

    @field_validator("accounts")
    @classmethod
    def _account_ids(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.fullmatch(r"\d{12}", a)]
        if bad:
            raise ValueError(f"accounts must be 12-digit account ids, not {bad}")
        return value


class ReplicationConfig(_Section):
    peers: list[ReplicationPeer] = Field(default_factory=list)
    sources: list[ReplicationSource] = Field(default_factory=list)
    backoff_seconds: float = Field(default=5.0, gt=0, description="First retry delay")
    max_backoff_seconds: float = Field(default=300.0, gt=0)
    horizon_seconds: int = Field(
        default=86400, ge=1, description="A delivery still failing after this is FAILED"
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per request to a peer")

    @field_validator("peers")
    @classmethod
    def _unique_peers(cls, value: list[ReplicationPeer]) -> list[ReplicationPeer]:
        regions = [peer.region for peer in value]
        if len(set(regions)) != len(regions):
            raise ValueError("two peers name the same region")
        return value


class ServerConfig(_Section):
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = False
    shutdown_grace_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="On SIGTERM, how long requests in flight may take to finish",
    )


class Settings(_Section):
    data_dir: Path = Path("stiva-data")
    listen: str = "127.0.0.1:5000"
    region: str = "us-east-1"
    account_id: str | None = None
    registry_domain: str | None = Field(
        default=None,
        description="When set, repositoryUri and proxyEndpoint take ECR's shape "
        "<account>.dkr.ecr.<region>.<registry_domain>",
    )
    database: DatabaseConfig = DatabaseConfig()
    storage: StorageConfig = StorageConfig()
    registry: RegistryConfig = RegistryConfig()
    auth: AuthConfig = AuthConfig()
    server: ServerConfig = ServerConfig()
    workers: WorkersConfig = WorkersConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    gc: GcConfig = GcConfig()
    replication: ReplicationConfig = ReplicationConfig()

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"'{value}' is not a region name like us-east-1")
        return value

    @field_validator("account_id")
    @classmethod
    def _check_account(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"'{value}' is not a 12-digit account id")
        return value

    @field_validator("registry_domain")
    @classmethod
    def _check_domain(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", value.lower()):
            raise ValueError(f"'{value}' is not a DNS domain")
        return value.lower() if value else None

    @model_validator(mode="after")
    def _check_peers(self) -> Settings:
        for peer in self.replication.peers:
            if peer.region == self.region:
                raise ValueError(
                    f"replication.peers: region {peer.region} is this deployment's own region"
                )
        return self

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        match = _LISTEN.match(value)
        if not match or not 0 < int(match["port"]) < 65536:
            raise ValueError(f"'{value}' is not HOST:PORT")
        return value

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'stiva.db').resolve()}"

    @property
    def storage_url(self) -> str:
        return self.storage.url or (self.data_dir / "storage").resolve().as_uri()

    @property
    def public_url(self) -> str:
        if self.registry.public_url:
            return self.registry.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding it
            host = "localhost"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def redacted(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data["auth"]["secret_key"]:
            data["auth"]["secret_key"] = "***"  # noqa: S105 - the redaction mark
        for peer in data["replication"]["peers"]:
            peer["secret_access_key"] = "***"  # noqa: S105 - the redaction mark
        url = data["database"]["url"]
        if url and "@" in url:
            data["database"]["url"] = redact_url(url)
        return data


def read_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, _Section):
            for sub in annotation.model_fields:
                name = f"{ENV_PREFIX}{key}_{sub}".upper()
                if name in env:
                    values.setdefault(key, {})[sub] = env[name]
        elif (name := f"{ENV_PREFIX}{key}".upper()) in env:
            values[key] = env[name]
    for sub in S3Config.model_fields:  # storage.s3.<key> from STIVA_S3_<KEY>
        if (name := f"{ENV_PREFIX}S3_{sub}".upper()) in env:
            values.setdefault("storage", {}).setdefault("s3", {})[sub] = env[name]
    return values


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None:
            merged[key] = value
    return merged


def load_settings(
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from a file, the environment and explicit overrides (flags)."""
    data: dict[str, Any] = read_file(config_file) if config_file else {}
    data = _merge(data, _from_env(env or {}))
    data = _merge(data, overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_file)) from None


def _describe(exc: ValidationError, config_file: Path | None) -> str:
    source = f" in {config_file}" if config_file else ""
    lines = [f"invalid configuration{source}:"]
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)
