"""Purging soft-deleted items when their retention period ends.

Every scheduler pass (every ``serve`` process, :mod:`strongbox.engine.scheduler`) looks for
soft-deleted items whose purge time (``deferred_delete_at``, on ``ctx.clock``: the virtual
clock under ``serve --virtual-clock``) has passed, and starts one PurgeDeletedData job each
(:mod:`strongbox.engine.handlers.purge`), not user-triggered.

Exactly once across processes: in the job's own transaction the item's ``purge_job_id`` is
set by a compare-and-set from its previous value, and the job takes the item's exclusive key;
the process that loses either race creates nothing. A purge job that failed (the vault lock
stayed taken, the process died) is retried after :data:`PURGE_RETRY`, again by one process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from strongbox.domain.jobs import Job, JobOperation, JobStatus
from strongbox.domain.vaults import ProtectedItem
from strongbox.persistence.jobs import ItemBusy
from strongbox.services.context import ServiceContext
from strongbox.services.jobs import JobSubject, new_job

PURGE_RETRY = timedelta(hours=1)


def start_purge_jobs(ctx: ServiceContext, now: datetime) -> list[Job]:
    """The purge jobs this process started (none for items another process took)."""
    with ctx.db.unit_of_work() as uow:
        due = [item for item in uow.items.due_for_purge(now)
               if _may_start(uow.jobs.get(item.purge_job_id) if item.purge_job_id else None, now)]
    started = []
    for item in due:
        job = _start(ctx, item)
        if job is not None:
            started.append(job)
    return started


def _may_start(previous: Job | None, now: datetime) -> bool:
    """No purge attempt yet, or the last one failed long enough ago."""
    if previous is None:
        return True
    if previous.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return False        # still running, or it purged the item
    return previous.end_time is None or previous.end_time + PURGE_RETRY <= now


def _start(ctx: ServiceContext, item: ProtectedItem) -> Job | None:
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(item.vault_key)
    if vault is None:
        return None
    # named from the item, not its source: the data goes even if the source left the config since
    subject = JobSubject(item_key=item.key, entity_friendly_name=item.vm_name,
                         container_name=f"iaasvmcontainerv2;{item.resource_group};{item.vm_name}",
                         item_name=f"VM;iaasvmcontainerv2;{item.resource_group};{item.vm_name}")
    when = f"{item.deferred_delete_at:%Y-%m-%dT%H:%M:%SZ}" if item.deferred_delete_at else ""
    job = new_job(ctx, vault, JobOperation.PURGE_DELETED_DATA, subject, is_user_triggered=False,
                  request={"deferred_delete_at": when}, property_bag={"Permanent Deletion Time": when})
    try:
        with ctx.db.unit_of_work() as uow:
            if not uow.items.claim_purge(item.key, job.id, previous=item.purge_job_id):
                return None
            uow.jobs.add(job, exclusive_key=item.key)   # ItemBusy rolls the claim back too
    except ItemBusy:
        return None
    return job
