"""The virtual clock (``strongbox serve --virtual-clock``): real time plus an offset that an
Owner moves forward (``POST /admin/clock``), so that a month of schedules and retention can
be tested in seconds.

Invariants:
- The offset lives in the database (``virtual_clock``), so every process sharing it shares
  one time; it only grows, so time never runs backwards.
- Reading the clock never touches the database: a refresher thread re-reads the offset
  every ``refresh`` seconds (and the process that advances it knows at once). Callers may
  read the clock inside their own units of work, even on SQLite, without waiting for a lock.
- Leases (worker heartbeats, the reaper's expiry) keep real time (``ServiceContext.lease_clock``):
  jumping the clock a day must not make a running job look dead.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from strongbox.services.context import utc_now

if TYPE_CHECKING:
    from strongbox.persistence.database import Database

log = logging.getLogger("strongbox.clock")


class VirtualClock:
    def __init__(self, db: Database, *, refresh: float = 0.2) -> None:
        self.db, self.refresh = db, refresh
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self) -> datetime:
        return utc_now() + timedelta(seconds=self._offset)

    @property
    def offset(self) -> float:
        return self._offset

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (no arguments) whenever the offset is seen to grow."""
        self._listeners.append(listener)

    def load(self) -> None:
        with self.db.unit_of_work() as uow:
            offset = uow.clock.offset()
        self._set(offset)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the virtual clock only moves forward")
        with self.db.unit_of_work() as uow:
            offset = uow.clock.advance(seconds)
        self._set(offset)
        return self()

    def _set(self, offset: float) -> None:
        grew = offset > self._offset
        self._offset = max(self._offset, offset)
        if grew:
            for listener in self._listeners:
                listener()

    def start(self) -> None:
        self.load()
        self._thread = threading.Thread(target=self._loop, name="strongbox-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh):
            try:
                self.load()
            except Exception:  # the database may be briefly unavailable; keep the last offset
                log.exception("reading the virtual clock failed")
