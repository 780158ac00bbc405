"""Policies in force: schedule slots, the virtual clock, and what retention needs to know
about each recovery point (scheduled or on demand, expiry set by the client or not).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Written out in full, like 0001; ``tests/contract/persistence`` checks that 0001 + 0002
match ``schema.py``. Existing points count as on-demand with a policy-given expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("recovery_points") as batch:
        batch.add_column(sa.Column("scheduled", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("expiry_pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_recovery_points_expiry", "recovery_points", ["expiry"])
    op.create_table(
        "scheduled_slots",
        sa.Column("item_key", sa.String(600), nullable=False),
        sa.Column("slot_time", Time, nullable=False),
        sa.Column("job_id", sa.String(100), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_key", "slot_time", name="pk_scheduled_slots"),
        sa.ForeignKeyConstraint(["item_key"], ["items.key"], name="fk_scheduled_slots_item_key_items",
                                ondelete="CASCADE"),
    )
    op.create_table(
        "virtual_clock",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("offset_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_virtual_clock"),
    )


def downgrade() -> None:
    op.drop_table("virtual_clock")
    op.drop_table("scheduled_slots")
    op.drop_index("ix_recovery_points_expiry", table_name="recovery_points")
    with op.batch_alter_table("recovery_points") as batch:
        batch.drop_column("expiry_pinned")
        batch.drop_column("scheduled")
