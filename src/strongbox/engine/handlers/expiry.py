"""The ExpireRecoveryPoints job: remove a vault's expired recovery points and their data.

Stages: "Remove expired recovery points" forgets each point's snapshot in the vault and
then deletes its row; "Prune vault data" deletes the data no remaining snapshot references
(waiting for the vault lock if a backup holds it). Which points are expired is decided when
the job runs (:func:`strongbox.services.retention.expirable`), not when it was queued.

Crash safety: a snapshot is forgotten before its row goes, and a row whose snapshot is
already gone is simply deleted, so a job interrupted at any step is completed by the next
one; a point the API lists is never one whose data was pruned.
"""

from __future__ import annotations

from typing import cast

from strongbox.dataplane.errors import SnapshotNotFound
from strongbox.dataplane.repository import Repository
from strongbox.domain.errors import VaultNotFound
from strongbox.domain.jobs import Job, JobStatus
from strongbox.engine.handlers.common import human_size, when_vault_free
from strongbox.engine.reporter import JobReporter
from strongbox.services.context import ServiceContext
from strongbox.services.retention import expirable

REMOVE, PRUNE = "Remove expired recovery points", "Prune vault data"


def run_expire(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(job.vault_key)
        points = expirable(uow, ctx.clock(), job.vault_key) if vault is not None else []
    if vault is None:
        raise VaultNotFound(name=job.entity_friendly_name, resource_group=job.vault_key.split("/")[1])
    rep.start_task(REMOVE, details=f"{len(points)} recovery points expired")
    repo = cast(Repository, ctx.vault_storage.open(vault.storage_id))
    for n, point in enumerate(points, 1):
        try:
            repo.forget([point.snapshot_id])
        except SnapshotNotFound:
            pass  # forgotten by an earlier, interrupted run (or a DeleteBackupData)
        with ctx.db.unit_of_work() as uow:
            uow.points.delete(point.item_key, point.id)
        rep.task_progress(REMOVE, 100.0 * n / len(points), f"{n}/{len(points)} recovery points removed")
    rep.finish_task(REMOVE, details=f"{len(points)} recovery points removed")
    rep.start_task(PRUNE)
    pruned = when_vault_free(repo.prune, rep, PRUNE) if points else None
    freed = pruned.bytes_freed if pruned else 0
    rep.finish_task(PRUNE, details=f"{freed} bytes freed" + (f", {pruned.packs_deleted} packs deleted"
                                                             if pruned else ""))
    items = sorted({p.item_key.rsplit("/", 1)[-1] for p in points})
    rep.bag(**{"Vault Name": vault.name, "Recovery Points Deleted": str(len(points)),
               "Data Deleted": human_size(freed), "Items": ", ".join(items),
               "Expired Recovery Points": ", ".join(f"{p.id} ({p.time.strftime('%Y-%m-%dT%H:%M:%SZ')})"
                                                    for p in points[:50])})
    return JobStatus.COMPLETED
