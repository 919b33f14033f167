"""The lifecycle jobs: previews, the periodic sweep, and applying one repository's policy.

    lifecycle-preview   payload {repository_id}: compute the repository's pending preview
    lifecycle-sweep     periodic (`lifecycle.sweep_interval_seconds`): queue an apply job for
                        every repository that has a policy
    lifecycle-apply     payload {repository_id} (dedup key per repository): apply its policy

Each owns its units of work: a preview is computed in a read and stored in a short write; an
application is one write (the plan is made and carried out in the same transaction, so nothing
pushed or tagged meanwhile is acted on by a stale plan). A failed application is rolled back,
recorded in the audit trail with its error, and retried by the queue.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from stiva.config import Settings
from stiva.services import jobs
from stiva.services.context import RegistryContext
from stiva.services.jobs import ClaimedJob
from stiva.services.lifecycle import apply, preview
from stiva.workers.runner import Handler, Periodic

log = logging.getLogger(__name__)


def run_preview(ctx: RegistryContext, job: ClaimedJob) -> None:
    repository_id = int(job.payload["repository_id"])
    result, error = None, None
    with ctx.db.read() as session:
        text = preview.pending_preview(session, repository_id=repository_id)
        if text is None:
            return
        try:
            result = preview.compute_preview(
                session, repository_id=repository_id, policy_text=text, now=ctx.now()
            )
        except Exception as exc:  # the preview reports FAILED; the cause goes to the log
            log.exception("lifecycle preview of repository %s failed", repository_id)
            error = f"{type(exc).__name__}: {exc}"
    with ctx.db.write() as session:
        preview.record_preview(
            session, repository_id=repository_id, preview=result, error=error, now=ctx.now()
        )


def run_sweep(ctx: RegistryContext, job: ClaimedJob) -> None:
    del job
    with ctx.db.write() as session:
        for repository_id in apply.repositories_with_policies(session):
            jobs.enqueue(
                session,
                kind=apply.APPLY_JOB,
                payload={"repository_id": repository_id},
                dedup_key=apply.apply_dedup_key(repository_id),
            )


def apply_repository(ctx: RegistryContext, repository_id: int) -> apply.Execution | None:
    """Apply one repository's policy in its own unit of work; a failure is recorded, then
    raised again."""
    try:
        with ctx.db.write() as session:
            return apply.apply_lifecycle_policy(session, repository_id=repository_id, now=ctx.now())
    except Exception as exc:
        with ctx.db.write() as session:
            apply.record_failed_execution(
                session,
                repository_id=repository_id,
                error=f"{type(exc).__name__}: {exc}",
                now=ctx.now(),
            )
        raise


def run_apply(ctx: RegistryContext, job: ClaimedJob) -> None:
    apply_repository(ctx, int(job.payload["repository_id"]))


def sweep_once(
    ctx: RegistryContext, *, account_id: str | None = None, name: str | None = None
) -> list[apply.Execution]:
    """Apply the policies now, without the queue (`stiva lifecycle run`): every repository's,
    one account's, or one repository's (`name` needs `account_id`)."""
    with ctx.db.read() as session:
        if name is not None:
            assert account_id is not None
            ids = [apply.policy_repository(session, account_id=account_id, name=name)]
        else:
            ids = apply.repositories_with_policies(session, account_id=account_id)
    executions = []
    for repository_id in ids:
        execution = apply_repository(ctx, repository_id)
        if execution is not None:
            executions.append(execution)
    return executions


HANDLERS: dict[str, Handler] = {
    preview.PREVIEW_JOB: run_preview,
    apply.SWEEP_JOB: run_sweep,
    apply.APPLY_JOB: run_apply,
}


def sweep(settings: Settings) -> Periodic:
    """The recurring sweep, every `lifecycle.sweep_interval_seconds`."""
    return Periodic(apply.SWEEP_JOB, timedelta(seconds=settings.lifecycle.sweep_interval_seconds))


def preview_now(
    ctx: RegistryContext, *, account_id: str, name: str, policy_text: str | None
) -> preview.Preview:
    """What a policy (`policy_text`, else the repository's) would do now, without the queue
    (`stiva lifecycle preview`)."""
    with ctx.db.read() as session:
        return preview.preview_repository(
            session, account_id=account_id, name=name, policy_text=policy_text, now=ctx.now()
        )
