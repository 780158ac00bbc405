"""Webhooks: the outbox of job events, their deliveries, and each delivery attempt.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

``webhook_events`` is the outbox: one row per job transition, written in the job's own
transaction. ``webhook_deliveries`` has one row per (event, webhook url), made by the one
dispatcher that took the event; ``webhook_attempts`` logs each POST. Attempts and deliveries
go with their event (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("job_id", sa.String(100), nullable=False),
        sa.Column("time", Time, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_webhook_events"),
        sa.UniqueConstraint("id", name="uq_webhook_events_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_events_dispatch", "webhook_events", ["dispatched", "seq"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("job_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created", Time, nullable=False),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires", Time, nullable=True),
        sa.Column("finished_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.ForeignKeyConstraint(["event_id"], ["webhook_events.id"], name="fk_webhook_deliveries_event_id_webhook_events",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("event_id", "url", name="uq_webhook_deliveries_event_id"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("delivery_id", sa.String(100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("time", Time, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_webhook_attempts"),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"],
                                name="fk_webhook_attempts_delivery_id_webhook_deliveries", ondelete="CASCADE"),
    )
    op.create_index("ix_webhook_attempts_time", "webhook_attempts", ["time"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
