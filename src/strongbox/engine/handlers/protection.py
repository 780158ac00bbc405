"""ConfigureBackup, DisableBackup, DeleteBackupData and Undelete jobs.

Deleting backup data forgets the item's snapshots in the vault, prunes the data no other
snapshot references, and only then removes the recovery points from the database: a crash
in between leaves points that still restore, never points whose data is gone. When the
job's request carries ``soft_delete_days`` (the vault's soft delete was on when it was
asked for) nothing is removed yet: the item is marked soft deleted until its purge time and
the purge job (:mod:`strongbox.engine.handlers.purge`) removes the data then, the same way.
An Undelete clears that mark; the item stays with protection stopped and all its points.
"""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import cast

from strongbox.dataplane.errors import SnapshotNotFound
from strongbox.dataplane.repository import Repository
from strongbox.domain.errors import ItemNotFound, ItemNotSoftDeleted
from strongbox.domain.jobs import Job, JobStatus
from strongbox.domain.vaults import LastBackupStatus, ProtectedItem, ProtectionState, RecoveryPoint, Vault
from strongbox.engine.handlers.common import human_size, load_subjects, when_vault_free
from strongbox.engine.reporter import JobReporter
from strongbox.services.context import ServiceContext
from strongbox.services.retention import recompute_item

CONFIGURE, STOP, DELETE, UNDELETE = "Configure protection", "Stop protection", "Delete backup data", \
    "Undelete backup item"


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
    rep.bag(**{"VM Name": subjects.source.name})
    soft_days = job.request.get("soft_delete_days")
    if soft_days is not None:
        rep.start_task(DELETE, details=f"{len(points)} recovery points")
        purge_at = ctx.clock() + timedelta(days=int(soft_days))
        with ctx.db.unit_of_work() as uow:
            item = uow.items.get(job.item_key or "")
            if item is not None:
                item.deferred_delete_at, item.purge_job_id = purge_at, None
                uow.items.upsert(item)
        when = f"{purge_at:%Y-%m-%dT%H:%M:%SZ}"
        rep.bag(**{"Recovery Points Soft Deleted": str(len(points)), "Permanent Deletion Time": when})
        rep.finish_task(DELETE, details=f"soft deleted: {len(points)} recovery points kept until {when} "
                                        f"({int(soft_days)} days); undelete to keep them")
        return JobStatus.COMPLETED
    rep.start_task(DELETE, details=f"{len(points)} recovery points")
    remove_item_data(ctx, job, rep, subjects.vault, points, DELETE)
    rep.finish_task(DELETE)
    return JobStatus.COMPLETED


def remove_item_data(ctx: ServiceContext, job: Job, rep: JobReporter, vault: Vault, points: list[RecoveryPoint],
                     task: str) -> None:
    """Forget the points' snapshots, prune, then delete the points and mark the item deleted
    (in that order: see the module docstring). A snapshot already forgotten by an interrupted
    earlier attempt is skipped."""
    repo = cast(Repository, ctx.vault_storage.open(vault.storage_id))
    if points:
        for point in points:
            try:
                repo.forget([point.snapshot_id])
            except SnapshotNotFound:
                pass
        rep.task_progress(task, 30.0, "recovery points forgotten; pruning data")
        pruned = when_vault_free(repo.prune, rep, task)
        rep.bag(**{"Data Deleted": human_size(pruned.bytes_freed)})
    with ctx.db.unit_of_work() as uow:
        uow.points.delete_for_item(job.item_key or "")
        item = uow.items.get(job.item_key or "")
        if item is not None:
            item.deleted, item.deferred_delete_at = True, None
            uow.items.upsert(item)
    rep.bag(**{"Recovery Points Deleted": str(len(points))})


def run_undelete(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    subjects = load_subjects(ctx, job)
    rep.start_task(UNDELETE)
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(job.item_key or "")
        if item is None or item.deleted:
            raise ItemNotFound(name=job.entity_friendly_name, vault=subjects.vault.name)
        if not item.soft_deleted:
            raise ItemNotSoftDeleted(name=subjects.source.item_name, state=item.protection_state.value)
        item.deferred_delete_at, item.purge_job_id = None, None
        item.protection_state, item.policy_name = ProtectionState.PROTECTION_STOPPED, None
        uow.items.upsert(item)
        count = len(uow.points.list(item.key))
    rep.bag(**{"VM Name": subjects.source.name, "Recovery Points Retained": str(count)})
    rep.finish_task(UNDELETE, details=f"{count} recovery points retained; protection stays stopped")
    return JobStatus.COMPLETED
