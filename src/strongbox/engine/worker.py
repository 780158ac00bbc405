"""Workers: claim a job, run its handler, heartbeat its lease, record how it ended.

One attempt of one job runs on exactly one worker: the claim is a compare-and-set on the
lease in the database. While the handler runs, a heartbeat extends the lease every third of
its length (in real time, ``ctx.lease_clock``, even under a virtual clock) and picks up cancel requests; if the lease is lost (the reaper failed the job
because this process looked dead) the worker stops writing at once. However the handler
ends (returns, raises a product error, raises anything else), the job ends in a final
status with an end time; nothing is left InProgress.

Each job's log lines (:mod:`strongbox.engine.joblog`) are bound to the worker thread while
the handler runs and written in batches by the heartbeat thread; all of them are written
before the job's final status, so a client that sees the job final has seen its whole log.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable

from strongbox.dataplane.errors import Cancelled
from strongbox.domain.errors import StrongboxError
from strongbox.domain.joblogs import LogLine
from strongbox.domain.jobs import ErrorDetail, Job, JobOperation, JobStatus, TaskStatus
from strongbox.engine.joblog import JobLog, bound, capture_job_logs, event
from strongbox.engine.observer import EngineObserver, NoObserver
from strongbox.engine.reporter import JobReporter
from strongbox.services.context import ServiceContext

log = logging.getLogger("strongbox.worker")

CANCEL_POLL = 0.5   # seconds between looks for a cancel request while a job runs

Handler = Callable[[Job, JobReporter, ServiceContext], JobStatus]

# Azure reports a numeric errorCode beside the string code; ours are stable per code.
_NUMERIC_CODES: dict[str, int] = {}


def numeric_code(code: str) -> int:
    return _NUMERIC_CODES.setdefault(code, 100000 + (sum(ord(c) * (i + 1) for i, c in enumerate(code)) % 900000))


def error_detail(err: StrongboxError, recommendation: str = "") -> ErrorDetail:
    recs = [recommendation] if recommendation else []
    return ErrorDetail(code=err.code, message=err.message, recommendations=recs, error_code=numeric_code(err.code))


def worker_identity(index: int) -> str:
    """host:pid:index:nonce; the reaper reads host and pid to spot workers of dead processes."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerPool:
    ctx: ServiceContext
    handlers: dict[JobOperation, Handler]
    size: int
    idle_wait: float = 0.2
    observer: EngineObserver = field(default_factory=NoObserver)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.size):
            t = threading.Thread(target=self._loop, args=(worker_identity(i),), name=f"strongbox-worker-{i}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """New work was queued: stop idling now."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)

    def _loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                with self.ctx.db.unit_of_work() as uow:
                    job = uow.jobs.claim(worker_id, self.ctx.limits.lease_seconds, self.ctx.lease_clock())
            except Exception:  # the database may be briefly unavailable; never kill the worker
                log.exception("claim failed")
                job = None
            self.observer.worker_alive(worker_id, heartbeat=False)
            if job is None:
                self._wake.wait(self.idle_wait)
                self._wake.clear()
                continue
            run_job(self.ctx, job, worker_id, self.handlers, self._stop, observer=self.observer)


def run_job(ctx: ServiceContext, job: Job, worker_id: str, handlers: dict[JobOperation, Handler],
            stopping: threading.Event | None = None, *, observer: EngineObserver | None = None) -> Job:
    lease = ctx.limits.lease_seconds
    observer = observer or NoObserver()
    started = time.monotonic()

    def save(j: Job) -> bool:
        with ctx.db.unit_of_work() as uow:
            return bool(uow.jobs.save(j, worker_id=worker_id))

    def reload() -> Job | None:
        with ctx.db.unit_of_work() as uow:
            return uow.jobs.get(job.id)

    def write_lines(job_id: str, lines: Sequence[LogLine]) -> None:
        with ctx.db.unit_of_work() as uow:
            uow.job_logs.append(job_id, lines)

    capture_job_logs()
    joblog = JobLog(job.id, write_lines, ctx.clock)
    reporter = JobReporter(job, save=save, reload=reload, clock=ctx.clock, joblog=joblog)
    done = threading.Event()

    def heartbeat() -> None:
        # Two clocks: the lease is extended every third of its length; a cancel request is
        # looked for every CANCEL_POLL seconds, so a cancel lands within about that long
        # even while the data plane is busy or paced and reports nothing.
        next_beat = time.monotonic() + lease / 3
        while not done.wait(min(CANCEL_POLL, lease / 3)):
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + lease / 3
                    with ctx.db.unit_of_work() as uow:
                        alive = uow.jobs.heartbeat(job.id, worker_id, lease, ctx.lease_clock())
                    if not alive:
                        reporter.lease_lost = True
                        reporter.cancel.cancel()
                        joblog.abandon()
                        return
                    observer.worker_alive(worker_id, heartbeat=True)
                reporter.observe_record()
                joblog.flush()
            except Exception:
                log.exception("heartbeat failed for job %s", job.id)

    beat = threading.Thread(target=heartbeat, name=f"heartbeat-{job.id[:8]}", daemon=True)
    beat.start()
    reporter.info(f"{job.operation.value} of {job.entity_friendly_name} started on worker {worker_id}")
    reporter.observe_record()  # a cancel may have arrived before the claim
    status: JobStatus
    with bound(joblog):
        try:
            if reporter.cancel.cancelled:
                raise Cancelled()
            handler = handlers[job.operation]
            status = handler(job, reporter, ctx)
        except Cancelled:
            status = JobStatus.CANCELLED
        except StrongboxError as err:
            status = JobStatus.FAILED
            reporter.error(f"{err.code}: {err.message}")
            reporter.add_error(error_detail(err))
        except Exception as err:  # a bug must still end the job, with what happened
            log.error("job %s crashed:\n%s", job.id, traceback.format_exc())
            status = JobStatus.FAILED
            reporter.add_error(ErrorDetail(code="InternalError", message=f"{type(err).__name__}: {err}",
                                           recommendations=["Report this error with the server log."],
                                           error_code=numeric_code("InternalError")))
        finally:
            done.set()
    if reporter.lease_lost:
        joblog.abandon()
        log.warning("job %s: lease lost; its final state belongs to whoever took it", job.id)
        beat.join(1)
        return job
    beat.join(1)   # the heartbeat thread is done before the last lines and the final save
    elapsed = time.monotonic() - started
    _finish(reporter, status, ctx, elapsed)
    observer.job_finished(job, elapsed, dict(reporter.tallies))
    return job


def _finish(reporter: JobReporter, status: JobStatus, ctx: ServiceContext, seconds: float) -> None:
    job = reporter.job
    # the outcome closes the log: every line is stored before the job is final
    level = {JobStatus.COMPLETED: logging.INFO, JobStatus.FAILED: logging.ERROR}.get(status, logging.WARNING)
    event(reporter.log, level, f"{job.operation.value} {status.value} after {seconds:.1f} s", last=True)
    now = ctx.clock()
    task_end = {JobStatus.CANCELLED: TaskStatus.CANCELLED, JobStatus.FAILED: TaskStatus.FAILED}.get(status)
    for t in job.tasks:
        if t.status is TaskStatus.IN_PROGRESS:
            t.status, t.end_time = task_end or TaskStatus.COMPLETED, now
            if t.status is TaskStatus.COMPLETED:
                t.progress_percentage = 100.0
    job.status, job.end_time = status, now
    job.progress_percentage = None if status is not JobStatus.COMPLETED else 100.0
    job.eta_seconds = None
    reporter.flush(force=True)
