"""Capturing each job's log lines and writing them to the database in batches.

Two ways a line reaches a job's :class:`JobLog`:

- the engine's own messages (task started and finished, progress milestones, warnings,
  errors, cancel, retries) are written to it directly by the job's reporter, and echoed to
  the server log (``strongbox.job``) with the job id in front;
- any other ``strongbox.*`` log record emitted on the worker thread while it runs the job
  (a crash's traceback, a warning from a lower layer) is appended by :class:`JobLogHandler`,
  which finds the job through a context variable the worker sets around the handler call
  (:func:`bound`). The handler is added to the ``strongbox`` logger by :func:`capture_job_logs`,
  called by the worker, never at import time.

Invariants: appending only touches memory; the lines are written in batches, one
transaction per batch, by :meth:`JobLog.flush`, which the worker's heartbeat thread calls
about every half second and the worker once more at the end (:meth:`JobLog.close`): never one
transaction per line, never on the data path. Lines are numbered 1, 2, 3 ... with no gap; at
most :data:`~strongbox.domain.joblogs.MAX_LINES` are kept, and ``close`` adds one line saying
how many more were dropped, then the job's outcome. A batch that fails to write is kept and tried again at the next
flush. A log whose worker lost the job's lease is abandoned: it writes nothing more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from strongbox.domain.joblogs import ERROR, INFO, MAX_LINES, MAX_MESSAGE, WARNING, LogLine, dropped_note

Sink = Callable[[str, Sequence[LogLine]], None]

log = logging.getLogger("strongbox.job")
_current: ContextVar[JobLog | None] = ContextVar("strongbox_job_log", default=None)
#: Set on records the job's log holds already (or must never hold): the handler skips them.
SKIP = "strongbox_job_log_skip"


def level_name(levelno: int) -> str:
    return ERROR if levelno >= logging.ERROR else WARNING if levelno >= logging.WARNING else INFO


class JobLog:
    """The buffered log of one job run by this process."""

    def __init__(self, job_id: str, sink: Sink | None, clock: Callable[[], datetime], *,
                 max_lines: int = MAX_LINES) -> None:
        self.job_id = job_id
        self._sink, self._clock, self._max = sink, clock, max_lines
        self._lock = threading.Lock()          # the buffer and counters
        self._writing = threading.Lock()       # one batch in flight at a time, in seq order
        self._pending: list[LogLine] = []
        self._next_seq = 1
        self._dropped = 0
        self._closed = False
        self._write_failed = False

    @property
    def lines_kept(self) -> int:
        return self._next_seq - 1

    @property
    def dropped(self) -> int:
        return self._dropped

    def add(self, level: str, message: str) -> None:
        with self._lock:
            if self._closed:
                return
            if self._next_seq > self._max:
                self._dropped += 1
                return
            self._pending.append(LogLine(self._next_seq, self._clock(), level, message[:MAX_MESSAGE]))
            self._next_seq += 1

    def flush(self) -> None:
        """Write the lines buffered so far, in one transaction; on failure keep them for the next try."""
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch or self._sink is None:
                return
            try:
                self._sink(self.job_id, batch)
            except Exception:
                with self._lock:
                    if not self._closed:
                        self._pending[:0] = batch
                if not self._write_failed:   # say it once, in the server log only
                    self._write_failed = True
                    log.warning("job %s: could not write its log lines; will retry", self.job_id, exc_info=True,
                                extra={SKIP: True})

    def close(self, last: tuple[str, str] | None = None) -> None:
        """The job is over: note the dropped lines, add ``last`` (level, message: the outcome,
        kept even past the cap), write everything, accept nothing more."""
        with self._lock:
            if self._closed:
                return
            now = self._clock()
            extra = [(WARNING, dropped_note(self._dropped))] if self._dropped else []
            for level, message in extra + ([last] if last else []):
                self._pending.append(LogLine(self._next_seq, now, level, message[:MAX_MESSAGE]))
                self._next_seq += 1
        self.flush()
        with self._lock:
            self._closed = True
            self._pending = []

    def abandon(self) -> None:
        """The lease is lost: the job belongs to someone else now; write nothing more."""
        with self._lock:
            self._closed = True
            self._pending = []


class JobLogHandler(logging.Handler):
    """Appends ``strongbox.*`` records emitted in a job's context to that job's log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(message)s"))   # the message and any traceback

    def emit(self, record: logging.LogRecord) -> None:
        target = _current.get()
        if target is None or getattr(record, SKIP, False):
            return
        try:
            target.add(level_name(record.levelno), self.format(record))
        except Exception:
            self.handleError(record)


_install_lock = threading.Lock()


def capture_job_logs() -> None:
    """Add the one :class:`JobLogHandler` to the ``strongbox`` logger (idempotent)."""
    root = logging.getLogger("strongbox")
    with _install_lock:
        if not any(isinstance(h, JobLogHandler) for h in root.handlers):
            root.addHandler(JobLogHandler())


@contextmanager
def bound(job_log: JobLog) -> Iterator[None]:
    """Records emitted in this context (this thread) belong to ``job_log``."""
    token = _current.set(job_log)
    try:
        yield
    finally:
        _current.reset(token)


def event(job_log: JobLog, levelno: int, message: str, *, last: bool = False) -> None:
    """One of the engine's messages about a job: into its log, and into the server log.
    ``last``: the job's outcome, which closes its log (:meth:`JobLog.close`)."""
    if last:
        job_log.close((level_name(levelno), message))
    else:
        job_log.add(level_name(levelno), message)
    log.log(levelno, "job %s: %s", job_log.job_id, message, extra={SKIP: True})
