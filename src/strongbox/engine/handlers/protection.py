"""ConfigureBackup, DisableBackup and DeleteBackupData jobs.

Deleting backup data forgets the item's snapshots in the vault, prunes the data no other
snapshot references, and only then removes the recovery points from the database: a crash
in between leaves points that still restore, never points whose data is gone.
"""

from __future__ import annotations

import zlib
from typing import cast

from strongbox.dataplane.repository import Repository
from strongbox.domain.jobs import Job, JobStatus
from strongbox.domain.errors import ItemNotFound
from strongbox.domain.vaults import LastBackupStatus, ProtectedItem, ProtectionState, RecoveryPoint
from strongbox.engine.handlers.common import human_size, load_subjects, when_vault_free
from strongbox.engine.reporter import JobReporter
from strongbox.services.context import ServiceContext
from strongbox.services.retention import recompute_item

CONFIGURE, STOP, DELETE = "Configure protection", "Stop protection", "Delete backup data"


def run_configure(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    subjects = load_subjects(ctx, job, item_required=False)
    rep.start_task(CONFIGURE)
    policy_name = str(job.request["policy_name"])
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(job.item_key or "")
        if item is None or item.deleted:
            item = ProtectedItem(vault_key=subjects.vault.key, subscription=subjects.vault.subscription,
                                 resource_group=subjects.source.resource_group, vm_name=subjects.source.name,
                                 policy_name=policy_name, protection_state=ProtectionState.IR_PENDING,
                                 created=ctx.clock(), data_id=str(zlib.crc32((job.item_key or '').encode())),
                                 last_backup_status=LastBackupStatus.IR_PENDING)
        else:
            item.policy_name = policy_name
            item.protection_state = (ProtectionState.PROTECTED if item.last_backup_time
                                     else ProtectionState.IR_PENDING)
        uow.items.upsert(item)
        recompute_item(uow, item.key)   # the new policy's retention applies to existing points
    rep.bag(**{"VM Name": subjects.source.name, "Policy Name": policy_name})
    rep.finish_task(CONFIGURE)
    return JobStatus.COMPLETED


def _stop_protection(ctx: ServiceContext, job: Job) -> tuple[ProtectedItem, list[RecoveryPoint]]:
    """Protection stops (no policy, no scheduled backups); the recovery points stay."""
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(job.item_key or "")
        if item is None or item.deleted:
            raise ItemNotFound(name=job.entity_friendly_name, vault=job.vault_key.rsplit("/", 1)[-1])
        item.protection_state, item.policy_name = ProtectionState.PROTECTION_STOPPED, None
        uow.items.upsert(item)
        return item, uow.points.list(item.key)


def run_disable(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    subjects = load_subjects(ctx, job)
    rep.start_task(STOP)
    _, points = _stop_protection(ctx, job)
    rep.bag(**{"VM Name": subjects.source.name, "Recovery Points Retained": str(len(points))})
    rep.finish_task(STOP, details=f"{len(points)} recovery points retained")
    return JobStatus.COMPLETED


def run_delete_data(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    subjects = load_subjects(ctx, job)
    rep.start_task(STOP)
    _, points = _stop_protection(ctx, job)
    rep.finish_task(STOP)
    rep.start_task(DELETE, details=f"{len(points)} recovery points")
    repo = cast(Repository, ctx.vault_storage.open(subjects.vault.storage_id))
    snapshot_ids = [p.snapshot_id for p in points]
    if snapshot_ids:
        repo.forget(snapshot_ids)
        rep.task_progress(DELETE, 30.0, "recovery points forgotten; pruning data")
        pruned = when_vault_free(repo.prune, rep, DELETE)
        rep.bag(**{"Data Deleted": human_size(pruned.bytes_freed)})
    with ctx.db.unit_of_work() as uow:
        uow.points.delete_for_item(job.item_key or "")
        item = uow.items.get(job.item_key or "")
        if item is not None:
            item.deleted = True
            uow.items.upsert(item)
    rep.bag(**{"VM Name": subjects.source.name, "Recovery Points Deleted": str(len(points))})
    rep.finish_task(DELETE)
    return JobStatus.COMPLETED
