"""The job repository: history lists, exclusive keys, claims, leases, saves, cancels, purge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from strongbox.domain.errors import Conflict
from strongbox.domain.jobs import Job, JobOperation, JobStatus
from strongbox.persistence.database import Database
from strongbox.persistence.jobs import ItemBusy, JobFilter
from tests.contract.persistence import examples
from tests.contract.persistence.examples import T0

VAULT = examples.vault()
OTHER = examples.vault("other")


@pytest.fixture
def vaults(db: Database) -> Database:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        uow.vaults.add(OTHER)
    return db


def add(db: Database, job: Job, exclusive_key: str | None = None) -> Job:
    with db.unit_of_work() as uow:
        return uow.jobs.add(job, exclusive_key=exclusive_key)


def finish(job: Job, status: JobStatus = JobStatus.COMPLETED) -> Job:
    job.status, job.end_time = status, job.start_time + timedelta(minutes=1)
    return job


def test_add_assigns_growing_seq_and_refuses_a_duplicate_id(vaults: Database) -> None:
    first = add(vaults, examples.job(VAULT.key))
    second = add(vaults, examples.job(VAULT.key))
    assert 0 < first.seq < second.seq
    with pytest.raises(Conflict), vaults.unit_of_work() as uow:
        uow.jobs.add(examples.job(VAULT.key, job_id=first.id))
    with vaults.unit_of_work() as uow:
        assert uow.jobs.get_in_vault(VAULT.key, first.id) is not None
        assert uow.jobs.get_in_vault(OTHER.key, first.id) is None
        assert uow.jobs.get("missing") is None


def test_an_exclusive_key_is_held_until_the_job_is_final(vaults: Database) -> None:
    running = add(vaults, examples.job(VAULT.key, item_key="i"), exclusive_key="i")
    with pytest.raises(ItemBusy) as busy, vaults.unit_of_work() as uow:
        uow.jobs.add(examples.job(VAULT.key, item_key="i"), exclusive_key="i")
    assert busy.value.job_id == running.id and isinstance(busy.value, Conflict)
    add(vaults, examples.job(VAULT.key, item_key="i"))  # no key, no exclusion
    add(vaults, examples.job(VAULT.key, item_key="j"), exclusive_key="j")
    with vaults.unit_of_work() as uow:
        assert uow.jobs.save(finish(running))
        assert uow.jobs.add(examples.job(VAULT.key, item_key="i"), exclusive_key="i").seq > running.seq


def test_busy_does_not_spoil_the_transaction(vaults: Database) -> None:
    add(vaults, examples.job(VAULT.key), exclusive_key="i")
    with vaults.unit_of_work() as uow:
        with pytest.raises(ItemBusy):
            uow.jobs.add(examples.job(VAULT.key), exclusive_key="i")
        uow.jobs.add(examples.job(VAULT.key), exclusive_key="k")
    with vaults.unit_of_work() as uow:
        assert len(uow.jobs.list(VAULT.key, JobFilter(), limit=10)) == 2


def test_list_filters_and_pages_newest_first(vaults: Database) -> None:
    made = []
    for n in range(10):
        op = JobOperation.BACKUP if n % 2 else JobOperation.RESTORE
        made.append(add(vaults, examples.job(VAULT.key, operation=op, start=T0 + timedelta(hours=n))))
    add(vaults, examples.job(OTHER.key))
    with vaults.unit_of_work() as uow:
        uow.jobs.save(finish(made[3], JobStatus.FAILED))

        def ids(flt: JobFilter, limit: int = 100, after: int | None = None, vault: str | None = VAULT.key
                ) -> list[str]:
            return [j.id for j in uow.jobs.list(vault, flt, limit=limit, after_seq=after)]

        newest_first = [j.id for j in reversed(made)]
        assert ids(JobFilter()) == newest_first
        assert len(ids(JobFilter(), vault=None)) == 11
        page1 = uow.jobs.list(VAULT.key, JobFilter(), limit=4)
        assert [j.id for j in page1] == newest_first[:4]
        assert ids(JobFilter(), limit=4, after=page1[-1].seq) == newest_first[4:8]
        assert ids(JobFilter(operation="Backup")) == [made[n].id for n in (9, 7, 5, 3, 1)]
        assert ids(JobFilter(operation=JobOperation.BACKUP, status=JobStatus.FAILED)) == [made[3].id]
        assert ids(JobFilter(status="InProgress"), limit=2, after=made[4].seq) == [made[2].id, made[1].id]
        assert ids(JobFilter(job_id=made[5].id)) == [made[5].id]
        window = JobFilter(start_from=T0 + timedelta(hours=2), start_to=T0 + timedelta(hours=4))
        assert ids(window) == [made[4].id, made[3].id, made[2].id]
        assert len(ids(JobFilter(backup_management_type="AzureIaasVM"))) == 10
        assert ids(JobFilter(backup_management_type="AzureStorage")) == []


def test_active_for_item_lists_unfinished_jobs_oldest_first(vaults: Database) -> None:
    done = add(vaults, examples.job(VAULT.key, item_key="i"))
    first = add(vaults, examples.job(VAULT.key, item_key="i"))
    second = add(vaults, examples.job(VAULT.key, item_key="i", operation=JobOperation.RESTORE))
    add(vaults, examples.job(VAULT.key, item_key="other"))
    with vaults.unit_of_work() as uow:
        uow.jobs.save(finish(done))
        assert [j.id for j in uow.jobs.active_for_item("i")] == [first.id, second.id]


def test_a_final_job_never_changes_again(vaults: Database) -> None:
    job = add(vaults, examples.job(VAULT.key))
    with vaults.unit_of_work() as uow:
        assert uow.jobs.save(finish(job, JobStatus.FAILED))
        job.status, job.property_bag = JobStatus.COMPLETED, {"late": "write"}
        assert not uow.jobs.save(job)
        assert uow.jobs.request_cancel(job.id) == uow.jobs.get(job.id)
        stored = uow.jobs.get(job.id)
    assert stored is not None and (stored.status, stored.property_bag, stored.cancel_requested) == (
        JobStatus.FAILED, {}, False)


def test_request_cancel_moves_in_progress_to_cancelling(vaults: Database) -> None:
    job = add(vaults, examples.job(VAULT.key))
    with vaults.unit_of_work() as uow:
        cancelled = uow.jobs.request_cancel(job.id)
        assert uow.jobs.request_cancel("missing") is None
    assert cancelled is not None
    assert (cancelled.status, cancelled.cancel_requested) == (JobStatus.CANCELLING, True)


def test_a_worker_saving_stale_progress_does_not_lose_a_cancel(vaults: Database) -> None:
    add(vaults, examples.job(VAULT.key))
    with vaults.unit_of_work() as uow:
        job = uow.jobs.claim("w", 30, T0)
    assert job is not None
    with vaults.unit_of_work() as uow:
        uow.jobs.request_cancel(job.id)
    job.progress_percentage = 50.0
    with vaults.unit_of_work() as uow:
        assert uow.jobs.save(job, worker_id="w")
        stored = uow.jobs.get(job.id)
    assert (job.status, job.cancel_requested) == (JobStatus.CANCELLING, True)
    assert stored is not None and (stored.status, stored.cancel_requested, stored.progress_percentage) == (
        JobStatus.CANCELLING, True, 50.0)


def test_claim_takes_the_oldest_job_that_never_started(vaults: Database) -> None:
    old, new = add(vaults, examples.job(VAULT.key)), add(vaults, examples.job(VAULT.key))
    done = add(vaults, examples.job(VAULT.key))
    with vaults.unit_of_work() as uow:
        uow.jobs.save(finish(done))
        first = uow.jobs.claim("w1", 30, T0)
        second = uow.jobs.claim("w2", 30, T0)
        assert uow.jobs.claim("w3", 30, T0 + timedelta(hours=1)) is None  # expired leases are the reaper's
    assert first is not None and second is not None
    assert (first.id, first.lease_owner, first.attempts) == (old.id, "w1", 1)
    assert first.lease_expires == T0 + timedelta(seconds=30)
    assert (second.id, second.lease_owner) == (new.id, "w2")


def test_save_by_a_worker_needs_its_lease_and_a_final_save_releases_key_and_lease(vaults: Database) -> None:
    add(vaults, examples.job(VAULT.key, item_key="i"), exclusive_key="i")
    with vaults.unit_of_work() as uow:
        job = uow.jobs.claim("w1", 30, T0)
    assert job is not None
    with vaults.unit_of_work() as uow:
        assert not uow.jobs.save(job, worker_id="intruder")
        assert uow.jobs.save(finish(job), worker_id="w1")
        stored = uow.jobs.get(job.id)
        assert uow.jobs.add(examples.job(VAULT.key, item_key="i"), exclusive_key="i")
    assert stored is not None and (stored.lease_owner, stored.lease_expires, stored.attempts) == (None, None, 1)
    assert (job.lease_owner, job.lease_expires) == (None, None)


def test_purge_deletes_final_jobs_that_ended_before_the_cutoff(vaults: Database) -> None:
    old = add(vaults, examples.job(VAULT.key, start=T0))
    recent = add(vaults, examples.job(VAULT.key, start=T0 + timedelta(days=2)))
    running = add(vaults, examples.job(VAULT.key, start=T0))
    with vaults.unit_of_work() as uow:
        uow.jobs.save(finish(old))
        uow.jobs.save(finish(recent))
        assert uow.jobs.purge_finished_before(T0 + timedelta(days=1)) == 1
        assert {j.id for j in uow.jobs.list(None, JobFilter(), limit=10)} == {recent.id, running.id}
