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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stiva.errors import ConfigError

ENV_PREFIX = "STIVA_"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_LISTEN = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data directory"
    )


class StorageConfig(_Section):
    url: str | None = Field(default=None, description="file:///path; default: <data-dir>/storage")


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


class ServerConfig(_Section):
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = False


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
        url = data["database"]["url"]
        if url and "@" in url:
            data["database"]["url"] = re.sub(r"//[^@/]*@", "//***@", url)
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
