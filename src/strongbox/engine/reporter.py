"""The worker's view of one running job: tasks, progress and property bag, written back
to the job record at most a few times a second.

Invariants: only the worker holding the job's lease writes through a reporter (every save
is guarded by the lease); a cancel request seen in the record is never overwritten: the
reporter merges it before it writes, and sets the cancellation token the data plane checks
between chunks.

Every change of a task, each 10% of a task's progress, a cancel request and anything a
handler says (:meth:`JobReporter.info`, ``warning``, ``error``) also goes to the job's log
(:mod:`strongbox.engine.joblog`); ``tally`` counts the bytes a job moved, for the metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Callable

from strongbox.dataplane.progress import CancelToken, Progress
from strongbox.domain.jobs import ErrorDetail, Job, JobStatus, Task, TaskStatus
from strongbox.engine.joblog import JobLog, event

SAVE_INTERVAL = 0.5
MILESTONE = 10.0    # a task's progress goes to the job's log each time it passes a multiple of this


class LeaseLost(Exception):
    """Another worker (or the reaper) took this job: stop without writing anything more."""


class JobReporter:
    def __init__(self, job: Job, *, save: Callable[[Job], bool], reload: Callable[[], Job | None],
                 clock: Callable[[], datetime], joblog: JobLog | None = None) -> None:
        self.job = job
        self.cancel = CancelToken()
        self._save, self._reload, self._clock = save, reload, clock
        self._lock = threading.RLock()
        self._last_save = 0.0
        self.lease_lost = False
        self.log = joblog or JobLog(job.id, None, clock)
        self.tallies: dict[str, int] = {}          # bytes_read, bytes_written, bytes_deduplicated
        self._milestones: dict[str, int] = {}      # task -> milestones of its progress already logged

    # --- the job's log and tallies ----------------------------------------------------------
    def info(self, message: str) -> None:
        event(self.log, logging.INFO, message)

    def warning(self, message: str) -> None:
        event(self.log, logging.WARNING, message)

    def error(self, message: str) -> None:
        event(self.log, logging.ERROR, message)

    def tally(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                self.tallies[name] = self.tallies.get(name, 0) + value

    def _task_started(self, t: Task) -> None:
        t.status, t.start_time = TaskStatus.IN_PROGRESS, self._clock()
        self.info(f"{t.name}: started" + (f" ({t.details})" if t.details else ""))

    # --- tasks ---------------------------------------------------------------------------
    def task(self, name: str) -> Task:
        for t in self.job.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    def start_task(self, name: str, details: str = "") -> None:
        with self._lock:
            t = self.task(name)
            if details:
                t.details = details
            if t.status is TaskStatus.NOT_STARTED:
                self._task_started(t)
                t.progress_percentage = 0.0
            self.flush(force=True)

    def task_progress(self, name: str, percent: float, details: str = "") -> None:
        with self._lock:
            t = self.task(name)
            if t.status is TaskStatus.NOT_STARTED:
                self._task_started(t)
            t.progress_percentage = round(min(max(percent, 0.0), 100.0), 2)
            if details:
                t.details = details
            step = int(t.progress_percentage // MILESTONE)
            if 0 < step < 100 / MILESTONE and step > self._milestones.get(name, 0):
                self._milestones[name] = step
                self.info(f"{name}: {step * MILESTONE:.0f}%" + (f" ({t.details})" if t.details else ""))
            self.flush()

    def finish_task(self, name: str, status: TaskStatus = TaskStatus.COMPLETED, details: str = "") -> None:
        with self._lock:
            t = self.task(name)
            if t.start_time is None:
                t.start_time = self._clock()
            t.status, t.end_time = status, self._clock()
            if status is TaskStatus.COMPLETED:
                t.progress_percentage = 100.0
            if details:
                t.details = details
            said = {TaskStatus.FAILED: self.error, TaskStatus.COMPLETED_WITH_WARNINGS: self.warning}.get(status, self.info)
            said(f"{name}: {status.value}" + (f" ({t.details})" if t.details else ""))
            self.flush(force=True)

    # --- job-level progress ------------------------------------------------------------------
    def progress(self, percent: float | None, eta_seconds: float | None) -> None:
        with self._lock:
            self.job.progress_percentage = None if percent is None else round(min(max(percent, 0.0), 100.0), 2)
            self.job.eta_seconds = eta_seconds
            self.flush()

    def bag(self, **values: str) -> None:
        with self._lock:
            self.job.property_bag.update(values)

    def set_bag(self, key: str, value: str) -> None:
        with self._lock:
            self.job.property_bag[key] = value

    def add_error(self, detail: ErrorDetail) -> None:
        with self._lock:
            self.job.error_details.append(detail)

    def data_progress(self, task_name: str, io_limit_mbps: int = 0) -> Callable[[Progress], None]:
        """A data-plane progress callback that drives one task and the job's percent/ETA.

        With ``io_limit_mbps`` it also paces the work: the data plane calls back from the
        thread that reads, so sleeping here holds the job to that rate."""

        def on_progress(p: Progress) -> None:
            percent = 100.0 * p.bytes_done / p.bytes_total if p.bytes_total else (
                100.0 * p.files_done / p.files_total if p.files_total else 0.0)
            details = (f"{p.files_done}/{p.files_total} files, {p.bytes_done}/{p.bytes_total} bytes, "
                       f"{p.rate / 1e6:.1f} MB/s")
            with self._lock:
                self.task_progress(task_name, percent, details)
                self.progress(percent, p.eta_seconds)
            if io_limit_mbps and p.bytes_done:
                ahead = p.bytes_done / (io_limit_mbps * 1e6) - p.elapsed
                if ahead > 0:
                    self.flush(force=True)              # show where we are before pausing
                    self.cancel.wait(min(ahead, 60.0))  # wakes at once on cancel
        return on_progress

    # --- persistence --------------------------------------------------------------------------
    def observe_record(self) -> None:
        """Heartbeat: pick up a cancel request written by the API."""
        current = self._reload()
        if current is None:
            return
        with self._lock:
            if current.cancel_requested and not self.job.cancel_requested:
                self.job.cancel_requested = True
                if self.job.status is JobStatus.IN_PROGRESS:
                    self.job.status = JobStatus.CANCELLING
                self._cancel_seen()

    def _cancel_seen(self) -> None:
        if not self.cancel.cancelled:
            self.warning("cancel requested: stopping at the next chunk")
        self.cancel.cancel()

    def flush(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_save < SAVE_INTERVAL:
                return
            self._last_save = now
            if self.lease_lost:
                return
            if not self._save(self.job):
                self.lease_lost = True
                self.cancel.cancel()
            elif self.job.cancel_requested:   # the save read back a cancel request
                self._cancel_seen()
