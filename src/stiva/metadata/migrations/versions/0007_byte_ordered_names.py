"""Names listed in byte order on PostgreSQL too: their columns collate as "C"

SQLite compares text byte by byte already; nothing changes there. On PostgreSQL a database
created with another locale would otherwise list repositories, tags, IAM names, template
prefixes and exclusions in that locale's order, unlike ECR and the OCI `tags/list`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = (
    ("iam_users", "name", 64),
    ("iam_groups", "name", 128),
    ("iam_roles", "name", 64),
    ("iam_inline_policies", "name", 128),
    ("iam_managed_policies", "name", 128),
    ("repositories", "name", 256),
    ("repository_tags", "key", 128),
    ("tags", "name", 300),
    ("repository_creation_templates", "prefix", 256),
    ("pull_time_exclusions", "principal_arn", 200),
)


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in COLUMNS:
        kind = f'VARCHAR({length}) COLLATE "{collation}"'
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {kind}")


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
