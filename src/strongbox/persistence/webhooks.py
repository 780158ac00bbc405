"""Webhooks: the outbox of job events, their deliveries and the delivery log.

Invariants, and how the database keeps them:
- Every job transition a webhook can tell of (a job created; a job final) has exactly one
  event row, inserted by :func:`record_job_event` on the connection of the transaction that
  made the transition (:mod:`strongbox.persistence.jobs` calls it), so a crash never loses an
  event and a rolled-back transition never sends one. The body is serialised once, there,
  so every attempt of every delivery sends the same bytes.
- An event is fanned out once: :meth:`WebhookRepository.take_event` is a compare-and-set on
  ``dispatched``; only the dispatcher that won it inserts the event's deliveries (and
  ``(event_id, url)`` is unique besides).
- One attempt of a delivery runs in one process at a time: :meth:`claim` is a compare-and-set
  on the lease (as the job queue's claim), and bumps ``attempts``; the outcome is written only
  while the claimer still holds the lease. A process that dies mid-attempt leaves a lease
  that expires, and the delivery is tried again (at least once, never lost).
- Each attempt is one ``webhook_attempts`` row: the delivery log.

Delivery statuses: ``Pending`` (due at ``next_attempt_at``), ``Delivered``, ``Failed`` (its
attempts ran out).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.domain.jobs import Job, JobStatus
from strongbox.persistence.schema import vaults, webhook_attempts, webhook_deliveries, webhook_events

PENDING, DELIVERED, FAILED = "Pending", "Delivered", "Failed"

#: The event type of each job status a webhook is told of.
EVENT_TYPES: dict[JobStatus, str] = {
    JobStatus.IN_PROGRESS: "job.started",
    JobStatus.COMPLETED: "job.completed",
    JobStatus.COMPLETED_WITH_WARNINGS: "job.completed_with_warnings",
    JobStatus.FAILED: "job.failed",
    JobStatus.CANCELLED: "job.cancelled",
}
#: What ``events = "problems"`` delivers.
PROBLEM_TYPES = frozenset({"job.failed", "job.completed_with_warnings", "job.cancelled"})


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def event_body(connection: Connection, job: Job, event_id: str, event_type: str, time: datetime) -> str:
    """The JSON document POSTed for one event (compact, keys in a fixed order)."""
    vault = connection.execute(sa.select(vaults.c.subscription, vaults.c.resource_group, vaults.c.name)
                               .where(vaults.c.key == job.vault_key)).one_or_none()
    vault_id = None if vault is None else (
        f"/subscriptions/{vault.subscription}/resourceGroups/{vault.resource_group}"
        f"/providers/Microsoft.RecoveryServices/vaults/{vault.name}")
    duration = None if job.end_time is None else round((job.end_time - job.start_time).total_seconds(), 3)
    doc: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "time": _iso(time),
        "job": {
            "id": job.id,
            "armId": None if vault_id is None else f"{vault_id}/backupJobs/{job.id}",
            "vault": None if vault is None else vault.name,
            "vaultId": vault_id,
            "operation": job.operation.value,
            "status": job.status.value,
            "entity": job.entity_friendly_name,
            "startTime": _iso(job.start_time),
            "endTime": _iso(job.end_time),
            "durationSeconds": duration,
            "errorCodes": [e.code for e in job.error_details],
        },
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def record_job_event(connection: Connection, job: Job) -> str | None:
    """Add the outbox event for the job's status as just written; its id, or None when the
    status is not one a webhook is told of (Cancelling)."""
    event_type = EVENT_TYPES.get(job.status)
    if event_type is None:
        return None
    time = job.end_time if job.status.is_final and job.end_time is not None else job.start_time
    event_id = str(uuid.uuid4())
    connection.execute(webhook_events.insert().values(
        id=event_id, type=event_type, job_id=job.id, time=time,
        body=event_body(connection, job, event_id, event_type, time), dispatched=False))
    return event_id


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    job_id: str
    time: datetime


@dataclass(frozen=True)
class Delivery:
    """One claimed attempt: where to POST what."""

    id: str
    event_id: str
    event_type: str
    url: str
    body: str
    attempt: int


@dataclass(frozen=True)
class AttemptLine:
    """One line of the delivery log."""

    time: datetime
    delivery_id: str
    attempt: int
    event_type: str
    job_id: str
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int
    delivery_status: str


class WebhookRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # --- fan-out ---------------------------------------------------------------------------

    def undispatched(self, limit: int) -> list[Event]:
        """Events no dispatcher has taken yet, oldest first."""
        rows = self._c.execute(sa.select(webhook_events).where(webhook_events.c.dispatched.is_(False))
                               .order_by(webhook_events.c.seq).limit(limit))
        return [Event(id=row.id, type=row.type, job_id=row.job_id, time=row.time) for row in rows]

    def take_event(self, event_id: str) -> bool:
        """Mark an event dispatched; True only for the one caller that did."""
        taken = self._c.execute(webhook_events.update()
                                .where(webhook_events.c.id == event_id, webhook_events.c.dispatched.is_(False))
                                .values(dispatched=True))
        return taken.rowcount == 1

    def add_delivery(self, event: Event, url: str, now: datetime) -> str:
        delivery_id = str(uuid.uuid4())
        self._c.execute(webhook_deliveries.insert().values(
            id=delivery_id, event_id=event.id, url=url, event_type=event.type, job_id=event.job_id,
            status=PENDING, attempts=0, created=now, next_attempt_at=now))
        return delivery_id

    # --- attempts ----------------------------------------------------------------------------

    def claim(self, owner: str, urls: list[str], lease_seconds: float, now: datetime) -> Delivery | None:
        """Take the longest-due pending delivery to one of ``urls``, or None. Exactly one
        claimer wins an attempt; the claim counts it."""
        if not urls:
            return None
        d = webhook_deliveries.c
        due = sa.and_(d.status == PENDING, d.next_attempt_at <= now, d.url.in_(urls),
                      sa.or_(d.lease_owner.is_(None), d.lease_expires < now))
        for _ in range(3):  # a lost compare-and-set means another dispatcher took it: look again
            found = self._c.execute(sa.select(d.id).where(due).order_by(d.next_attempt_at).limit(1)
                                    .with_for_update(skip_locked=True)).scalar_one_or_none()
            if found is None:
                return None
            taken = self._c.execute(webhook_deliveries.update().where(d.id == found, due).values(
                lease_owner=owner, lease_expires=now + timedelta(seconds=lease_seconds), attempts=d.attempts + 1))
            if taken.rowcount == 1:
                row = self._c.execute(
                    sa.select(webhook_deliveries, webhook_events.c.body)
                    .join(webhook_events, webhook_events.c.id == d.event_id).where(d.id == found)).one()
                return Delivery(id=row.id, event_id=row.event_id, event_type=row.event_type, url=row.url,
                                body=row.body, attempt=row.attempts)
        return None

    def finish_attempt(self, delivery: Delivery, owner: str, *, time: datetime, status_code: int | None,
                       error: str | None, duration_ms: int, outcome: str, retry_at: datetime | None) -> bool:
        """Log the attempt, and settle the delivery (``outcome`` Delivered, Failed, or Pending
        again at ``retry_at``) if ``owner`` still holds its lease; False when it did not."""
        self._c.execute(webhook_attempts.insert().values(
            delivery_id=delivery.id, attempt=delivery.attempt, time=time, status_code=status_code,
            error=None if error is None else error[:2000], duration_ms=duration_ms))
        d = webhook_deliveries.c
        values: dict[str, Any] = {"status": outcome, "lease_owner": None, "lease_expires": None}
        if outcome == PENDING:
            assert retry_at is not None
            values["next_attempt_at"] = retry_at
        else:
            values["finished_at"] = time
        settled = self._c.execute(webhook_deliveries.update()
                                  .where(d.id == delivery.id, d.lease_owner == owner, d.status == PENDING)
                                  .values(**values))
        return settled.rowcount == 1

    # --- reading and purging -----------------------------------------------------------------

    def log(self, limit: int) -> list[AttemptLine]:
        """The newest ``limit`` attempts, newest first."""
        a, d = webhook_attempts.c, webhook_deliveries.c
        rows = self._c.execute(
            sa.select(a.time, a.delivery_id, a.attempt, a.status_code, a.error, a.duration_ms,
                      d.event_type, d.job_id, d.url, d.status)
            .join(webhook_deliveries, d.id == a.delivery_id)
            .order_by(a.time.desc(), a.attempt.desc()).limit(limit))
        return [AttemptLine(time=row.time, delivery_id=row.delivery_id, attempt=row.attempt,
                            event_type=row.event_type, job_id=row.job_id, url=row.url,
                            status_code=row.status_code, error=row.error, duration_ms=row.duration_ms,
                            delivery_status=row.status) for row in rows]

    def delivery_status(self, delivery_id: str) -> tuple[str, int] | None:
        row = self._c.execute(sa.select(webhook_deliveries.c.status, webhook_deliveries.c.attempts)
                              .where(webhook_deliveries.c.id == delivery_id)).one_or_none()
        return None if row is None else (row.status, row.attempts)

    def purge_before(self, cutoff: datetime) -> int:
        """Delete dispatched events older than ``cutoff``, with their deliveries and attempts."""
        return int(self._c.execute(webhook_events.delete().where(
            webhook_events.c.dispatched.is_(True), webhook_events.c.time < cutoff)).rowcount)
