"""Progress reporting and cooperative cancellation.

A :class:`ProgressMeter` owns the counters of one operation; workers add to it from any
thread and it calls the user's callback at most ~10 times a second (and once at the end).
A :class:`CancelToken` is checked between chunks; ``raise_if_cancelled`` raises
:class:`Cancelled`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from strongbox.dataplane.errors import Cancelled


@dataclass
class Progress:
    phase: str  # "scan" | "backup" | "restore" | "check" | "prune"
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    elapsed: float
    rate: float
    eta_seconds: float | None
    current_path: str | None


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on cancel; True if cancelled."""
        return self._event.wait(seconds)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class ProgressMeter:
    INTERVAL = 0.1

    def __init__(self, phase: str, callback: ProgressCallback | None,
                 bytes_total: int = 0, files_total: int = 0) -> None:
        self.phase = phase
        self.callback = callback
        self.bytes_total = bytes_total
        self.files_total = files_total
        self.bytes_done = 0
        self.files_done = 0
        self.current_path: str | None = None
        self.start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def add(self, nbytes: int = 0, files: int = 0, path: str | None = None) -> None:
        if self.callback is None:  # counters are only read by reports; nobody listens
            self.bytes_done += nbytes
            self.files_done += files
            return
        with self._lock:
            self.bytes_done += nbytes
            self.files_done += files
            if path is not None:
                self.current_path = path
        self.maybe_report()

    def maybe_report(self, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last < self.INTERVAL:
                return
            self._last = now
            snap = self.snapshot(now)
        self.callback(snap)

    def snapshot(self, now: float | None = None) -> Progress:
        elapsed = (now or time.monotonic()) - self.start
        rate = self.bytes_done / elapsed if elapsed > 0 else 0.0
        eta = None
        if rate > 0 and self.bytes_total >= self.bytes_done:
            eta = (self.bytes_total - self.bytes_done) / rate
        return Progress(self.phase, self.bytes_done, self.bytes_total, self.files_done,
                        self.files_total, elapsed, rate, eta, self.current_path)

    def finish(self) -> None:
        self.maybe_report(force=True)
