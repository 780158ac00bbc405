"""Workers racing for the same queue, in threads and in separate processes: every job runs
exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from strongbox.domain.jobs import JobStatus
from strongbox.persistence.database import Database
from strongbox.persistence.jobs import JobFilter
from tests.contract.persistence import examples
from tests.integration.queue.claimer import drain

ROOT = Path(__file__).resolve().parents[3]
VAULT = examples.vault()
JOBS = 200


def queue_jobs(db: Database, count: int = JOBS) -> set[str]:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        return {uow.jobs.add(examples.job(VAULT.key)).id for _ in range(count)}


def assert_each_ran_once(db: Database, queued: set[str], ran: list[str]) -> None:
    assert Counter(ran).most_common(1)[0][1] == 1
    assert set(ran) == queued
    with db.unit_of_work() as uow:
        stored = uow.jobs.list(VAULT.key, JobFilter(), limit=JOBS + 1)
    assert {(j.status, j.attempts) for j in stored} == {(JobStatus.COMPLETED, 1)}


def test_threads_racing_to_claim_run_every_job_once(db: Database) -> None:
    queued = queue_jobs(db)
    ran: dict[str, list[str]] = {f"w{n}": [] for n in range(4)}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(ran))

    def work(worker_id: str) -> None:
        barrier.wait()
        try:
            ran[worker_id].extend(drain(db, worker_id))
        except BaseException as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in ran]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert_each_ran_once(db, queued, [job_id for ids in ran.values() for job_id in ids])


def test_processes_racing_to_claim_run_every_job_once(db: Database, db_url: str, tmp_path: Path) -> None:
    queued = queue_jobs(db)
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.integration.queue.claimer", db_url, f"p{n}", str(go)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(2)]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    ran = [line for out, _ in outputs for line in out.split()]
    assert_each_ran_once(db, queued, ran)


@pytest.mark.parametrize("racers", [2, 4])
def test_exactly_one_of_racing_adds_holds_an_exclusive_key(db: Database, racers: int) -> None:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
    for round_ in range(5):
        key = f"item-{round_}"
        outcomes: list[str] = []
        barrier = threading.Barrier(racers)

        def add(key: str = key) -> None:
            # Each racer has its own Database: its own connections, like separate API processes.
            own = Database(str(db.engine.url.render_as_string(hide_password=False)))
            try:
                barrier.wait()
                with own.unit_of_work() as uow:
                    uow.jobs.add(examples.job(VAULT.key, item_key=key), exclusive_key=key)
                outcomes.append("won")
            except Exception as exc:
                outcomes.append(type(exc).__name__)
            finally:
                own.dispose()

        threads = [threading.Thread(target=add) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["ItemBusy"] * (racers - 1) + ["won"]
        with db.unit_of_work() as uow:
            (winner,) = uow.jobs.active_for_item(key)
            winner.status, winner.end_time = JobStatus.FAILED, winner.start_time
            assert uow.jobs.save(winner)
            uow.jobs.add(examples.job(VAULT.key, item_key=key), exclusive_key=key)
            assert len(uow.jobs.active_for_item(key)) == 1
