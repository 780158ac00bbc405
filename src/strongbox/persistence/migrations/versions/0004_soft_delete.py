"""Soft delete and the immutable vault: a vault's security settings, and an item's deferred
delete (its purge time and the purge job that claimed it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Vaults created before this revision had no soft delete (their wire said
``softDeleteState: Disabled``): they keep that; new vaults get Azure's default from the API.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("vaults") as batch:
        batch.add_column(sa.Column("soft_delete_state", sa.String(20), nullable=False, server_default="Disabled"))
        batch.add_column(sa.Column("soft_delete_days", sa.Integer(), nullable=False, server_default="14"))
        batch.add_column(sa.Column("immutability_state", sa.String(20), nullable=False, server_default="Disabled"))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("deferred_delete_at", Time, nullable=True))
        batch.add_column(sa.Column("purge_job_id", sa.String(100), nullable=True))
    op.create_index("ix_items_deferred_delete", "items", ["deferred_delete_at"])


def downgrade() -> None:
    op.drop_index("ix_items_deferred_delete", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("purge_job_id")
        batch.drop_column("deferred_delete_at")
    with op.batch_alter_table("vaults") as batch:
        batch.drop_column("immutability_state")
        batch.drop_column("soft_delete_days")
        batch.drop_column("soft_delete_state")
