"""`stiva lifecycle run|preview`: apply or preview lifecycle policies now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stiva.cli.options import context, data_options, load


@click.group()
def lifecycle() -> None:
    """Apply or preview lifecycle policies now (works while the server runs)."""


def _lifecycle_options(command: click.decorators.FC) -> click.decorators.FC:
    command = click.option(
        "--repository", help="Only this repository (of --account-id, else the default account)."
    )(command)
    command = click.option(
        "--account-id", help="The registry (12-digit account id) the repositories belong to."
    )(command)
    return data_options(command)


def _action_line(action: Any) -> str:
    tags = f" [{', '.join(action.tags)}]" if action.tags else ""
    target = f" -> {action.target_storage_class}" if action.target_storage_class else ""
    line = f"  {action.action}{target} {action.digest}{tags} (rule {action.rule_priority})"
    if action.carried_by:
        line += f", with {action.carried_by}"
    if action.result != "SUCCESS":
        line += f": {action.result.lower()}, {action.reason}"
    return line


@lifecycle.command("run")
@_lifecycle_options
@click.option("--json", "as_json", is_flag=True, help="Print the executions as JSON.")
def lifecycle_run(
    config: Path | None,
    data_dir: Path | None,
    account_id: str | None,
    repository: str | None,
    as_json: bool,
) -> None:
    """Apply lifecycle policies once, now, and print what was done."""
    from stiva.errors import StivaError
    from stiva.workers.lifecycle import sweep_once

    ctx = context(load(config, {"data_dir": data_dir}))
    try:
        if repository is not None and account_id is None:
            account_id = ctx.deployment.default_account_id
        executions = sweep_once(ctx, account_id=account_id, name=repository)
    except StivaError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        ctx.db.dispose()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in executions], indent=2))
        return
    if not executions:
        click.echo("no repository has a lifecycle policy")
    for e in executions:
        click.echo(
            f"{e.account_id}/{e.repository_name}: {e.expired} expired, "
            f"{e.transitioned} transitioned (execution {e.id})"
        )
        for action in e.actions:
            click.echo(_action_line(action))


@lifecycle.command("preview")
@_lifecycle_options
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A lifecycle policy JSON file (default: the repository's own policy).",
)
def lifecycle_preview(
    config: Path | None,
    data_dir: Path | None,
    account_id: str | None,
    repository: str | None,
    policy: Path | None,
) -> None:
    """Print, as JSON, what a lifecycle policy would do now and the bytes it would free."""
    from stiva.errors import StivaError
    from stiva.workers.lifecycle import preview_now

    if repository is None:
        raise click.ClickException("--repository is required")
    ctx = context(load(config, {"data_dir": data_dir}))
    try:
        account = account_id or ctx.deployment.default_account_id
        text = policy.read_text() if policy is not None else None
        result = preview_now(ctx, account_id=account, name=repository, policy_text=text)
    except StivaError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        ctx.db.dispose()
    doc = {"registryId": account, "repositoryName": repository, **result.to_json()}
    click.echo(json.dumps(doc, indent=2))
