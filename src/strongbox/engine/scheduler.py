"""The scheduler: policies in force, in every ``serve`` process.

Every ``interval`` seconds (and at once when the virtual clock moves) it starts the
scheduled Backup jobs that are due, the retention jobs that remove expired recovery
points (:mod:`strongbox.services.schedules`) and the jobs that purge soft-deleted items whose
time has come (:mod:`strongbox.services.purge`). Several processes on one database may run it
at once: the database decides which one creates each job, so each slot runs exactly once.
The jobs it creates are ordinary queued jobs; any worker of any process runs them.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from strongbox.domain.jobs import Job
from strongbox.services.context import ServiceContext
from strongbox.services.purge import start_purge_jobs
from strongbox.services.schedules import due_backups, start_expiry_jobs, start_scheduled_backup

log = logging.getLogger("strongbox.scheduler")


def tick(ctx: ServiceContext) -> list[Job]:
    """One pass: start what is due now; returns the jobs this process created."""
    now = ctx.clock()
    started = [job for due in due_backups(ctx, now) if (job := start_scheduled_backup(ctx, due)) is not None]
    for job in started:
        log.info("scheduled backup %s of %s (%s)", job.id, job.entity_friendly_name,
                 job.property_bag.get("Scheduled Time"))
    started += start_expiry_jobs(ctx, now)
    purges = start_purge_jobs(ctx, now)
    for job in purges:
        log.info("purging soft-deleted %s (job %s)", job.entity_friendly_name, job.id)
    return started + purges


class Scheduler:
    def __init__(self, ctx: ServiceContext, *, interval: float = 1.0,
                 on_jobs: Callable[[], None] = lambda: None) -> None:
        self.ctx, self.interval, self.on_jobs = ctx, interval, on_jobs
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="strongbox-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if tick(self.ctx):
                    self.on_jobs()
            except Exception:  # the database may be briefly unavailable; never kill the scheduler
                log.exception("scheduler pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()
