"""Every field the domain dataclasses hold reads back exactly as written (datetimes as aware
UTC, to the microsecond)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

from strongbox.domain.operations import Operation, OperationKind, OperationStatus
from strongbox.persistence.database import Database
from tests.contract.persistence import examples


def test_vault_round_trips(db: Database) -> None:
    vault = examples.vault()
    vault.created = vault.created.astimezone(examples.CET)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
    with db.unit_of_work() as uow:
        loaded = uow.vaults.get(vault.key)
    assert loaded == vault
    assert loaded is not None and loaded.created.tzinfo is timezone.utc


def test_policy_item_and_point_round_trip(db: Database) -> None:
    vault = examples.vault()
    policy = examples.policy(vault.key)
    item = examples.item(vault.key)
    point = examples.point(vault.key, item.key, "93417", examples.T0 + timedelta(microseconds=999_999))
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.policies.upsert(policy)
        uow.items.upsert(item)
        uow.points.add(point)
    with db.unit_of_work() as uow:
        assert uow.policies.get(vault.key, "dailypolicy") == policy
        assert uow.items.get(item.key) == item
        assert uow.points.get(item.key, "93417") == point


def test_item_with_no_policy_and_no_backup_round_trips(db: Database) -> None:
    vault = examples.vault()
    item = replace(examples.item(vault.key, policy_name=None), last_backup_time=None, deleted=True)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.items.upsert(item)
    with db.unit_of_work() as uow:
        assert uow.items.get(item.key) == item


def test_operation_round_trips(db: Database) -> None:
    vault = examples.vault()
    op = Operation(id="op-1", vault_key=vault.key, kind=OperationKind.CANCEL, start_time=examples.T0,
                   status=OperationStatus.CANCELED, job_id="job-1", follows_job=True,
                   end_time=examples.T0 + timedelta(seconds=1), error_code="E1", error_message="m",
                   result={"objectType": "ExportJobsOperationResultInfo", "blobUrl": "x"})
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.operations.add(op)
    with db.unit_of_work() as uow:
        assert uow.operations.get(vault.key, "op-1") == op


def test_job_round_trips_with_every_field(db: Database) -> None:
    vault = examples.vault()
    job = examples.full_job(vault.key)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.jobs.add(job)
    with db.unit_of_work() as uow:
        loaded = uow.jobs.get(job.id)
    assert loaded is not None
    assert loaded == job
    assert loaded.start_time.tzinfo is timezone.utc
    assert all(t.start_time is None or t.start_time.tzinfo is timezone.utc for t in loaded.tasks)
    assert list(loaded.property_bag) == ["VM Name", "Backup Size", "a"]


def test_a_saved_job_round_trips(db: Database) -> None:
    vault = examples.vault()
    job = examples.job(vault.key)
    with db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.jobs.add(job)
    worked = examples.full_job(vault.key)
    worked = replace(worked, id=job.id, operation=job.operation, activity_id=job.activity_id,
                     item_key=job.item_key, container_name=job.container_name, start_time=job.start_time,
                     entity_friendly_name=job.entity_friendly_name, is_user_triggered=job.is_user_triggered,
                     lease_owner=None, lease_expires=None, attempts=0, seq=job.seq)
    with db.unit_of_work() as uow:
        assert uow.jobs.save(worked)
    with db.unit_of_work() as uow:
        assert uow.jobs.get(job.id) == worked
