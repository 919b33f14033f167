"""ECR control plane: settings, policies, templates, archive, pull-time exclusions, layer parts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_settings",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_settings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "name", name=op.f("pk_account_settings")),
    )
    op.create_table(
        "pull_time_exclusions",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("principal_arn", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_pull_time_exclusions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "principal_arn", name=op.f("pk_pull_time_exclusions")
        ),
    )
    op.create_table(
        "registry_policies",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_registry_policies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_registry_policies")),
    )
    op.create_table(
        "repository_creation_templates",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("prefix", sa.String(length=256), nullable=False),
        sa.Column("description", sa.String(length=256), nullable=True),
        sa.Column("applied_for", sa.Text(), nullable=False),
        sa.Column("encryption_type", sa.String(length=16), nullable=False),
        sa.Column("kms_key", sa.String(length=2048), nullable=True),
        sa.Column("resource_tags", sa.Text(), nullable=True),
        sa.Column("image_tag_mutability", sa.String(length=32), nullable=False),
        sa.Column("tag_mutability_exclusions", sa.Text(), nullable=True),
        sa.Column("repository_policy", sa.Text(), nullable=True),
        sa.Column("lifecycle_policy", sa.Text(), nullable=True),
        sa.Column("custom_role_arn", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_repository_creation_templates_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "prefix", name=op.f("pk_repository_creation_templates")
        ),
    )
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("image_status", sa.String(length=16), nullable=False, server_default="ACTIVE")
        )
        batch_op.add_column(sa.Column("last_archived_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_activated_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tag_mutability_exclusions", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("policy_text", sa.Text(), nullable=True))

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("part_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("last_part_size", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("undersized_part", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("undersized_part")
        batch_op.drop_column("last_part_size")
        batch_op.drop_column("part_count")

    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.drop_column("policy_text")
        batch_op.drop_column("tag_mutability_exclusions")

    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.drop_column("last_activated_at")
        batch_op.drop_column("last_archived_at")
        batch_op.drop_column("image_status")

    op.drop_table("repository_creation_templates")
    op.drop_table("registry_policies")
    op.drop_table("pull_time_exclusions")
    op.drop_table("account_settings")
