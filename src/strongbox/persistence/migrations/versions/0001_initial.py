"""Initial schema: vaults, policies, items, recovery points, operations, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Written out in full (not generated from ``schema.py`` at run time), so that this revision
means the same thing forever; ``tests/contract/persistence`` checks that it matches
``schema.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _vault_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["vault_key"], ["vaults.key"], name=f"fk_{table}_vault_key_vaults",
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "vaults",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("subscription", sa.String(100), nullable=False),
        sa.Column("resource_group", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("subscription_lc", sa.String(100), nullable=False),
        sa.Column("resource_group_lc", sa.String(100), nullable=False),
        sa.Column("location", sa.String(100), nullable=False),
        sa.Column("storage_id", sa.String(100), nullable=False),
        sa.Column("created", Time, nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("sku_name", sa.String(50), nullable=False),
        sa.Column("etag", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_vaults"),
    )
    op.create_index("ix_vaults_scope", "vaults", ["subscription_lc", "resource_group_lc"])

    op.create_table(
        "policies",
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("vault_key", sa.String(400), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created", Time, nullable=False),
        sa.Column("etag", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_policies"),
        _vault_fk("policies"),
    )
    op.create_index("ix_policies_vault", "policies", ["vault_key"])

    op.create_table(
        "items",
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("vault_key", sa.String(400), nullable=False),
        sa.Column("subscription", sa.String(100), nullable=False),
        sa.Column("resource_group", sa.String(100), nullable=False),
        sa.Column("vm_name", sa.String(100), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=True),
        sa.Column("protection_state", sa.String(40), nullable=False),
        sa.Column("created", Time, nullable=False),
        sa.Column("data_id", sa.String(100), nullable=False),
        sa.Column("last_backup_status", sa.String(40), nullable=False),
        sa.Column("last_backup_time", Time, nullable=True),
        sa.Column("health_status", sa.String(40), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_items"),
        _vault_fk("items"),
    )
    op.create_index("ix_items_vault", "items", ["vault_key"])

    op.create_table(
        "recovery_points",
        sa.Column("item_key", sa.String(600), nullable=False),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("vault_key", sa.String(400), nullable=False),
        sa.Column("snapshot_id", sa.String(200), nullable=False),
        sa.Column("time", Time, nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("expiry", Time, nullable=True),
        sa.PrimaryKeyConstraint("item_key", "id", name="pk_recovery_points"),
        sa.ForeignKeyConstraint(["item_key"], ["items.key"], name="fk_recovery_points_item_key_items",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_recovery_points_item_time", "recovery_points", ["item_key", "time"])

    op.create_table(
        "operations",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("vault_key", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("start_time", Time, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("job_id", sa.String(100), nullable=True),
        sa.Column("follows_job", sa.Boolean(), nullable=False),
        sa.Column("end_time", Time, nullable=True),
        sa.Column("error_code", sa.String(200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
        _vault_fk("operations"),
    )
    op.create_index("ix_operations_vault", "operations", ["vault_key"])

    op.create_table(
        "jobs",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("vault_key", sa.String(400), nullable=False),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("entity_friendly_name", sa.String(200), nullable=False),
        sa.Column("start_time", Time, nullable=False),
        sa.Column("end_time", Time, nullable=True),
        sa.Column("activity_id", sa.String(100), nullable=False),
        sa.Column("item_key", sa.String(600), nullable=True),
        sa.Column("container_name", sa.String(300), nullable=False),
        sa.Column("is_user_triggered", sa.Boolean(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("property_bag", sa.JSON(), nullable=False),
        sa.Column("error_details", sa.JSON(), nullable=False),
        sa.Column("progress_percentage", sa.Float(), nullable=True),
        sa.Column("eta_seconds", sa.Float(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires", Time, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("exclusive_key", sa.String(600), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_jobs"),
        sa.UniqueConstraint("id", name="uq_jobs_id"),
        sa.UniqueConstraint("exclusive_key", name="uq_jobs_exclusive_key"),
        _vault_fk("jobs"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_jobs_vault_seq", "jobs", ["vault_key", "seq"])
    op.create_index("ix_jobs_claim", "jobs", ["is_final", "attempts", "seq"])
    op.create_index("ix_jobs_lease", "jobs", ["is_final", "lease_expires"])
    op.create_index("ix_jobs_finished", "jobs", ["is_final", "end_time"])
    op.create_index("ix_jobs_item", "jobs", ["item_key", "is_final"])


def downgrade() -> None:
    for table in ("jobs", "operations", "recovery_points", "items", "policies", "vaults"):
        op.drop_table(table)
