"""Replication: configurations, deliveries (the outbox per destination), backfills

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replication_configurations",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_replication_configurations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_replication_configurations")),
    )
    op.create_table(
        "replication_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("repository_name", sa.String(length=256), nullable=False),
        sa.Column("image_digest", sa.String(length=200), nullable=False),
        sa.Column("destination_region", sa.String(length=32), nullable=False),
        sa.Column("destination_registry_id", sa.String(length=12), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("tag", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("horizon_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_deliveries")),
        sa.UniqueConstraint(
            "account_id",
            "repository_name",
            "image_digest",
            "destination_region",
            "destination_registry_id",
            "action",
            "tag",
            name=op.f("uq_replication_deliveries_key"),
        ),
    )
    op.create_index(
        "ix_replication_deliveries_status_next",
        "replication_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "replication_backfills",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("destination_region", sa.String(length=32), nullable=False),
        sa.Column("destination_registry_id", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_replication_backfills_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_backfills")),
    )
    op.create_index(
        op.f("ix_replication_backfills_account_id"), "replication_backfills", ["account_id"]
    )
    op.create_table(
        "replication_backfill_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("backfill_id", sa.String(length=36), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("repository_name", sa.String(length=256), nullable=False),
        sa.Column("image_digest", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["backfill_id"],
            ["replication_backfills.id"],
            name=op.f("fk_replication_backfill_items_backfill_id_replication_backfills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["replication_deliveries.id"],
            name=op.f("fk_replication_backfill_items_delivery_id_replication_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_backfill_items")),
    )
    op.create_index(
        op.f("ix_replication_backfill_items_backfill_id"),
        "replication_backfill_items",
        ["backfill_id"],
    )


def downgrade() -> None:
    op.drop_table("replication_backfill_items")
    op.drop_table("replication_backfills")
    op.drop_index("ix_replication_deliveries_status_next", "replication_deliveries")
    op.drop_table("replication_deliveries")
    op.drop_table("replication_configurations")
