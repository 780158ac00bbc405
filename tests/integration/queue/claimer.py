"""A queue worker in its own process: ``python -m tests.integration.queue.claimer URL WORKER GO``.

Prints ``ready``, waits until the file GO exists, then claims, "runs" (prints the job id)
and completes jobs until none is left, with its own :class:`Database`.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from strongbox.domain.jobs import JobStatus
from strongbox.persistence.database import Database


def drain(db: Database, worker_id: str) -> list[str]:
    """Claim and complete jobs until none is claimable; returns the ids this worker ran."""
    ran: list[str] = []
    while True:
        now = datetime.now(timezone.utc)
        with db.unit_of_work() as uow:
            job = uow.jobs.claim(worker_id, 60, now)
        if job is None:
            return ran
        ran.append(job.id)
        job.status, job.end_time = JobStatus.COMPLETED, datetime.now(timezone.utc)
        with db.unit_of_work() as uow:
            if not uow.jobs.save(job, worker_id=worker_id):
                raise AssertionError(f"{worker_id} lost the lease of {job.id}")


def main(url: str, worker_id: str, go: str) -> None:
    db = Database(url)
    try:
        db.migrate()
        print("ready", flush=True)
        while not Path(go).exists():
            time.sleep(0.01)
        for job_id in drain(db, worker_id):
            print(job_id, flush=True)
    finally:
        db.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:4])
