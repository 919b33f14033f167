"""IAM: groups, roles, inline and managed policies, attachments, role sessions, key usage

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iam_inline_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_inline_policies")),
        sa.UniqueConstraint(
            "owner_kind",
            "owner_id",
            "name",
            name=op.f("uq_iam_inline_policies_owner_kind_owner_id_name"),
        ),
    )
    with op.batch_alter_table("iam_inline_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iam_inline_policies_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "iam_policy_attachments",
        sa.Column("owner_kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("policy_arn", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "owner_kind", "owner_id", "policy_arn", name=op.f("pk_iam_policy_attachments")
        ),
    )
    with op.batch_alter_table("iam_policy_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iam_policy_attachments_policy_arn"), ["policy_arn"], unique=False
        )

    op.create_table(
        "iam_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_iam_groups_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_groups")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_iam_groups_account_id_name")),
        sa.UniqueConstraint("group_id", name=op.f("uq_iam_groups_group_id")),
    )
    op.create_table(
        "iam_managed_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("policy_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("default_version_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_iam_managed_policies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_managed_policies")),
        sa.UniqueConstraint(
            "account_id", "name", name=op.f("uq_iam_managed_policies_account_id_name")
        ),
        sa.UniqueConstraint("arn", name=op.f("uq_iam_managed_policies_arn")),
        sa.UniqueConstraint("policy_id", name=op.f("uq_iam_managed_policies_policy_id")),
    )
    op.create_table(
        "iam_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("trust_policy", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_iam_roles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_roles")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_iam_roles_account_id_name")),
        sa.UniqueConstraint("role_id", name=op.f("uq_iam_roles_role_id")),
    )
    op.create_table(
        "iam_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["iam_groups.id"],
            name=op.f("fk_iam_group_members_group_id_iam_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["iam_users.id"],
            name=op.f("fk_iam_group_members_user_id_iam_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_iam_group_members")),
    )
    with op.batch_alter_table("iam_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_iam_group_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "role_sessions",
        sa.Column("access_key_id", sa.String(length=32), nullable=False),
        sa.Column("secret_access_key", sa.String(length=256), nullable=False),
        sa.Column("session_token_sha256", sa.String(length=64), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("session_name", sa.String(length=64), nullable=False),
        sa.Column("source_identity", sa.String(length=2048), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["iam_roles.id"],
            name=op.f("fk_role_sessions_role_id_iam_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("access_key_id", name=op.f("pk_role_sessions")),
    )
    with op.batch_alter_table("role_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_role_sessions_role_id"), ["role_id"], unique=False)

    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_used_service", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("last_used_region", sa.String(length=32), nullable=True))
        batch_op.alter_column(
            "secret_access_key",
            existing_type=sa.VARCHAR(length=64),
            type_=sa.String(length=256),
            existing_nullable=False,
        )

    with op.batch_alter_table("iam_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_root", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.execute(
        "INSERT INTO iam_policy_attachments (owner_kind, owner_id, policy_arn, created_at) "
        "SELECT 'user', id, 'arn:aws:iam::aws:policy/AdministratorAccess', created_at "
        "FROM iam_users WHERE name = 'admin'"
    )


def downgrade() -> None:
    with op.batch_alter_table("iam_users", schema=None) as batch_op:
        batch_op.drop_column("is_root")

    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.alter_column(
            "secret_access_key",
            existing_type=sa.String(length=256),
            type_=sa.VARCHAR(length=64),
            existing_nullable=False,
        )
        batch_op.drop_column("last_used_region")
        batch_op.drop_column("last_used_service")
        batch_op.drop_column("last_used_at")

    with op.batch_alter_table("role_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_sessions_role_id"))
        batch_op.drop_index(batch_op.f("ix_role_sessions_expires_at"))

    op.drop_table("role_sessions")
    with op.batch_alter_table("iam_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iam_group_members_user_id"))

    op.drop_table("iam_group_members")
    op.drop_table("iam_roles")
    op.drop_table("iam_managed_policies")
    op.drop_table("iam_groups")
    with op.batch_alter_table("iam_policy_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iam_policy_attachments_policy_arn"))

    op.drop_table("iam_policy_attachments")
    with op.batch_alter_table("iam_inline_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iam_inline_policies_owner_id"))

    op.drop_table("iam_inline_policies")
