"""Soft delete in the database: a vault's security settings and an item's deferred delete
round-trip; due items are found; exactly one purge claim wins per attempt."""

from __future__ import annotations

from datetime import timedelta

from strongbox.domain.softdelete import ImmutabilityState, SecuritySettings, SoftDeleteState
from strongbox.persistence.database import Database
from tests.contract.persistence import examples
from tests.contract.persistence.examples import T0


def test_security_settings_round_trip(db: Database) -> None:
    vault = examples.vault()
    vault.security = SecuritySettings(soft_delete=SoftDeleteState.ALWAYS_ON, soft_delete_days=99,
                                      immutability=ImmutabilityState.LOCKED)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
    with db.unit_of_work() as uow:
        loaded = uow.vaults.get(vault.key)
    assert loaded is not None and loaded.security == vault.security


def test_soft_deleted_items_are_found_and_claimed_once(db: Database) -> None:
    vault = examples.vault()
    due, later, kept = (examples.item(vault.key, vm) for vm in ("vm-due", "vm-later", "vm-kept"))
    due.deferred_delete_at = T0 + timedelta(days=14)
    later.deferred_delete_at = T0 + timedelta(days=20)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        for item in (due, later, kept):
            uow.items.upsert(item)
    with db.unit_of_work() as uow:
        loaded = uow.items.get(due.key)
        assert loaded is not None and loaded.soft_deleted
        assert loaded.deferred_delete_at == due.deferred_delete_at
        assert [i.vm_name for i in uow.items.soft_deleted(vault.key)] == ["vm-due", "vm-later"]
        assert [i.vm_name for i in uow.items.due_for_purge(T0 + timedelta(days=15))] == ["vm-due"]
        assert uow.items.due_for_purge(T0 + timedelta(days=13)) == []

    with db.unit_of_work() as uow:
        assert uow.items.claim_purge(due.key, "job-1", previous=None)
        assert not uow.items.claim_purge(due.key, "job-2", previous=None), "the first claim wins"
        assert not uow.items.claim_purge(kept.key, "job-3", previous=None), "an item not soft deleted"
    with db.unit_of_work() as uow:
        assert not uow.items.claim_purge(due.key, "job-4", previous="job-0")
        assert uow.items.claim_purge(due.key, "job-5", previous="job-1"), "a retry after job-1 failed"
        loaded = uow.items.get(due.key)
        assert loaded is not None and loaded.purge_job_id == "job-5"
        loaded.deleted, loaded.deferred_delete_at = True, None
        uow.items.upsert(loaded)
    with db.unit_of_work() as uow:
        assert uow.items.due_for_purge(T0 + timedelta(days=30)) == [uow.items.get(later.key)]
        assert not uow.items.claim_purge(due.key, "job-6", previous="job-5"), "a purged item"
