"""`stiva gc` and `stiva fsck`: maintenance of the blob store beside a running server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from stiva.cli.options import current_database, data_options, load
from stiva.config import Settings


def _maintenance(config: Path | None, data_dir: Path | None) -> tuple[Settings, Any, Any]:
    """The settings, the deployment's database and its blob store (the schema must be current)."""
    from stiva.app import open_storage

    settings = load(config, {"data_dir": data_dir})
    db = current_database(settings)
    try:
        return settings, db, open_storage(settings)
    except BaseException:
        db.dispose()
        raise


class _ProgressBar:
    """A rich progress bar on stderr (shown only on a terminal), one task per phase."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.task: Any = None

    def __enter__(self) -> _ProgressBar:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_task()
        self.bar.stop()

    def _close_task(self) -> None:
        if self.task is not None:
            done = self.bar.tasks[-1].completed
            self.bar.update(self.task, total=done, completed=done)

    def phase(self, name: str, total: int | None) -> None:
        self._close_task()
        self.task = self.bar.add_task(name, total=total)

    def advance(self, amount: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, amount)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


def _print_gc(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    dry = report.dry_run
    table = Table(title=f"stiva gc{' (dry run)' if dry else ''}, grace {report.grace_seconds} s")
    table.add_column("repository")
    table.add_column("blobs freed", justify="right")  # it no longer holds them
    table.add_column("bytes", justify="right")
    for name, freed in sorted(report.repositories.items()):
        table.add_row(name, str(freed.blobs), _size(freed.bytes))
    console = Console(soft_wrap=True)
    if report.repositories:
        console.print(table)
    for item in report.items:
        if item.kind == "stray":  # not a blob: gc never deletes it
            console.print(f"left alone, not a blob: {item.subject} ({_size(item.size)})")
        else:
            console.print(f"would delete {item.kind}: {item.subject} ({_size(item.size)})")
    verb = "would free" if dry else "freed"
    console.print(
        f"blobs deleted: {report.blobs_deleted} ({_size(report.blob_bytes)}, each counted once); "
        f"orphan files: {report.orphan_files} ({_size(report.orphan_bytes)}); "
        f"upload sessions: {report.uploads_deleted} ({_size(report.upload_bytes)})"
    )
    if report.stray_files:
        console.print(
            f"files in the blob store that are not blobs (left alone): {report.stray_files}"
        )
    console.print(f"total {verb}: {_size(report.bytes_freed)}", highlight=False)


@click.command("gc")
@data_options
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; delete nothing.")
@click.option(
    "--grace", type=click.IntRange(min=0), help="Grace period in seconds [gc.grace_seconds]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def gc_command(
    config: Path | None, data_dir: Path | None, dry_run: bool, grace: int | None, as_json: bool
) -> None:
    """Collect garbage once: blobs and uploads no manifest needs (works while the server runs)."""
    from datetime import timedelta

    from stiva.services import gc

    settings, db, storage = _maintenance(config, data_dir)
    seconds = settings.gc.grace_seconds if grace is None else grace
    try:
        with _ProgressBar() as bar:
            report = gc.collect(
                db, storage, grace=timedelta(seconds=seconds), dry_run=dry_run, progress=bar
            )
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_gc(report)


@click.command("fsck")
@data_options
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    help="Report garbage older than this many seconds [gc.grace_seconds].",
)
@click.option("--no-verify-digests", "quick", is_flag=True, help="Check sizes, do not hash blobs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def fsck_command(
    config: Path | None, data_dir: Path | None, grace: int | None, quick: bool, as_json: bool
) -> None:
    """Check that every blob and manifest is whole, and report garbage.

    Exit status: 0 clean; 1 garbage past the grace period (run `stiva gc`); 4 damage; 5 both.
    """
    from datetime import timedelta

    from stiva.services.fsck import fsck

    settings, db, storage = _maintenance(config, data_dir)
    seconds = settings.gc.grace_seconds if grace is None else grace
    try:
        with _ProgressBar() as bar:
            report = fsck(
                db,
                storage,
                grace=timedelta(seconds=seconds),
                verify_digests=not quick,
                progress=bar,
            )
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        checked = ", ".join(f"{count} {what}" for what, count in report.checked.items())
        click.echo(f"stiva fsck: checked {checked}; grace {report.grace_seconds} s")
        for f in report.findings:
            click.echo(f"{f.severity.upper():8} {f.kind:16} {f.subject}  {f.detail}")
        damage, garbage = len(report.damage), len(report.garbage)
        click.echo(
            f"{damage} damaged, {garbage} garbage past the grace period (`stiva gc` collects it)"
            if report.findings
            else "clean"
        )
    sys.exit(report.exit_code)
