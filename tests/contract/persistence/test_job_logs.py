"""Job logs and job counts in the database: lines in order, pages after a seq, one more line
after the last, gone with their job; counts by operation and status, and the queue depth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from strongbox.domain.joblogs import ERROR, INFO, MAX_MESSAGE, WARNING, LogLine
from strongbox.domain.jobs import Job, JobOperation, JobStatus
from strongbox.persistence.database import Database
from tests.contract.persistence import examples
from tests.contract.persistence.examples import T0

VAULT = examples.vault()


@pytest.fixture
def job(db: Database) -> Job:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        return uow.jobs.add(examples.job(VAULT.key))


def lines(first: int, count: int) -> list[LogLine]:
    return [LogLine(seq, T0 + timedelta(seconds=seq), INFO if seq % 2 else WARNING, f"line {seq} ✓")
            for seq in range(first, first + count)]


def test_lines_read_back_in_order_after_a_seq_a_page_at_a_time(db: Database, job: Job) -> None:
    with db.unit_of_work() as uow:
        uow.job_logs.append(job.id, lines(1, 5))
    with db.unit_of_work() as uow:
        uow.job_logs.append(job.id, lines(6, 3))
    with db.unit_of_work() as uow:
        assert uow.job_logs.read(job.id) == lines(1, 8)
        assert uow.job_logs.read(job.id, since=3, limit=2) == lines(4, 2)
        assert uow.job_logs.read(job.id, since=8) == []
        assert uow.job_logs.read("no-such-job") == []
        assert uow.job_logs.last_seq(job.id) == 8


def test_add_numbers_a_line_after_the_last_and_a_taken_seq_is_refused(db: Database, job: Job) -> None:
    with db.unit_of_work() as uow:
        assert uow.job_logs.last_seq(job.id) == 0
        assert uow.job_logs.add(job.id, T0, ERROR, "first") == 1
        uow.job_logs.append(job.id, lines(2, 2))
        assert uow.job_logs.add(job.id, T0, ERROR, "x" * (MAX_MESSAGE + 10)) == 4
    with db.unit_of_work() as uow:
        read = uow.job_logs.read(job.id)
    assert [(line.seq, line.level) for line in read] == [(1, ERROR), (2, WARNING), (3, INFO), (4, ERROR)]
    assert read[0].time == T0 and read[0].time.tzinfo is not None
    assert len(read[-1].message) == MAX_MESSAGE
    with pytest.raises(IntegrityError), db.unit_of_work() as uow:
        uow.job_logs.append(job.id, lines(3, 1))
    with pytest.raises(IntegrityError), db.unit_of_work() as uow:
        uow.job_logs.append("no-such-job", lines(1, 1))


def test_lines_go_with_their_job_when_old_jobs_are_purged_or_the_vault_is_deleted(db: Database, job: Job) -> None:
    with db.unit_of_work() as uow:
        kept = uow.jobs.add(examples.job(VAULT.key))
        uow.job_logs.append(job.id, lines(1, 3))
        uow.job_logs.append(kept.id, lines(1, 2))
        job.status, job.end_time = JobStatus.COMPLETED, T0 + timedelta(minutes=1)
        assert uow.jobs.save(job)
    with db.unit_of_work() as uow:
        assert uow.jobs.purge_finished_before(T0 + timedelta(days=1)) == 1
    with db.unit_of_work() as uow:
        assert uow.job_logs.read(job.id) == []
        assert len(uow.job_logs.read(kept.id)) == 2
        uow.vaults.delete(VAULT.key)
    with db.unit_of_work() as uow:
        assert uow.job_logs.read(kept.id) == []


def test_job_counts_by_operation_and_status_and_the_queue_depth(db: Database, job: Job) -> None:
    with db.unit_of_work() as uow:
        assert uow.job_stats.by_operation_and_status() == {("Backup", "InProgress"): 1}
        assert uow.job_stats.waiting() == 1
        uow.jobs.add(examples.job(VAULT.key, operation=JobOperation.RESTORE))
        assert uow.jobs.claim("w-1", 30, T0) is not None        # the oldest: no longer waiting
        done = examples.job(VAULT.key)
        done.status, done.end_time = JobStatus.FAILED, T0
        uow.jobs.add(done)
    with db.unit_of_work() as uow:
        assert uow.job_stats.by_operation_and_status() == {
            ("Backup", "InProgress"): 1, ("Restore", "InProgress"): 1, ("Backup", "Failed"): 1}
        assert uow.job_stats.waiting() == 1
