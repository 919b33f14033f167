"""`stiva vulndb import|status` and `stiva sbom`: the scanner's database and inventories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from stiva.cli.options import context, current_database, data_options, load


@click.group()
def vulndb() -> None:
    """Import and inspect the offline vulnerability database (works while the server runs)."""


def _report_lines(report: Any) -> list[str]:
    line = (
        f"{report.name}: {report.records} records, {report.withdrawn} withdrawn "
        f"({report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.invalid} invalid)"
    )
    return [line, *(f"  invalid: {problem}" for problem in report.problems)]


def _modified(text: str | None) -> str:
    """A record's `modified` for the status table: to the second, UTC, when it reads as one."""
    if not text:
        return "-"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:20]
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"{when:%Y-%m-%d %H:%M:%S}Z"


@vulndb.command("import")
@data_options
@click.option(
    "--prune",
    is_flag=True,
    help="The paths are complete snapshots: delete records their sources no longer hold.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def vulndb_import(
    config: Path | None, data_dir: Path | None, prune: bool, as_json: bool, paths: tuple[Path, ...]
) -> None:
    """Import OSV records (<ECOSYSTEM>.zip, directories, JSON/YAML files) and Alpine secdb."""
    from stiva.errors import StivaError
    from stiva.services.scanning import vulndb_files
    from stiva.services.scanning.vulndb import import_source

    db = current_database(load(config, {"data_dir": data_dir}))
    try:
        sources = [source for path in paths for source in vulndb_files.sources_of(path)]
        reports = [import_source(db, s, prune=prune, now=db.clock.now) for s in sources]
    except StivaError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2))
        return
    for report in reports:
        for line in _report_lines(report):
            click.echo(line)


@vulndb.command("status")
@data_options
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
def vulndb_status(config: Path | None, data_dir: Path | None, as_json: bool) -> None:
    """Show the sources, their record counts and when each was last imported and updated."""
    from stiva.services.scanning import vulndb as store

    db = current_database(load(config, {"data_dir": data_dir}))
    try:
        with db.read() as session:
            sources = store.status(session)
            updated = store.source_updated_at(session)
    finally:
        db.dispose()
    if as_json:
        doc = {
            "updatedAt": updated.isoformat() if updated else None,
            "sources": [s.to_json() for s in sources],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    if not sources:
        click.echo("the vulnerability database is empty: run `stiva vulndb import PATH...`")
        return
    width = max(len(s.name) for s in sources)
    click.echo(
        f"{'SOURCE':<{width}}  {'RECORDS':>8}  {'WITHDRAWN':>9}  {'NEWEST MODIFIED':<20}  "
        "LAST UPDATE           IMPORTED"
    )
    for s in sources:
        newest = _modified(s.last_modified)
        click.echo(
            f"{s.name:<{width}}  {s.records:>8}  {s.withdrawn:>9}  {newest:<20}  "
            f"{s.updated_at:%Y-%m-%d %H:%M:%S}Z  {s.imported_at:%Y-%m-%d %H:%M:%S}Z"
        )
    total = sum(s.records for s in sources)
    click.echo(
        f"{total} records in {len(sources)} sources; last updated {updated:%Y-%m-%dT%H:%M:%SZ}"
    )


@click.command("sbom")
@data_options
@click.option("--account-id", help="The registry (12-digit account id); default: the default one.")
@click.option("--repository", required=True, help="The repository of the image.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write it here."
)
@click.option(
    "--attach",
    is_flag=True,
    help="Also store it in the registry as an OCI referrer of the image "
    "(artifactType application/vnd.cyclonedx+json).",
)
@click.argument("reference")
def sbom_command(
    config: Path | None,
    data_dir: Path | None,
    account_id: str | None,
    repository: str,
    output: Path | None,
    attach: bool,
    reference: str,
) -> None:
    """Export an image's packages (REFERENCE: a tag or a digest) as CycloneDX 1.5 JSON."""
    from stiva.errors import StivaError
    from stiva.services.scanning.sbom import attach_sbom, export_sbom

    ctx = context(load(config, {"data_dir": data_dir}))
    try:
        account = account_id or ctx.deployment.default_account_id
        doc = export_sbom(ctx, account_id=account, name=repository, reference=reference)
        attached = (
            attach_sbom(ctx, account_id=account, name=repository, reference=reference, document=doc)
            if attach
            else None
        )
    except StivaError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        ctx.db.dispose()
    text = json.dumps(doc, indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n")
    if attached:
        click.echo(f"attached to {reference} as referrer {attached}", err=True)
