"""Backfill items count their image+tag pairs, as ECR's backfill progress does; and are
found by (backfill, repository, image), which a backfill's step looks up for each image

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replication_backfill_items") as batch:
        batch.add_column(
            sa.Column("replications", sa.Integer(), nullable=False, server_default="1")
        )
    op.create_index(
        "ix_replication_backfill_items_image",
        "replication_backfill_items",
        ["backfill_id", "repository_name", "image_digest"],
    )


def downgrade() -> None:
    op.drop_index("ix_replication_backfill_items_image", "replication_backfill_items")
    with op.batch_alter_table("replication_backfill_items") as batch:
        batch.drop_column("replications")
