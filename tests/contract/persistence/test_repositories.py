"""Vaults, policies, items, recovery points and operations: lookups, lists, deletes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from strongbox.domain.errors import Conflict
from strongbox.domain.operations import Operation, OperationKind, OperationStatus
from strongbox.domain.vaults import ProtectionState
from strongbox.persistence.database import Database
from strongbox.persistence.jobs import JobFilter
from tests.contract.persistence import examples
from tests.contract.persistence.examples import T0


def test_vaults_match_names_case_insensitively_and_list_by_name(db: Database) -> None:
    with db.unit_of_work() as uow:
        for name, rg in (("zeta", "RG-A"), ("Alpha", "rg-a"), ("beta", "RG-B")):
            uow.vaults.add(examples.vault(name, resource_group=rg))
        uow.vaults.add(examples.vault("other", subscription="Sub-2"))
        with pytest.raises(Conflict):
            uow.vaults.add(examples.vault("ZETA", resource_group="rg-A"))
    with db.unit_of_work() as uow:
        assert [v.name for v in uow.vaults.list("SUB-1")] == ["Alpha", "beta", "zeta"]
        assert [v.name for v in uow.vaults.list("sub-1", "rg-a")] == ["Alpha", "zeta"]
        assert uow.vaults.get("SUB-1/rg-a/ALPHA") is not None
        assert uow.vaults.get("sub-1/rg-a/missing") is None


def test_vault_update_and_delete(db: Database) -> None:
    vault = examples.vault()
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.vaults.update(replace(vault, location="eastus", tags={}, etag="etag-2"))
    with db.unit_of_work() as uow:
        loaded = uow.vaults.get(vault.key)
        assert loaded is not None and (loaded.location, loaded.tags, loaded.etag) == ("eastus", {}, "etag-2")
        uow.vaults.delete(vault.key)
    with db.unit_of_work() as uow:
        assert uow.vaults.get(vault.key) is None


def test_deleting_a_vault_deletes_everything_it_owns(db: Database) -> None:
    vault = examples.vault()
    item = examples.item(vault.key)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.policies.upsert(examples.policy(vault.key))
        uow.items.upsert(item)
        uow.points.add(examples.point(vault.key, item.key, "1", T0))
        uow.operations.add(Operation(id="op", vault_key=vault.key, kind=OperationKind.ITEM, start_time=T0))
        uow.jobs.add(examples.job(vault.key, item_key=item.key), exclusive_key=item.key)
    with db.unit_of_work() as uow:
        uow.vaults.delete(vault.key)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)  # the same name again meets none of the old records
        assert uow.policies.list(vault.key) == []
        assert uow.items.list(vault.key, include_deleted=True) == []
        assert uow.points.list(item.key) == []
        assert uow.operations.get(vault.key, "op") is None
        assert uow.jobs.list(vault.key, JobFilter(), limit=10) == []
        assert uow.jobs.active_for_item(item.key) == []


def test_policies_upsert_get_list_delete_case_insensitively(db: Database) -> None:
    vault = examples.vault()
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.policies.upsert(examples.policy(vault.key, "Weekly"))
        uow.policies.upsert(examples.policy(vault.key, "daily"))
        uow.policies.upsert(replace(examples.policy(vault.key, "DAILY"), etag="e2"))
    with db.unit_of_work() as uow:
        assert [(p.name, p.etag) for p in uow.policies.list(vault.key)] == [("DAILY", "e2"), ("Weekly", "p-etag")]
        assert uow.policies.get(vault.key, "weekly") is not None
        uow.policies.delete(vault.key, "WEEKLY")
    with db.unit_of_work() as uow:
        assert uow.policies.get(vault.key, "Weekly") is None
        assert [p.name for p in uow.policies.list(vault.key)] == ["DAILY"]


def test_items_list_hide_deleted_and_count_policy_users(db: Database) -> None:
    vault = examples.vault()
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.items.upsert(examples.item(vault.key, "vm-b", policy_name="Daily"))
        uow.items.upsert(examples.item(vault.key, "vm-a", policy_name="DAILY"))
        uow.items.upsert(examples.item(vault.key, "vm-c", policy_name=None))
        uow.items.upsert(replace(examples.item(vault.key, "vm-d", policy_name="daily"), deleted=True))
    with db.unit_of_work() as uow:
        assert [i.vm_name for i in uow.items.list(vault.key)] == ["vm-a", "vm-b", "vm-c"]
        assert [i.vm_name for i in uow.items.list(vault.key, include_deleted=True)] == ["vm-a", "vm-b", "vm-c",
                                                                                      "vm-d"]
        assert uow.items.count_with_policy(vault.key, "daily") == 2
        assert uow.items.count_with_policy(vault.key, "weekly") == 0
        item = examples.item(vault.key, "vm-a")
        uow.items.upsert(replace(item, protection_state=ProtectionState.PROTECTION_STOPPED, policy_name=None))
        assert uow.items.count_with_policy(vault.key, "Daily") == 1
        uow.items.delete(item.key)
        assert uow.items.get(item.key) is None


def test_recovery_points_newest_first_within_a_window(db: Database) -> None:
    vault = examples.vault()
    item = examples.item(vault.key)
    times = [T0 + timedelta(hours=h) for h in range(5)]
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.items.upsert(item)
        for n, time in enumerate(times):
            uow.points.add(examples.point(vault.key, item.key, str(100 + n), time))
        with pytest.raises(Conflict):
            uow.points.add(examples.point(vault.key, item.key, "100", T0))
    with db.unit_of_work() as uow:
        assert [p.id for p in uow.points.list(item.key)] == ["104", "103", "102", "101", "100"]
        assert [p.id for p in uow.points.list(item.key, times[1], times[3])] == ["103", "102", "101"]
        assert [p.id for p in uow.points.list(item.key, start=times[3])] == ["104", "103"]
        assert [p.id for p in uow.points.list(item.key, end=times[0])] == ["100"]
        uow.points.delete(item.key, "104")
        assert uow.points.get(item.key, "104") is None
        assert uow.points.delete_for_item(item.key) == 4
        assert uow.points.list(item.key) == []


def test_deleting_an_item_deletes_its_points(db: Database) -> None:
    vault = examples.vault()
    item = examples.item(vault.key)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.items.upsert(item)
        uow.points.add(examples.point(vault.key, item.key, "1", T0))
        uow.items.delete(item.key)
        assert uow.points.get(item.key, "1") is None


def test_operations_resolve_only_in_their_vault_and_update(db: Database) -> None:
    one, two = examples.vault("one"), examples.vault("two")
    op = Operation(id="op-1", vault_key=one.key, kind=OperationKind.ITEM, start_time=T0, job_id="j")
    with db.unit_of_work() as uow:
        uow.vaults.add(one)
        uow.vaults.add(two)
        uow.operations.add(op)
    op.status, op.end_time, op.result = OperationStatus.FAILED, T0 + timedelta(seconds=2), {"x": [1]}
    op.error_code, op.error_message = "Boom", "it failed"
    with db.unit_of_work() as uow:
        uow.operations.update(op)
    with db.unit_of_work() as uow:
        assert uow.operations.get(two.key, "op-1") is None
        assert uow.operations.get(one.key, "op-1") == op
