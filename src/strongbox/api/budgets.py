"""Per-subscription request budgets, as ARM counts them: 12,000 reads and 1,200 writes an
hour. Every response reports what is left of its subscription's budget in
``x-ms-ratelimit-remaining-subscription-reads``/``-writes``. Counting is per process and per
clock hour; refusing requests past the budget (429 with ``Retry-After``) belongs to throttling.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

READS_PER_HOUR = 12_000
WRITES_PER_HOUR = 1_200
_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})


class RequestBudgets:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._hour = -1
        self._used: dict[tuple[str, bool], int] = {}
        self._lock = threading.Lock()

    def spend(self, subscription: str, method: str) -> tuple[int, int]:
        """Count one request; return what is left of (reads, writes) this hour."""
        write = method.upper() in _WRITE_METHODS
        sub = subscription.lower()
        with self._lock:
            hour = int(self._clock() // 3600)
            if hour != self._hour:
                self._hour, self._used = hour, {}
            self._used[(sub, write)] = self._used.get((sub, write), 0) + 1
            reads = READS_PER_HOUR - self._used.get((sub, False), 0)
            writes = WRITES_PER_HOUR - self._used.get((sub, True), 0)
        return max(reads, 0), max(writes, 0)
