"""`stiva migrate`: bring the metadata database to this release's schema.

`stiva serve` migrates at start as well; running `stiva migrate` first (once, from one place) is
how deployments with several nodes upgrade: the nodes then start against a current schema. A
database stamped by a newer release is refused, never downgraded.
"""

from __future__ import annotations

from pathlib import Path

import click

from stiva.cli.options import data_options, load


@click.command("migrate")
@data_options
def migrate_command(config: Path | None, data_dir: Path | None) -> None:
    """Upgrade the database to this release's schema (refusing a newer one)."""
    from sqlalchemy.exc import SQLAlchemyError

    from stiva.app import open_database
    from stiva.errors import ConfigError
    from stiva.metadata.migrate import head_revision, upgrade

    settings = load(config, {"data_dir": data_dir})
    if settings.database.url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings)
    where = settings.redacted()["database"]["url"] or settings.database_url
    try:
        before = upgrade(db.engine)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot migrate the database at {where}: {exc}") from None
    finally:
        db.dispose()
    head = head_revision()
    if before == head:
        click.echo(f"the database is at revision {head} already")
    else:
        click.echo(f"migrated the database from revision {before or '(empty)'} to {head}")
