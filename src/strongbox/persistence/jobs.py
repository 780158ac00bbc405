"""Jobs: the durable job queue and the job history, in one table.

Each job is one row: the immutable request (operation, vault, item, request document),
the progress a worker reports (status, tasks, property bag, errors...) and the attempt
state (``lease_owner``, ``lease_expires``, ``attempts``).

Invariants, and how the database keeps them:
- ``seq`` grows with every insert; lists run newest first and page on ``seq``.
- A final job never changes again: every write has ``WHERE NOT is_final`` (``is_final`` is
  derived from ``status`` on every write), so the first final save wins.
- At most one unfinished job holds an ``exclusive_key`` (such as an item key): the column
  is UNIQUE and set to NULL when the job becomes final, so two racing inserts cannot both
  commit, whichever process they come from; the loser gets :class:`ItemBusy`.
- Exactly one worker runs a job's (only) attempt: ``claim`` picks the oldest unfinished
  job that never started (``attempts = 0``) with no live lease, locking the row on
  PostgreSQL (``FOR UPDATE SKIP LOCKED``; SQLite transactions are ``BEGIN IMMEDIATE``) and
  taking it with a compare-and-set UPDATE that sets the lease and ``attempts = 1``; a worker
  that matched no row did not win.
- A lease is held while ``lease_owner`` is the worker and ``lease_expires`` is in the
  future. An expired lease is lost for good (``heartbeat`` cannot revive it): the job is
  then the reaper's (``expired``), never claimed again.
- A cancel request is never lost: ``save`` keeps ``cancel_requested`` once set and keeps
  ``Cancelling`` when a worker that has not seen the request saves ``InProgress``.
- A final save clears the exclusive key and the lease.
- Inserting a job and making it final each add a webhook event to the outbox in the same
  transaction (:func:`strongbox.persistence.webhooks.record_job_event`).

Claim, heartbeat and save by workers belong in short units of work of their own.

JSON layouts: ``tasks`` is a list of ``{"name", "status", "start_time", "end_time",
"progress_percentage", "details"}`` and ``error_details`` a list of ``{"code", "message",
"recommendations", "error_code"}``; enums as values, datetimes as ISO-8601 UTC strings.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from strongbox.domain.errors import Conflict
from strongbox.domain.jobs import JobQuery, ErrorDetail, Job, JobOperation, JobStatus, Task, TaskStatus
from strongbox.persistence.schema import jobs
from strongbox.persistence.webhooks import record_job_event

# The one backup management type strongbox serves; a filter on any other matches no job.
BACKUP_MANAGEMENT_TYPE = "AzureIaasVM"
_UNFINISHED = jobs.c.is_final.is_(False)


class ItemBusy(Conflict):
    """Another operation is already in progress on '{exclusive_key}' (job {job_id})."""

    def __init__(self, job_id: str, exclusive_key: str) -> None:
        super().__init__(job_id=job_id, exclusive_key=exclusive_key)
        self.job_id = job_id
        self.exclusive_key = exclusive_key


JobFilter = JobQuery  # the query object lives in the domain; this name stays for callers


class JobRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # --- creating and reading ---------------------------------------------------------

    def add(self, job: Job, *, exclusive_key: str | None = None) -> Job:
        """Insert the job and set ``job.seq``. :class:`ItemBusy` when an unfinished job holds
        ``exclusive_key``; :class:`Conflict` when the id exists. The transaction survives both."""
        key = None if job.status.is_final else exclusive_key
        values = {**_immutable(job), **_progress(job), "is_final": job.status.is_final,
                  "status": job.status.value, "cancel_requested": job.cancel_requested,
                  "lease_owner": job.lease_owner, "lease_expires": job.lease_expires,
                  "attempts": job.attempts, "exclusive_key": key}
        for _ in range(3):  # a holder can finish between our failed insert and our look-up
            try:
                with self._c.begin_nested():
                    job.seq = self._c.execute(jobs.insert().values(**values).returning(jobs.c.seq)).scalar_one()
                record_job_event(self._c, job)   # the webhooks' outbox, in this transaction
                return job
            except IntegrityError:
                if self._exists(job.id):
                    raise Conflict(f"job '{job.id}' already exists") from None
                holder = None if key is None else self._c.execute(
                    sa.select(jobs.c.id).where(jobs.c.exclusive_key == key)).scalar_one_or_none()
                if key is not None and holder is not None:
                    raise ItemBusy(job_id=holder, exclusive_key=key) from None
        raise Conflict(f"job '{job.id}' could not be added")

    def get(self, job_id: str) -> Job | None:
        row = self._c.execute(sa.select(jobs).where(jobs.c.id == job_id)).one_or_none()
        return None if row is None else _job(row)

    def get_in_vault(self, vault_key: str, job_id: str) -> Job | None:
        row = self._c.execute(sa.select(jobs).where(jobs.c.id == job_id, jobs.c.vault_key == vault_key)
                              ).one_or_none()
        return None if row is None else _job(row)

    def list(self, vault_key: str | None, flt: JobFilter, *, limit: int, after_seq: int | None = None
             ) -> list[Job]:
        """Jobs matching ``flt`` (in one vault, or all when ``vault_key`` is None), newest first;
        ``after_seq`` continues a listing after the job with that ``seq``."""
        query = sa.select(jobs)
        if vault_key is not None:
            query = query.where(jobs.c.vault_key == vault_key)
        if after_seq is not None:
            query = query.where(jobs.c.seq < after_seq)
        if flt.status is not None:
            query = query.where(jobs.c.status == _text(flt.status))
        if flt.operation is not None:
            query = query.where(jobs.c.operation == _text(flt.operation))
        if flt.job_id is not None:
            query = query.where(jobs.c.id == flt.job_id)
        if flt.start_from is not None:
            query = query.where(jobs.c.start_time >= flt.start_from)
        if flt.start_to is not None:
            query = query.where(jobs.c.start_time <= flt.start_to)
        if flt.backup_management_type is not None and flt.backup_management_type.lower() != BACKUP_MANAGEMENT_TYPE.lower():
            return []
        rows = self._c.execute(query.order_by(jobs.c.seq.desc()).limit(limit))
        return [_job(row) for row in rows]

    def active_for_item(self, item_key: str) -> builtins.list[Job]:
        """The item's unfinished jobs, oldest first."""
        rows = self._c.execute(sa.select(jobs).where(jobs.c.item_key == item_key, _UNFINISHED)
                               .order_by(jobs.c.seq))
        return [_job(row) for row in rows]

    # --- the queue ----------------------------------------------------------------------

    def claim(self, worker_id: str, lease_seconds: float, now: datetime) -> Job | None:
        """Take the oldest job that never started, or None. Exactly one worker wins a job."""
        claimable = sa.and_(_UNFINISHED, jobs.c.attempts == 0,
                            sa.or_(jobs.c.lease_owner.is_(None), jobs.c.lease_expires < now))
        for _ in range(3):  # a lost compare-and-set means someone else took that job: look again
            seq = self._c.execute(sa.select(jobs.c.seq).where(claimable).order_by(jobs.c.seq).limit(1)
                                  .with_for_update(skip_locked=True)).scalar_one_or_none()
            if seq is None:
                return None
            taken = self._c.execute(
                jobs.update().where(jobs.c.seq == seq, claimable)
                .values(lease_owner=worker_id, lease_expires=now + timedelta(seconds=lease_seconds),
                        attempts=jobs.c.attempts + 1))
            if taken.rowcount == 1:
                row = self._c.execute(sa.select(jobs).where(jobs.c.seq == seq)).one()
                return _job(row)
        return None

    def heartbeat(self, job_id: str, worker_id: str, lease_seconds: float, now: datetime) -> bool:
        """Extend a lease the worker still holds; False when it was lost (expired, or the job is final)."""
        extended = self._c.execute(
            jobs.update().where(jobs.c.id == job_id, jobs.c.lease_owner == worker_id, _UNFINISHED,
                                jobs.c.lease_expires > now)
            .values(lease_expires=now + timedelta(seconds=lease_seconds)))
        return extended.rowcount == 1

    def save(self, job: Job, *, worker_id: str | None = None) -> bool:
        """Write the job's progress; False (and nothing written) when the job is final in the
        database, or ``worker_id`` is given and is not the lease owner. Updates ``job.status``
        and ``job.cancel_requested`` from the database, so a worker learns of a cancel here."""
        final = job.status.is_final
        status: Any = job.status.value
        if job.status is JobStatus.IN_PROGRESS:
            status = sa.case((jobs.c.status == JobStatus.CANCELLING.value, JobStatus.CANCELLING.value),
                             else_=JobStatus.IN_PROGRESS.value)
        values: dict[str, Any] = {**_progress(job), "status": status, "is_final": final,
                                  "cancel_requested": True if job.cancel_requested else jobs.c.cancel_requested}
        if final:
            values.update(exclusive_key=None, lease_owner=None, lease_expires=None)
        query = jobs.update().where(jobs.c.id == job.id, _UNFINISHED)
        if worker_id is not None:
            query = query.where(jobs.c.lease_owner == worker_id)
        row = self._c.execute(query.values(**values).returning(jobs.c.status, jobs.c.cancel_requested)
                              ).one_or_none()
        if row is None:
            return False
        job.status, job.cancel_requested = JobStatus(row.status), bool(row.cancel_requested)
        if final:
            job.lease_owner, job.lease_expires = None, None
            record_job_event(self._c, job)   # the webhooks' outbox, in this transaction
        return True

    def request_cancel(self, job_id: str) -> Job | None:
        """Mark an unfinished job's cancel request (InProgress -> Cancelling); final jobs are
        left as they are. Returns the job as stored, or None when there is no such job."""
        self._c.execute(
            jobs.update().where(jobs.c.id == job_id, _UNFINISHED)
            .values(cancel_requested=True,
                    status=sa.case((jobs.c.status == JobStatus.IN_PROGRESS.value, JobStatus.CANCELLING.value),
                                   else_=jobs.c.status)))
        return self.get(job_id)

    def expired(self, now: datetime) -> builtins.list[Job]:
        """Started, unfinished jobs whose lease ran out before ``now``: their worker is gone."""
        rows = self._c.execute(sa.select(jobs).where(_UNFINISHED, jobs.c.attempts > 0, jobs.c.lease_expires < now)
                               .order_by(jobs.c.seq))
        return [_job(row) for row in rows]

    def purge_finished_before(self, cutoff: datetime) -> int:
        """Delete final jobs that ended (or, lacking an end, started) before ``cutoff``."""
        ended = sa.func.coalesce(jobs.c.end_time, jobs.c.start_time)
        return int(self._c.execute(jobs.delete().where(jobs.c.is_final.is_(True), ended < cutoff)).rowcount)

    def _exists(self, job_id: str) -> bool:
        return self._c.execute(sa.select(jobs.c.seq).where(jobs.c.id == job_id)).first() is not None


# --- rows <-> jobs ---------------------------------------------------------------------

def _immutable(job: Job) -> dict[str, Any]:
    return {"id": job.id, "vault_key": job.vault_key, "operation": job.operation.value,
            "entity_friendly_name": job.entity_friendly_name, "start_time": job.start_time,
            "activity_id": job.activity_id, "item_key": job.item_key, "container_name": job.container_name,
            "is_user_triggered": job.is_user_triggered}


def _progress(job: Job) -> dict[str, Any]:
    return {"request": job.request, "end_time": job.end_time, "tasks": [_task_doc(t) for t in job.tasks],
            "property_bag": dict(job.property_bag), "error_details": [_error_doc(e) for e in job.error_details],
            "progress_percentage": job.progress_percentage, "eta_seconds": job.eta_seconds}


def _job(row: sa.Row[Any]) -> Job:
    return Job(
        id=row.id, vault_key=row.vault_key, operation=JobOperation(row.operation), status=JobStatus(row.status),
        entity_friendly_name=row.entity_friendly_name, start_time=row.start_time, activity_id=row.activity_id,
        item_key=row.item_key, container_name=row.container_name, is_user_triggered=bool(row.is_user_triggered),
        request=row.request, end_time=row.end_time, tasks=[_task(d) for d in row.tasks],
        property_bag=dict(row.property_bag), error_details=[_error(d) for d in row.error_details],
        progress_percentage=row.progress_percentage, eta_seconds=row.eta_seconds,
        cancel_requested=bool(row.cancel_requested), lease_owner=row.lease_owner,
        lease_expires=row.lease_expires, attempts=row.attempts, seq=row.seq,
    )


def _text(value: str) -> str:
    """Enum members (str subclasses) as their plain values, for the drivers."""
    return str(getattr(value, "value", value))


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: strongbox stores only aware datetimes")
    return value.astimezone(timezone.utc).isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(timezone.utc)


def _task_doc(task: Task) -> dict[str, Any]:
    return {"name": task.name, "status": task.status.value, "start_time": _iso(task.start_time),
            "end_time": _iso(task.end_time), "progress_percentage": task.progress_percentage,
            "details": task.details}


def _task(doc: dict[str, Any]) -> Task:
    return Task(name=doc["name"], status=TaskStatus(doc["status"]), start_time=_from_iso(doc["start_time"]),
                end_time=_from_iso(doc["end_time"]), progress_percentage=doc["progress_percentage"],
                details=doc["details"])


def _error_doc(error: ErrorDetail) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "recommendations": list(error.recommendations),
            "error_code": error.error_code}


def _error(doc: dict[str, Any]) -> ErrorDetail:
    return ErrorDetail(code=doc["code"], message=doc["message"], recommendations=list(doc["recommendations"]),
                       error_code=doc["error_code"])
