"""Policies in force: the scheduled Backup jobs and the retention (expiry) jobs.

Scheduled backups. For every item that has a policy and is protected (``Protected`` or
``IRPending``), the due slots are the policy's slots after the item's last scheduled slot
(or after the item was first protected) up to now (:mod:`strongbox.domain.schedule`).
- One slot due: one Backup job, ``isUserTriggered`` false, its slot in the propertyBag
  (``Scheduled Time``).
- Several due (the server was stopped, or the virtual clock jumped): one catch-up Backup
  job for the latest slot; the propertyBag says how many were missed (``Catch-up``). Azure
  does not replay missed backups either.
- Exactly once across processes: the slot row (``scheduled_slots``, unique per item and
  slot) and the job are inserted in one transaction; the process that loses the race on
  the slot creates nothing. When the item is busy (another job on it is unfinished) nothing
  is recorded and the slot is tried again at the next tick.

Expiry. Points whose expiry passed (:func:`strongbox.services.retention.expirable`) are
removed by one tracked job per vault, operation ``ExpireRecoveryPoints``
(:mod:`strongbox.engine.handlers.expiry`): Azure shows no job for this, but here it is real
work on the vault (forget the snapshots, prune their data) that can wait for the vault lock
or fail, and a job is the honest place to show that. At most one such job per vault is
unfinished at a time (its exclusive key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from strongbox.domain.jobs import Job, JobOperation
from strongbox.domain.schedule import ScheduleError, parse_schedule, slots_between
from strongbox.domain.vaults import ProtectedItem, ProtectionState
from strongbox.persistence.jobs import ItemBusy
from strongbox.persistence.schedules import SlotTaken
from strongbox.services.context import ServiceContext
from strongbox.services.jobs import JobSubject, new_job
from strongbox.services.retention import expirable

log = logging.getLogger("strongbox.scheduler")

SCHEDULED_STATES = (ProtectionState.PROTECTED, ProtectionState.IR_PENDING)


@dataclass(frozen=True)
class DueBackup:
    item: ProtectedItem
    slot: datetime
    missed: list[datetime]     # earlier due slots this one stands in for


def due_backups(ctx: ServiceContext, now: datetime) -> list[DueBackup]:
    due: list[DueBackup] = []
    with ctx.db.unit_of_work() as uow:
        for item in uow.items.with_policy():
            if item.protection_state not in SCHEDULED_STATES or item.policy_name is None:
                continue
            policy = uow.policies.get(item.vault_key, item.policy_name)
            if policy is None:
                continue
            try:
                schedule = parse_schedule(policy.settings)
            except ScheduleError as err:
                log.warning("policy %s cannot be scheduled: %s", policy.key, err)
                continue
            last = uow.slots.last(item.key)   # a re-protected item may have slots from before
            after = max(last, item.created) if last else item.created
            slots = slots_between(schedule, after, now)
            if slots:
                due.append(DueBackup(item=item, slot=slots[-1], missed=slots[:-1]))
    return due


def start_scheduled_backup(ctx: ServiceContext, due: DueBackup) -> Job | None:
    """The slot's Backup job, or None when another process took the slot or the item is busy."""
    item = due.item
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(item.vault_key)
        point_count = len(uow.points.list(item.key))
    source = None if vault is None else ctx.catalog.source(vault.subscription, item.resource_group, item.vm_name)
    if vault is None or source is None:
        return None
    bag = {"VM Name": source.name, "Backup Type": "Full" if point_count == 0 else "Incremental",
           "Policy Name": item.policy_name or "", "Scheduled Time": _iso(due.slot)}
    if due.missed:
        bag["Catch-up"] = (f"missed {len(due.missed)} scheduled backups while the server was stopped "
                           f"(from {_iso(due.missed[0])} to {_iso(due.missed[-1])}); this one backup "
                           "catches up")
    subject = JobSubject(item_key=item.key, entity_friendly_name=source.name,
                         container_name=source.short_container_name, item_name=source.item_name)
    job = new_job(ctx, vault, JobOperation.BACKUP, subject, is_user_triggered=False, property_bag=bag,
                  request={"expiry": None, "scheduled_slot": due.slot.isoformat(), "missed": len(due.missed)})
    try:
        with ctx.db.unit_of_work() as uow:
            uow.slots.take(item.key, due.slot, job.id, len(due.missed))
            uow.jobs.add(job, exclusive_key=item.key)   # ItemBusy rolls the slot back too
    except (SlotTaken, ItemBusy):
        return None
    return job


def start_expiry_jobs(ctx: ServiceContext, now: datetime) -> list[Job]:
    with ctx.db.unit_of_work() as uow:
        vault_keys = sorted({p.vault_key for p in expirable(uow, now)})
        vaults = [v for v in (uow.vaults.get(k) for k in vault_keys) if v is not None]
    started = []
    for vault in vaults:
        subject = JobSubject(item_key=None, entity_friendly_name=vault.name, container_name="", item_name=vault.name)
        job = new_job(ctx, vault, JobOperation.EXPIRE_RECOVERY_POINTS, subject, request={},
                      is_user_triggered=False, property_bag={"Vault Name": vault.name})
        try:
            with ctx.db.unit_of_work() as uow:
                uow.jobs.add(job, exclusive_key=f"{vault.key}#retention")
        except ItemBusy:
            continue
        started.append(job)
    return started


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
