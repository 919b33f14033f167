"""What the `stiva` subcommands share: loading settings, common options, the database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from stiva.config import Settings, load_settings
from stiva.errors import ConfigError


def load(config: Path | None, overrides: dict[str, Any]) -> Settings:
    """The settings (file, `STIVA_` environment, then these overrides), or a clean CLI error."""
    try:
        return load_settings(config_file=config, env=os.environ, overrides=overrides)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None


def data_options(command: click.decorators.FC) -> click.decorators.FC:
    command = click.option(
        "--config",
        "config",
        type=click.Path(path_type=Path),
        envvar="STIVA_CONFIG",
        help="TOML configuration file.",
    )(command)
    return click.option(
        "--data-dir", type=click.Path(path_type=Path), help="Data directory [STIVA_DATA_DIR]."
    )(command)


def current_database(settings: Settings) -> Any:
    """The deployment's database, which must exist at the current schema (a `Database`)."""
    from stiva.app import open_database
    from stiva.metadata.migrate import current_revision, head_revision

    hint = "start `stiva serve` once with this data directory (or configuration) first"
    embedded = settings.database.url is None and settings.database_url.startswith("sqlite")
    if embedded and not (settings.data_dir / "stiva.db").is_file():
        raise click.ClickException(f"no Stiva database in {settings.data_dir}: {hint}")
    db = open_database(settings)
    try:
        current = current_revision(db.engine)
    except Exception:  # an unreachable server, a file that is not a database
        current = None
    if current is None or current != head_revision():
        db.dispose()
        raise click.ClickException(f"no Stiva database at its current schema here: {hint}")
    return db


def context(settings: Settings) -> Any:
    """The registry context (a `RegistryContext`) of a deployment at the current schema."""
    from stiva.app import build_context

    current_database(settings).dispose()
    try:
        return build_context(settings)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
