"""The schema: every table strongbox stores, as SQLAlchemy Core tables.

This module is the one description queries are written against; the migrations in
``migrations/versions`` create exactly these tables (a contract test compares them).

Stored formats:
- Datetimes are :class:`UtcDateTime`: written only when timezone-aware, stored as UTC
  (``timestamptz`` on PostgreSQL, a fixed-width ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC string on
  SQLite, so string order is time order), and always read back as aware UTC.
- Enums are stored as their string values; nested values (tasks, property bags, error
  details, requests, policy settings, tags, operation results) as JSON documents whose
  layout is defined next to the repository that writes them.
- Keys are the domain's lower-cased keys; names keep the client's spelling.
- Everything a vault owns is deleted with it (``ON DELETE CASCADE``); recovery points are
  deleted with their item.
- ``jobs.seq`` only grows (SQLite ``AUTOINCREMENT``, a PostgreSQL sequence): it is the
  insertion order and the paging cursor.
- ``scheduled_slots`` has one row per (item, slot time) a scheduled job was created for,
  inserted in the job's transaction; ``virtual_clock`` holds the offset of the shared
  virtual clock (see :mod:`strongbox.services.clock`).
- ``jobs.exclusive_key`` is unique and NULL once the job is final (``is_final``), so at
  most one unfinished job holds a key, and the database enforces it.
- ``job_logs`` rows belong to a job (``ON DELETE CASCADE`` on ``jobs.id``), so purging old
  jobs or deleting a vault takes their logs too.
- ``items.deferred_delete_at`` is set while an item is soft deleted (its purge time);
  ``items.purge_job_id`` names the purge job that claimed it, set by a compare-and-set in the
  job's own transaction, so one purge starts per item however many schedulers race.
- ``webhook_events`` is an outbox: its rows are written in the same transaction as the job
  transition they tell of, so a committed transition always has its event; deliveries and
  their attempts go with their event (``ON DELETE CASCADE``), not with the job.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError

# Deterministic constraint names, so migrations can name what they alter.
metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime, stored as UTC; naive datetimes are refused, never guessed."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: strongbox stores only aware datetimes")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# PostgreSQL's json (not jsonb) keeps key order, so property bags read back as written.
Json: sa.types.TypeEngine[Any] = sa.JSON()
# SQLite's AUTOINCREMENT needs exactly "INTEGER PRIMARY KEY".
SeqType: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

vaults = sa.Table(
    "vaults", metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("subscription", sa.String(100), nullable=False),
    sa.Column("resource_group", sa.String(100), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("subscription_lc", sa.String(100), nullable=False),
    sa.Column("resource_group_lc", sa.String(100), nullable=False),
    sa.Column("location", sa.String(100), nullable=False),
    sa.Column("storage_id", sa.String(100), nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("sku_name", sa.String(50), nullable=False),
    sa.Column("etag", sa.String(100), nullable=False),
    # securitySettings (strongbox.domain.softdelete); vaults older than 0004 had no soft delete
    sa.Column("soft_delete_state", sa.String(20), nullable=False, server_default="Disabled"),
    sa.Column("soft_delete_days", sa.Integer(), nullable=False, server_default="14"),
    sa.Column("immutability_state", sa.String(20), nullable=False, server_default="Disabled"),
    sa.Index("ix_vaults_scope", "subscription_lc", "resource_group_lc"),
)

policies = sa.Table(
    "policies", metadata,
    sa.Column("key", sa.String(600), primary_key=True),
    sa.Column("vault_key", sa.String(400), sa.ForeignKey("vaults.key", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("etag", sa.String(100), nullable=False),
    sa.Index("ix_policies_vault", "vault_key"),
)

items = sa.Table(
    "items", metadata,
    sa.Column("key", sa.String(600), primary_key=True),
    sa.Column("vault_key", sa.String(400), sa.ForeignKey("vaults.key", ondelete="CASCADE"), nullable=False),
    sa.Column("subscription", sa.String(100), nullable=False),
    sa.Column("resource_group", sa.String(100), nullable=False),
    sa.Column("vm_name", sa.String(100), nullable=False),
    sa.Column("policy_name", sa.String(200), nullable=True),
    sa.Column("protection_state", sa.String(40), nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("data_id", sa.String(100), nullable=False),
    sa.Column("last_backup_status", sa.String(40), nullable=False),
    sa.Column("last_backup_time", UtcDateTime(), nullable=True),
    sa.Column("health_status", sa.String(40), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.Column("deferred_delete_at", UtcDateTime(), nullable=True),
    sa.Column("purge_job_id", sa.String(100), nullable=True),
    sa.Index("ix_items_vault", "vault_key"),
    sa.Index("ix_items_deferred_delete", "deferred_delete_at"),
)

recovery_points = sa.Table(
    "recovery_points", metadata,
    sa.Column("item_key", sa.String(600), sa.ForeignKey("items.key", ondelete="CASCADE"), primary_key=True),
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("vault_key", sa.String(400), nullable=False),
    sa.Column("snapshot_id", sa.String(200), nullable=False),
    sa.Column("time", UtcDateTime(), nullable=False),
    sa.Column("bytes_total", sa.BigInteger(), nullable=False),
    sa.Column("files", sa.BigInteger(), nullable=False),
    sa.Column("expiry", UtcDateTime(), nullable=True),
    sa.Column("scheduled", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("expiry_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index("ix_recovery_points_item_time", "item_key", "time"),
    sa.Index("ix_recovery_points_expiry", "expiry"),
)

# One row per schedule slot that started a job: the primary key makes "at most one job per
# (item, slot)" a database fact, whichever process's scheduler gets there first.
scheduled_slots = sa.Table(
    "scheduled_slots", metadata,
    sa.Column("item_key", sa.String(600), sa.ForeignKey("items.key", ondelete="CASCADE"), primary_key=True),
    sa.Column("slot_time", UtcDateTime(), primary_key=True),
    sa.Column("job_id", sa.String(100), nullable=False),
    sa.Column("missed", sa.Integer(), nullable=False),
)

# The virtual clock (serve --virtual-clock): one row, the seconds it runs ahead of real time.
virtual_clock = sa.Table(
    "virtual_clock", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("offset_seconds", sa.Float(), nullable=False),
)

operations = sa.Table(
    "operations", metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("vault_key", sa.String(400), sa.ForeignKey("vaults.key", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("start_time", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("job_id", sa.String(100), nullable=True),
    sa.Column("follows_job", sa.Boolean(), nullable=False),
    sa.Column("end_time", UtcDateTime(), nullable=True),
    sa.Column("error_code", sa.String(200), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("result", Json, nullable=False),
    sa.Index("ix_operations_vault", "vault_key"),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(100), nullable=False, unique=True),
    sa.Column("vault_key", sa.String(400), sa.ForeignKey("vaults.key", ondelete="CASCADE"), nullable=False),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("is_final", sa.Boolean(), nullable=False),
    sa.Column("entity_friendly_name", sa.String(200), nullable=False),
    sa.Column("start_time", UtcDateTime(), nullable=False),
    sa.Column("end_time", UtcDateTime(), nullable=True),
    sa.Column("activity_id", sa.String(100), nullable=False),
    sa.Column("item_key", sa.String(600), nullable=True),
    sa.Column("container_name", sa.String(300), nullable=False),
    sa.Column("is_user_triggered", sa.Boolean(), nullable=False),
    sa.Column("request", Json, nullable=False),
    sa.Column("tasks", Json, nullable=False),
    sa.Column("property_bag", Json, nullable=False),
    sa.Column("error_details", Json, nullable=False),
    sa.Column("progress_percentage", sa.Float(), nullable=True),
    sa.Column("eta_seconds", sa.Float(), nullable=True),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_expires", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("exclusive_key", sa.String(600), nullable=True, unique=True),
    sa.Index("ix_jobs_vault_seq", "vault_key", "seq"),
    sa.Index("ix_jobs_claim", "is_final", "attempts", "seq"),
    sa.Index("ix_jobs_lease", "is_final", "lease_expires"),
    sa.Index("ix_jobs_finished", "is_final", "end_time"),
    sa.Index("ix_jobs_item", "item_key", "is_final"),
    sqlite_autoincrement=True,
)


# Each job's log (:mod:`strongbox.domain.joblogs`): ``seq`` counts from 1 per job; the lines
# go with their job (purged history, deleted vault).
job_logs = sa.Table(
    "job_logs", metadata,
    sa.Column("job_id", sa.String(100), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("time", UtcDateTime(), nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
)


# Webhooks (:mod:`strongbox.services.webhooks`): the outbox of job events, written in the
# job's own transaction; one delivery per (event, webhook url), made by the one dispatcher
# that took the event; one attempt row per POST (the delivery log).
webhook_events = sa.Table(
    "webhook_events", metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(100), nullable=False, unique=True),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("job_id", sa.String(100), nullable=False),
    sa.Column("time", UtcDateTime(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("dispatched", sa.Boolean(), nullable=False),
    sa.Index("ix_webhook_events_dispatch", "dispatched", "seq"),
    sqlite_autoincrement=True,
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_type", sa.String(60), nullable=False),
    sa.Column("job_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_expires", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("event_id", "url"),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

webhook_attempts = sa.Table(
    "webhook_attempts", metadata,
    sa.Column("delivery_id", sa.String(100), sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("attempt", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("time", UtcDateTime(), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("duration_ms", sa.Integer(), nullable=False),
    sa.Index("ix_webhook_attempts_time", "time"),
)


# Revoked bearer tokens (``strongbox token revoke``): one row per token id (the JWT ``jti``),
# kept until the token would have expired anyway.
revoked_tokens = sa.Table(
    "revoked_tokens", metadata,
    sa.Column("token_id", sa.String(100), primary_key=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)


def upsert_row(connection: Connection, table: sa.Table, key: str, values: dict[str, Any]) -> None:
    """Update the row with primary key ``key`` or insert it; a racing insert of the same key
    (PostgreSQL) turns into an update instead of an error."""
    where = table.c.key == key
    if connection.execute(table.update().where(where).values(**values)).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(table.insert().values(key=key, **values))
    except IntegrityError:
        if not connection.execute(table.update().where(where).values(**values)).rowcount:
            raise
