"""Leases: expiry hands a job to the reaper, heartbeats keep it, a lost lease stops saves."""

from __future__ import annotations

from datetime import timedelta

from strongbox.domain.jobs import Job, JobStatus
from strongbox.persistence.database import Database
from tests.contract.persistence import examples
from tests.contract.persistence.examples import T0

VAULT = examples.vault()


def claimed(db: Database, worker_id: str = "w1", lease: float = 30) -> Job:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        uow.jobs.add(examples.job(VAULT.key))
        job = uow.jobs.claim(worker_id, lease, T0)
    assert job is not None
    return job


def test_a_job_whose_lease_expires_is_the_reapers(db: Database) -> None:
    job = claimed(db)
    with db.unit_of_work() as uow:
        assert uow.jobs.expired(T0 + timedelta(seconds=29)) == []
        assert uow.jobs.expired(T0 + timedelta(seconds=30)) == []
        assert [j.id for j in uow.jobs.expired(T0 + timedelta(seconds=31))] == [job.id]
        assert uow.jobs.claim("w2", 30, T0 + timedelta(seconds=31)) is None


def test_heartbeat_extends_a_held_lease(db: Database) -> None:
    job = claimed(db)
    with db.unit_of_work() as uow:
        assert uow.jobs.heartbeat(job.id, "w1", 30, T0 + timedelta(seconds=20))
        assert uow.jobs.expired(T0 + timedelta(seconds=45)) == []
        assert [j.id for j in uow.jobs.expired(T0 + timedelta(seconds=51))] == [job.id]
        stored = uow.jobs.get(job.id)
    assert stored is not None and stored.lease_expires == T0 + timedelta(seconds=50)


def test_heartbeat_fails_for_another_worker_an_expired_lease_or_a_final_job(db: Database) -> None:
    job = claimed(db)
    with db.unit_of_work() as uow:
        assert not uow.jobs.heartbeat(job.id, "w2", 30, T0 + timedelta(seconds=1))
        assert not uow.jobs.heartbeat(job.id, "w1", 30, T0 + timedelta(seconds=31))
        job.status, job.end_time = JobStatus.COMPLETED, T0 + timedelta(seconds=2)
        assert uow.jobs.save(job, worker_id="w1")
        assert not uow.jobs.heartbeat(job.id, "w1", 30, T0 + timedelta(seconds=3))


def test_a_worker_whose_job_was_reaped_cannot_save(db: Database) -> None:
    job = claimed(db)
    with db.unit_of_work() as uow:
        (reaped,) = uow.jobs.expired(T0 + timedelta(minutes=5))
        reaped.status, reaped.end_time = JobStatus.FAILED, T0 + timedelta(minutes=5)
        assert uow.jobs.save(reaped)
    job.status, job.end_time = JobStatus.COMPLETED, T0 + timedelta(minutes=6)
    with db.unit_of_work() as uow:
        assert not uow.jobs.save(job, worker_id="w1")
        stored = uow.jobs.get(job.id)
    assert stored is not None and stored.status is JobStatus.FAILED
