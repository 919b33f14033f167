"""The metadata schema (SQLAlchemy 2 declarative models). Migrations live in `migrations/`.

Portable by construction: one naming convention for constraints, UTC timestamps named `*_at`
(stored naive-UTC, returned tz-aware by `UTCDateTime`), no dialect-specific column types.

    accounts ─┬─ iam_users ── access_keys
              └─ repositories ─┬─ repository_tags          (resource tags, ECR TagResource)
                               ├─ repository_blobs ── blobs (which blobs a repository may use)
                               ├─ manifests ─┬─ manifest_blobs     (config + layers it needs)
                               │             └─ manifest_children  (an index's child manifests)
                               ├─ tags ── manifests
                               └─ uploads                  (blob uploads in progress)
    accounts ─┬─ account_settings, registry_policies, pull_time_exclusions
              ├─ repository_creation_templates
              ├─ iam_groups ── iam_group_members ── iam_users
              ├─ iam_roles ── role_sessions
              └─ iam_managed_policies
    iam_inline_policies, iam_policy_attachments       (owned by a user, group or role)
    repositories ─┬─ lifecycle_policies, lifecycle_previews
                  └─ lifecycle_executions                (the lifecycle audit trail)
    jobs (background work with leases), events (EventBridge-shaped), gc_runs
    deployment_secrets                                      (keys every node shares)
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _system_now() -> datetime:
    return datetime.now(UTC)


# The clock of the unit of work in progress (set by `Database`); column defaults read it.
CLOCK: ContextVar[Callable[[], datetime]] = ContextVar("stiva_clock", default=_system_now)


def utcnow() -> datetime:
    """Now, by the clock of the current unit of work (the system clock outside one)."""
    return CLOCK.get()()


def byte_ordered(length: int) -> TypeEngine[str]:
    """A name column listed in byte order, as ECR and the OCI `tags/list` order them: SQLite
    compares text byte by byte; on PostgreSQL the column collates as "C" whatever the
    database's own locale (migration 0007)."""
    return String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC, always returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # served on plain hosts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IamUser(Base):
    """An IAM user; the row with `is_root` is the account's root principal (`...:root`)."""

    __tablename__ = "iam_users"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(byte_ordered(64))
    user_id: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(512), default="/")
    is_root: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessKey(Base):
    __tablename__ = "access_keys"
    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # the secret, encrypted (see services/secrets.py); SigV4 needs it back to recompute signatures
    secret_access_key: Mapped[str] = mapped_column(String(256))
    user_id: Mapped[int] = mapped_column(ForeignKey("iam_users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_service: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_used_region: Mapped[str | None] = mapped_column(String(32), nullable=True)


class IamGroup(Base):
    __tablename__ = "iam_groups"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(byte_ordered(128))
    group_id: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(512), default="/")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IamGroupMember(Base):
    __tablename__ = "iam_group_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("iam_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("iam_users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IamRole(Base):
    __tablename__ = "iam_roles"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(byte_ordered(64))
    role_id: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(512), default="/")
    trust_policy: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    max_session_duration: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IamInlinePolicy(Base):
    """A policy embedded in one user, group or role (PutUserPolicy, PutRolePolicy, ...)."""

    __tablename__ = "iam_inline_policies"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(8))  # user | group | role
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(byte_ordered(128))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IamManagedPolicy(Base):
    """A customer managed policy (CreatePolicy); AWS managed policies are built into the code."""

    __tablename__ = "iam_managed_policies"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(byte_ordered(128))
    policy_id: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(512), default="/")
    arn: Mapped[str] = mapped_column(String(2048), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    document: Mapped[str] = mapped_column(Text)
    default_version_id: Mapped[str] = mapped_column(String(16), default="v1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IamPolicyAttachment(Base):
    """A managed policy (customer or AWS, by ARN) attached to a user, group or role."""

    __tablename__ = "iam_policy_attachments"
    owner_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # user | group | role
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_arn: Mapped[str] = mapped_column(String(2048), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleSession(Base):
    """Temporary credentials issued by STS AssumeRole."""

    __tablename__ = "role_sessions"
    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_access_key: Mapped[str] = mapped_column(String(256))  # encrypted like access keys
    session_token_sha256: Mapped[str] = mapped_column(String(64))
    role_id: Mapped[int] = mapped_column(ForeignKey("iam_roles.id", ondelete="CASCADE"), index=True)
    session_name: Mapped[str] = mapped_column(String(64))
    source_identity: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # caller ARN
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeploymentSecret(Base):
    __tablename__ = "deployment_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Repository(Base):
    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(byte_ordered(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    image_tag_mutability: Mapped[str] = mapped_column(String(32), default="MUTABLE")
    scan_on_push: Mapped[bool] = mapped_column(Boolean, default=False)
    encryption_type: Mapped[str] = mapped_column(String(16), default="AES256")
    kms_key: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # JSON array of the WILDCARD filters of the *_WITH_EXCLUSION mutability values
    tag_mutability_exclusions: Mapped[str | None] = mapped_column(Text, nullable=True)
    policy_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # repository policy


class RepositoryTag(Base):
    """A resource tag (key/value) on a repository; unrelated to image tags."""

    __tablename__ = "repository_tags"
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(byte_ordered(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class Blob(Base):
    __tablename__ = "blobs"
    digest: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RepositoryBlob(Base):
    __tablename__ = "repository_blobs"
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(ForeignKey("blobs.digest"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Manifest(Base):
    __tablename__ = "manifests"
    __table_args__ = (
        UniqueConstraint("repository_id", "digest"),
        Index("ix_manifests_repository_id_subject_digest", "repository_id", "subject_digest"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(255))
    artifact_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    config_media_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    subject_digest: Mapped[str | None] = mapped_column(String(200), nullable=True)
    annotations: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object text
    size: Mapped[int] = mapped_column(Integer)  # bytes of the manifest itself
    image_size: Mapped[int] = mapped_column(BigInteger)  # ECR's imageSizeInBytes
    content: Mapped[bytes] = mapped_column(LargeBinary)  # the exact bytes pushed
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    image_status: Mapped[str] = mapped_column(String(16), default="ACTIVE")  # ARCHIVED, ACTIVATING
    last_archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ManifestBlob(Base):
    __tablename__ = "manifest_blobs"
    manifest_id: Mapped[int] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class ManifestChild(Base):
    __tablename__ = "manifest_children"
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True
    )
    child_digest: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class ImageTag(Base):
    __tablename__ = "tags"
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(byte_ordered(300), primary_key=True)
    manifest_id: Mapped[int] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # ECR's layer-part API (UploadLayerPart): parts must be >= 5 MiB except the last one
    part_count: Mapped[int] = mapped_column(Integer, default=0)
    last_part_size: Mapped[int] = mapped_column(BigInteger, default=0)
    undersized_part: Mapped[bool] = mapped_column(Boolean, default=False)


class AccountSetting(Base):
    """ECR account settings (GetAccountSetting/PutAccountSetting); absent rows take defaults."""

    __tablename__ = "account_settings"
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistryPolicy(Base):
    __tablename__ = "registry_policies"
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    policy_text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RepositoryCreationTemplate(Base):
    __tablename__ = "repository_creation_templates"
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    prefix: Mapped[str] = mapped_column(
        byte_ordered(256), primary_key=True
    )  # "ROOT" or a name prefix
    description: Mapped[str | None] = mapped_column(String(256), nullable=True)
    applied_for: Mapped[str] = mapped_column(Text)  # JSON array of RCTAppliedFor values
    encryption_type: Mapped[str] = mapped_column(String(16), default="AES256")
    kms_key: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    resource_tags: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON [{Key, Value}]
    image_tag_mutability: Mapped[str] = mapped_column(String(32), default="MUTABLE")
    tag_mutability_exclusions: Mapped[str | None] = mapped_column(Text, nullable=True)
    repository_policy: Mapped[str | None] = mapped_column(Text, nullable=True)
    lifecycle_policy: Mapped[str | None] = mapped_column(Text, nullable=True)
    custom_role_arn: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PullTimeExclusion(Base):
    """Principals whose pulls do not update lastRecordedPullTime."""

    __tablename__ = "pull_time_exclusions"
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    principal_arn: Mapped[str] = mapped_column(byte_ordered(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """Background work (the outbox): written in the transaction that needs it, claimed by any
    node's worker under a lease, retried with backoff, never done twice at once.

    `dedup_key` (unique while the job is live; cleared when it ends) keeps one queued or running
    job per purpose, e.g. one lifecycle preview per repository.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Event(Base):
    """An event in EventBridge's shape (`source`, `detail-type`, `detail`), kept for consumers."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    source: Mapped[str] = mapped_column(String(64), default="aws.ecr")
    detail_type: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text)  # JSON object
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LifecyclePolicy(Base):
    __tablename__ = "lifecycle_policies"
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    policy_text: Mapped[str] = mapped_column(Text)
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LifecyclePreview(Base):
    """The one lifecycle policy preview of a repository (StartLifecyclePolicyPreview)."""

    __tablename__ = "lifecycle_previews"
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS | COMPLETE | EXPIRED | FAILED
    policy_text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    results: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class LifecycleExecution(Base):
    """The audit trail: one row per application of a repository's lifecycle policy."""

    __tablename__ = "lifecycle_executions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    repository_id: Mapped[int | None] = mapped_column(
        ForeignKey("repositories.id", ondelete="SET NULL"), nullable=True, index=True
    )
    repository_name: Mapped[str] = mapped_column(String(256))
    policy_text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expired: Mapped[int] = mapped_column(Integer, default=0)
    transitioned: Mapped[int] = mapped_column(Integer, default=0)
    actions: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class GcRun(Base):
    """One garbage collection: what it freed (and whether it finished)."""

    __tablename__ = "gc_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    grace_seconds: Mapped[int] = mapped_column(Integer)
    blobs_deleted: Mapped[int] = mapped_column(Integer, default=0)
    bytes_freed: Mapped[int] = mapped_column(BigInteger, default=0)
    uploads_deleted: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, per repository


# --- image scanning (services/scanning) ----------------------------------------------------------


class RegistryScanningConfiguration(Base):
    """PutRegistryScanningConfiguration: the scan type and rules of a registry (absent: BASIC,
    no rules)."""

    __tablename__ = "registry_scanning_configurations"
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    scan_type: Mapped[str] = mapped_column(String(16), default="BASIC")
    rules: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{scanFrequency, filters}]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VulnSource(Base):
    """One imported advisory source (`osv:PyPI`, `alpine-secdb:v3.18/main`)."""

    __tablename__ = "vuln_sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # osv | alpine-secdb
    location: Mapped[str] = mapped_column(Text)  # the path last imported from
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn_count: Mapped[int] = mapped_column(Integer, default=0)
    last_modified: Mapped[str | None] = mapped_column(String(64), nullable=True)  # newest record
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # content changed


class VulnRecord(Base):
    """An advisory in OSV form (canonical JSON), unique per source and id."""

    __tablename__ = "vuln_records"
    __table_args__ = (UniqueConstraint("source_id", "record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("vuln_sources.id", ondelete="CASCADE"))
    record_id: Mapped[str] = mapped_column(String(200))
    modified: Mapped[str] = mapped_column(String(64))
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of `document`
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VulnRecordKey(Base):
    """The (ecosystem, package) pairs an advisory is looked up by (`scanning.osv.index_keys`)."""

    __tablename__ = "vuln_record_keys"
    __table_args__ = (Index("ix_vuln_record_keys_ecosystem_name", "ecosystem", "name"),)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("vuln_records.id", ondelete="CASCADE"), primary_key=True
    )
    ecosystem: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)


class LayerAnalysisCache(Base):
    """A layer analysed once: the analysis JSON, or why the layer was rejected."""

    __tablename__ = "layer_analyses"
    digest: Mapped[str] = mapped_column(
        ForeignKey("blobs.digest", ondelete="CASCADE"), primary_key=True
    )
    analyzer_version: Mapped[str] = mapped_column(String(16), primary_key=True)
    analysis: Mapped[str | None] = mapped_column(Text, nullable=True)
    rejected: Mapped[str | None] = mapped_column(Text, nullable=True)
    uncompressed_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImageScan(Base):
    """The scan of an image (one per manifest): status, the merged inventory, severity counts."""

    __tablename__ = "image_scans"
    manifest_id: Mapped[int] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    scan_type: Mapped[str] = mapped_column(String(16))  # BASIC | ENHANCED
    request_id: Mapped[str] = mapped_column(String(36))  # the scan job this row waits for
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # 24 h quota
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    inventory: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, for rescans
    severity_counts: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object


class ScanFinding(Base):
    """A vulnerability in one package of an image, ACTIVE or CLOSED, with when it was seen."""

    __tablename__ = "scan_findings"
    __table_args__ = (UniqueConstraint("manifest_id", "finding_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"))
    finding_key: Mapped[str] = mapped_column(String(64))  # sha256 of vulnerability + package
    vulnerability_id: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    package_name: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")  # ACTIVE | CLOSED
    detail: Mapped[str] = mapped_column(Text)  # JSON: what the ECR shapes are rendered from
    first_observed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_observed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplicationConfiguration(Base):
    """An account's registry replication rules (PutReplicationConfiguration), as JSON."""

    __tablename__ = "replication_configurations"
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[str] = mapped_column(Text)  # JSON list, ECR's shape + Stiva's tag filters
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplicationDelivery(Base):
    """One image (or, with deleteReplication, one removal) to carry to one destination.

    Written in the unit of work of the push or delete that causes it; the worker moves it to
    COMPLETE or, after permanent refusal or its horizon, FAILED with a failure code. `tag` is ""
    except for tag removals. `action`: REPLICATE | DELETE_TAG | DELETE_IMAGE.
    """

    __tablename__ = "replication_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "repository_name",
            "image_digest",
            "destination_region",
            "destination_registry_id",
            "action",
            "tag",
            name="uq_replication_deliveries_key",
        ),
        Index("ix_replication_deliveries_status_next", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12))
    repository_name: Mapped[str] = mapped_column(String(256))
    image_digest: Mapped[str] = mapped_column(String(200))
    destination_region: Mapped[str] = mapped_column(String(32))
    destination_registry_id: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(16), default="REPLICATE")
    tag: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="IN_PROGRESS")
    # bumped each time a push re-opens the delivery: an attempt that started before records
    # nothing (the re-opened delivery's own job carries the newer state)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    horizon_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # 1st try
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReplicationBackfill(Base):
    """StartReplicationBackfill: pre-existing matching images copied to one destination."""

    __tablename__ = "replication_backfills"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the replicationBackfillId
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    destination_region: Mapped[str] = mapped_column(String(32))
    destination_registry_id: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), default="PREPARING")
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReplicationBackfillItem(Base):
    """One image a backfill carries: the delivery doing it, and its outcome once terminal."""

    __tablename__ = "replication_backfill_items"
    __table_args__ = (  # a backfill's step asks whether an image has its item already
        Index(
            "ix_replication_backfill_items_image", "backfill_id", "repository_name", "image_digest"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    backfill_id: Mapped[str] = mapped_column(
        ForeignKey("replication_backfills.id", ondelete="CASCADE"), index=True
    )
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("replication_deliveries.id", ondelete="CASCADE")
    )
    repository_name: Mapped[str] = mapped_column(String(256))
    image_digest: Mapped[str] = mapped_column(String(200))
    # What the image counts for in the progress: one per tag (ECR counts image+tag pairs), one
    # for an untagged image.
    replications: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)  # COMPLETE | FAILED
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
