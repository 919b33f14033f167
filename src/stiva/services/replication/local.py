"""Deliveries to another account of this deployment's region: a metadata-only copy.

Blobs are content-addressed and shared by every account here, so nothing is copied but rows:
the destination repository is linked to the blobs and gets the same manifests (exact bytes,
same digests) and tags, in one unit of work. The source account's root is authorized at the
destination like any cross-account replication (registry policy: ecr:ReplicateImage, and
ecr:CreateRepository when the repository is missing; the same account is allowed by default).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stiva.errors import ImageReferencedByIndex, TagImmutable
from stiva.metadata import models as m
from stiva.metadata.dialect import lock_blobs
from stiva.oci.digest import Digest
from stiva.services import manifests
from stiva.services.context import RegistryContext
from stiva.services.replication import outcome
from stiva.services.replication.destination import create_destination_repository
from stiva.services.replication.inbound import REPLICATE_IMAGE, account_root
from stiva.services.replication.plan import Plan
from stiva.services.repositories import find_repository
from stiva.services.uploads import link_blob


def _destination(
    ctx: RegistryContext, session: Session, *, source: str, account: str, name: str, create: bool
) -> m.Repository | None:
    if session.get(m.Account, account) is None:
        raise outcome.permanent(
            outcome.ACCOUNT_NOT_FOUND, f"account {account} does not exist in this deployment"
        )
    principal = account_root(source)
    arn = ctx.deployment.repository_arn(account, name)
    if not ctx.authorizer.is_allowed(principal, REPLICATE_IMAGE, account_id=account, resource=arn):
        raise outcome.permanent(
            outcome.ACCESS_DENIED,
            f"the registry policy of {account} does not allow {principal.arn} "
            f"ecr:ReplicateImage on {arn}",
        )
    repo = find_repository(session, account_id=account, name=name)
    if repo is not None or not create:
        return repo
    if not ctx.authorizer.is_allowed(
        principal, "ecr:CreateRepository", account_id=account, resource=arn
    ):
        raise outcome.permanent(
            outcome.CREATE_DENIED,
            f"repository {name} does not exist in {account} and its registry policy does not "
            f"allow {principal.arn} ecr:CreateRepository",
        )
    return create_destination_repository(session, account_id=account, name=name)


def push(ctx: RegistryContext, *, source: str, account: str, name: str, plan: Plan) -> list[str]:
    """Copy the plan into `account`'s repository `name`; the tags dropped (immutable there)."""
    with ctx.db.write() as session:
        repo = _destination(ctx, session, source=source, account=account, name=name, create=True)
        assert repo is not None
        needed = {digest for item in plan.items for digest, _size in item.blobs}
        lock_blobs(session, needed)  # all at once, in lock_blobs' order: no deadlock with GC
        present = set(session.scalars(select(m.Blob.digest).where(m.Blob.digest.in_(needed))))
        if needed - present:  # collected since the plan was read: never a row without a file
            raise outcome.transient(
                f"blobs of {plan.digest} left the store since the plan was read: "
                f"{sorted(needed - present)[:3]}"
            )
        for item in plan.items:
            for digest, size in item.blobs:
                link_blob(session, repository_id=repo.id, digest=Digest.parse(digest), size=size)
            manifests.put_manifest(
                session,
                repository=repo,
                reference=item.digest,
                raw=item.content,
                content_type=item.media_type,
                replicated=True,
            )
        root = next(item for item in plan.items if item.digest == plan.digest)
        dropped = []
        for tag in plan.tags:
            try:
                with session.begin_nested():
                    manifests.put_manifest(
                        session,
                        repository=repo,
                        reference=tag,
                        raw=root.content,
                        content_type=root.media_type,
                        replicated=True,
                    )
            except TagImmutable:
                dropped.append(tag)
    return dropped


def delete_image(
    ctx: RegistryContext, *, source: str, account: str, name: str, digest: str
) -> None:
    with ctx.db.write() as session:
        repo = _destination(ctx, session, source=source, account=account, name=name, create=False)
        if repo is None or _manifest_id(session, repo, digest) is None:
            return
        try:
            manifests.delete_manifest(
                session, repository=repo, digest=Digest.parse(digest), replicated=True
            )
        except ImageReferencedByIndex as exc:
            raise outcome.permanent(outcome.REJECTED, exc.message) from None


def delete_tag(
    ctx: RegistryContext, *, source: str, account: str, name: str, digest: str, tag: str
) -> None:
    with ctx.db.write() as session:
        repo = _destination(ctx, session, source=source, account=account, name=name, create=False)
        if repo is None:
            return
        row = session.get(m.ImageTag, (repo.id, tag))
        if row is not None and row.manifest_id == _manifest_id(session, repo, digest):
            manifests.delete_tag(session, repository=repo, tag=tag, replicated=True)


def _manifest_id(session: Session, repo: m.Repository, digest: str) -> int | None:
    return session.scalar(
        select(m.Manifest.id).where(
            m.Manifest.repository_id == repo.id, m.Manifest.digest == digest
        )
    )
