"""The reaper: no job stays InProgress after its worker died.

A job whose lease expired (its worker stopped heartbeating) is failed with a clear error.
At start, jobs leased by a process of this host that no longer exists are failed at once,
without waiting for the lease to run out (the usual case after kill -9 and a restart).
The data plane is crash-safe, so failing the job is all the recovery there is to do. The
job's log gets one last line saying so, in the same transaction.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from strongbox.domain.errors import WorkerLost
from strongbox.domain.joblogs import ERROR
from strongbox.domain.jobs import Job, JobStatus, TaskStatus
from strongbox.engine.worker import error_detail
from strongbox.services.context import ServiceContext

log = logging.getLogger("strongbox.reaper")


def _owner_is_dead_here(owner: str | None) -> bool:
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap(ctx: ServiceContext, *, at_start: bool = False) -> list[str]:
    now, lease_now = ctx.clock(), ctx.lease_clock()   # leases are real time, job times service time
    reaped: list[str] = []
    with ctx.db.unit_of_work() as uow:
        candidates = uow.jobs.expired(lease_now + timedelta(days=36500) if at_start else lease_now)
        for job in candidates:
            if at_start and not (job.lease_expires and job.lease_expires <= lease_now) \
                    and not _owner_is_dead_here(job.lease_owner):
                continue
            _fail(job, now, "its worker stopped responding" if not at_start else "the server was stopped")
            if uow.jobs.save(job):
                error = job.error_details[-1]
                uow.job_logs.add(job.id, now, ERROR, f"{error.code}: {error.message}")
                reaped.append(job.id)
    for job_id in reaped:
        log.warning("job %s failed: its worker is gone", job_id)
    return reaped


def _fail(job: Job, now: datetime, why: str) -> None:
    job.status, job.end_time = JobStatus.FAILED, now
    job.progress_percentage, job.eta_seconds = None, None
    for t in job.tasks:
        if t.status is TaskStatus.IN_PROGRESS:
            t.status, t.end_time = TaskStatus.FAILED, now
    job.error_details.append(error_detail(WorkerLost(why), "Run the operation again."))


class Reaper:
    def __init__(self, ctx: ServiceContext, interval: float) -> None:
        self.ctx, self.interval = ctx, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="strongbox-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                reap(self.ctx)
                cutoff = self.ctx.clock() - timedelta(days=self.ctx.limits.job_retention_days)
                with self.ctx.db.unit_of_work() as uow:
                    uow.jobs.purge_finished_before(cutoff)
            except Exception:
                log.exception("reaper pass failed")
