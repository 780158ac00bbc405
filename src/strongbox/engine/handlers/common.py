"""What every job handler looks up first: the job's vault, item and declared source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from strongbox.dataplane.errors import Cancelled, VaultLocked

from strongbox.domain.errors import ItemNotFound, SourceNotDeclared, VaultNotFound
from strongbox.domain.jobs import Job
from strongbox.domain.sources import Source
from strongbox.domain.vaults import ProtectedItem, Vault
from strongbox.engine.reporter import JobReporter
from strongbox.services.context import ServiceContext


@dataclass
class JobSubjects:
    vault: Vault
    item: ProtectedItem | None
    source: Source


def load_subjects(ctx: ServiceContext, job: Job, *, item_required: bool = True) -> JobSubjects:
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(job.vault_key)
        item = uow.items.get(job.item_key) if job.item_key else None
    if vault is None:
        raise VaultNotFound(name=job.vault_key.rsplit("/", 1)[-1], resource_group=job.vault_key.split("/")[1])
    if item is not None and item.deleted:
        item = None
    if item is None and item_required:
        raise ItemNotFound(name=job.entity_friendly_name, vault=vault.name)
    # the item key is vault/rg/vm: the source is looked up from it, so a source removed from the
    # config since is reported, not guessed.
    _, _, _, rg, vm = (job.item_key or "").split("/")
    source = ctx.catalog.source(vault.subscription, rg, vm)
    if source is None:
        raise SourceNotDeclared(name=vm, resource_group=rg)
    return JobSubjects(vault=vault, item=item, source=source)


def human_size(n: int) -> str:
    """Azure writes sizes in the property bag as '<n> MB'."""
    mb = n / (1024 * 1024)
    if mb >= 100:
        return f"{mb:.0f} MB"
    return f"{mb:.2f} MB" if mb >= 1 else f"{mb:.4f} MB"


T = TypeVar("T")
LOCK_WAIT_LIMIT = 30 * 60.0


def when_vault_free(work: Callable[[], T], rep: JobReporter, task: str, *, limit: float = LOCK_WAIT_LIMIT) -> T:
    """Run ``work``; while the vault is locked by another job (a prune excludes backups and
    the other way round), wait and try again instead of failing, showing why in the task."""
    delay, waited = 0.5, 0.0
    while True:
        try:
            result = work()
            if waited:
                rep.task_progress(task, rep.task(task).progress_percentage or 0.0,
                                  f"waited {waited:.1f} s for another operation on the vault")
            return result
        except VaultLocked as locked:
            if waited >= limit:
                raise
            rep.task_progress(task, rep.task(task).progress_percentage or 0.0,
                              f"waiting for another operation on the vault ({locked.message})")
            rep.info(f"waiting for another operation on the vault ({locked.message}); trying again in {delay:.1f} s")
            rep.flush(force=True)   # show the wait at once, not at the next throttled save
            if rep.cancel.wait(delay):
                raise Cancelled() from None
            waited += delay
            delay = min(delay * 2, 10.0)
