"""The PurgeDeletedData job: a soft-deleted item's retention period is over; its data goes.

The scheduler starts one per item (:mod:`strongbox.services.purge`) and records it on the
item. The job checks when it runs that it is still that item's purge: an item undeleted (or
purged) meanwhile is left alone and the job says so. (It does not look at the clock again:
the scheduler that claimed the item decided it was due, and another process's virtual clock
may lag a fraction of a second.) Otherwise it deletes the item's data exactly as a hard
DeleteBackupData does (:func:`strongbox.engine.handlers.protection.remove_item_data`: forget
the snapshots, prune the vault, then delete the points and mark the item deleted), so an
interrupted purge is finished by the next attempt.
"""

from __future__ import annotations

from strongbox.domain.errors import VaultNotFound
from strongbox.domain.jobs import Job, JobStatus
from strongbox.engine.handlers.protection import DELETE, remove_item_data
from strongbox.engine.reporter import JobReporter
from strongbox.services.context import ServiceContext


def run_purge(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(job.vault_key)
        item = uow.items.get(job.item_key or "")
        points = uow.points.list(item.key) if item is not None else []
    if vault is None:
        raise VaultNotFound(name=job.vault_key.rsplit("/", 1)[-1], resource_group=job.vault_key.split("/")[1])
    rep.start_task(DELETE, details=f"{len(points)} recovery points")
    rep.bag(**{"VM Name": job.entity_friendly_name})
    if item is None or not item.soft_deleted or item.purge_job_id != job.id:
        rep.finish_task(DELETE, details="nothing to purge: the item was undeleted or purged meanwhile")
        return JobStatus.COMPLETED
    if item.deferred_delete_at is not None:
        rep.bag(**{"Soft Deleted Until": f"{item.deferred_delete_at:%Y-%m-%dT%H:%M:%SZ}"})
    remove_item_data(ctx, job, rep, vault, points, DELETE)
    rep.finish_task(DELETE, details=f"{len(points)} recovery points deleted for good")
    return JobStatus.COMPLETED
