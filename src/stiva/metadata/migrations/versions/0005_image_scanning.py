"""Image scanning: scanning configuration, vulnerability database, layer analyses, scans, findings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vuln_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("withdrawn_count", sa.Integer(), nullable=False),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_vuln_sources_name")),
    )
    op.create_table(
        "layer_analyses",
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("analyzer_version", sa.String(length=16), nullable=False),
        sa.Column("analysis", sa.Text(), nullable=True),
        sa.Column("rejected", sa.Text(), nullable=True),
        sa.Column("uncompressed_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest"],
            ["blobs.digest"],
            name=op.f("fk_layer_analyses_digest_blobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", "analyzer_version", name=op.f("pk_layer_analyses")),
    )
    op.create_table(
        "registry_scanning_configurations",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("scan_type", sa.String(length=16), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_registry_scanning_configurations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_registry_scanning_configurations")),
    )
    op.create_table(
        "vuln_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("modified", sa.String(length=64), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["vuln_sources.id"],
            name=op.f("fk_vuln_records_source_id_vuln_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_records")),
        sa.UniqueConstraint(
            "source_id", "record_id", name=op.f("uq_vuln_records_source_id_record_id")
        ),
    )
    op.create_table(
        "vuln_record_keys",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["vuln_records.id"],
            name=op.f("fk_vuln_record_keys_record_id_vuln_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "ecosystem", "name", name=op.f("pk_vuln_record_keys")),
    )
    with op.batch_alter_table("vuln_record_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vuln_record_keys_ecosystem_name", ["ecosystem", "name"], unique=False
        )

    op.create_table(
        "image_scans",
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("scan_type", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(), nullable=True),
        sa.Column("inventory", sa.Text(), nullable=True),
        sa.Column("severity_counts", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["manifest_id"],
            ["manifests.id"],
            name=op.f("fk_image_scans_manifest_id_manifests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("manifest_id", name=op.f("pk_image_scans")),
    )
    op.create_table(
        "scan_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("finding_key", sa.String(length=64), nullable=False),
        sa.Column("vulnerability_id", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("package_name", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("first_observed_at", sa.DateTime(), nullable=False),
        sa.Column("last_observed_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manifest_id"],
            ["manifests.id"],
            name=op.f("fk_scan_findings_manifest_id_manifests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_findings")),
        sa.UniqueConstraint(
            "manifest_id", "finding_key", name=op.f("uq_scan_findings_manifest_id_finding_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("scan_findings")
    op.drop_table("image_scans")
    with op.batch_alter_table("vuln_record_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_vuln_record_keys_ecosystem_name")

    op.drop_table("vuln_record_keys")
    op.drop_table("vuln_records")
    op.drop_table("registry_scanning_configurations")
    op.drop_table("layer_analyses")
    op.drop_table("vuln_sources")
