"""Jobs: how they are born (with their operation record, in one transaction), read,
listed, cancelled and exported.

A job that acts on a protected item holds the item's *exclusive key* until it is final, so
two operations on one item never run at once; the database enforces it, so two API
processes racing cannot both win.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from strongbox.domain.errors import ItemBusy, JobNotCancellable, JobNotFound
from strongbox.domain.jobs import TASKS_BY_OPERATION, Job, JobOperation, JobStatus, Task, JobQuery
from strongbox.domain.operations import Operation, OperationKind, OperationStatus
from strongbox.domain.vaults import Vault
from strongbox.persistence.jobs import ItemBusy as StoreItemBusy
from strongbox.services.context import ServiceContext


@dataclass(frozen=True)
class JobSubject:
    """What a job acts on, for display and exclusivity."""

    item_key: str | None
    entity_friendly_name: str
    container_name: str
    item_name: str


def new_job(ctx: ServiceContext, vault: Vault, operation: JobOperation, subject: JobSubject, *,
            request: dict[str, Any], is_user_triggered: bool = True,
            property_bag: dict[str, str] | None = None) -> Job:
    """A new InProgress job with its operation's tasks, not stored yet."""
    return Job(
        id=str(uuid.uuid4()), vault_key=vault.key, operation=operation, status=JobStatus.IN_PROGRESS,
        entity_friendly_name=subject.entity_friendly_name, start_time=ctx.clock(), activity_id=str(uuid.uuid4()),
        item_key=subject.item_key, container_name=subject.container_name, is_user_triggered=is_user_triggered,
        request=request, tasks=[Task(name=n) for n in TASKS_BY_OPERATION[operation]],
        property_bag=dict(property_bag or {}),
    )


def start_job(ctx: ServiceContext, vault: Vault, operation: JobOperation, subject: JobSubject, *,
              request: dict[str, Any], op_kind: OperationKind, follows_job: bool,
              is_user_triggered: bool = True, property_bag: dict[str, str] | None = None) -> tuple[Job, Operation]:
    """Create a job and its operation record atomically; the job is queued for a worker."""
    job = new_job(ctx, vault, operation, subject, request=request, is_user_triggered=is_user_triggered,
                  property_bag=property_bag)
    now = job.start_time
    op = Operation(id=str(uuid.uuid4()), vault_key=vault.key, kind=op_kind, start_time=now, job_id=job.id,
                   follows_job=follows_job)
    if not follows_job:
        # The operation's work is creating the job: it has succeeded once the job exists.
        op.status, op.end_time = OperationStatus.SUCCEEDED, now
    try:
        with ctx.db.unit_of_work() as uow:
            uow.jobs.add(job, exclusive_key=subject.item_key)
            uow.operations.add(op)
    except StoreItemBusy as busy:
        raise ItemBusy(name=subject.item_name, job_id=busy.job_id) from None
    return job, op


def get_job(ctx: ServiceContext, vault: Vault, job_id: str) -> Job:
    with ctx.db.unit_of_work() as uow:
        job = uow.jobs.get_in_vault(vault.key, job_id)
    if job is None:
        raise JobNotFound(job_id=job_id, vault=vault.name)
    return job


def list_jobs(ctx: ServiceContext, vault: Vault, flt: JobQuery, *, after_seq: int | None,
              limit: int) -> tuple[list[Job], int | None]:
    """One page, newest first, and the cursor of the next page (None on the last)."""
    with ctx.db.unit_of_work() as uow:
        jobs = uow.jobs.list(vault.key, flt, limit=limit + 1, after_seq=after_seq)
    if len(jobs) > limit:
        return jobs[:limit], jobs[limit - 1].seq
    return jobs, None


def cancel_job(ctx: ServiceContext, vault: Vault, job_id: str) -> Operation:
    """Ask the worker to stop at its next chunk; the job ends Cancelled."""
    job = get_job(ctx, vault, job_id)
    if job.status is JobStatus.CANCELLING:
        pass  # asking twice is harmless: answer with a fresh operation that follows the job
    elif not job.cancellable:
        why = (f"it is already {job.status.value}" if job.status.is_final
               else f"{job.operation.value} jobs run to completion")
        raise JobNotCancellable(job_id=job_id, detail=why)
    now = ctx.clock()
    op = Operation(id=str(uuid.uuid4()), vault_key=vault.key, kind=OperationKind.CANCEL, start_time=now,
                   job_id=job.id, follows_job=True)
    with ctx.db.unit_of_work() as uow:
        uow.jobs.request_cancel(job.id)
        uow.operations.add(op)
    return op


def export_jobs(ctx: ServiceContext, vault: Vault, flt: JobQuery, render: Any) -> Operation:
    """Write the matching jobs as a JSON document (``render(job) -> dict`` is the wire form)."""
    now = ctx.clock()
    op = Operation(id=str(uuid.uuid4()), vault_key=vault.key, kind=OperationKind.EXPORT, start_time=now)
    with ctx.db.unit_of_work() as uow:
        jobs: list[Job] = []
        cursor: int | None = None
        while True:
            page = uow.jobs.list(vault.key, flt, limit=500, after_seq=cursor)
            jobs.extend(page)
            if len(page) < 500:
                break
            cursor = page[-1].seq
    ctx.exports_dir.mkdir(parents=True, exist_ok=True)
    target = ctx.exports_dir / f"{op.id}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"value": [render(j) for j in jobs]}, indent=1))
    tmp.replace(target)
    op.status, op.end_time = OperationStatus.SUCCEEDED, ctx.clock()
    op.result = {"export": op.id, "count": len(jobs)}
    with ctx.db.unit_of_work() as uow:
        uow.operations.add(op)
    return op
