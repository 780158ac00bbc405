"""Per-subscription request budgets, and throttling past them, as ARM does.

Each subscription has two token buckets, one for reads (GET, HEAD) and one for writes (PUT,
POST, PATCH, DELETE). A bucket holds up to its hourly budget (by default ARM's 12,000 reads
and 1,200 writes) and refills continuously at budget/3600 tokens a second, so a burst of a
whole hour's budget is allowed and a steady rate of budget/hour is sustained. A request
takes one token; with none left it is refused with 429 ``SubscriptionRequestsThrottled`` and
``Retry-After`` set to the whole seconds until a token is back. Every answer reports the
whole tokens left in ``x-ms-ratelimit-remaining-subscription-reads``/``-writes``.

Only authenticated requests spend a budget (the app calls :meth:`spend` after the token is
verified), so nobody without a token can use up a subscription's budget. Counting is per
server process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

from strongbox.domain.errors import StrongboxError

READS_PER_HOUR = 12_000
WRITES_PER_HOUR = 1_200
_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})


class SubscriptionRequestsThrottled(StrongboxError):
    """Number of '{kind}' requests for subscription '{subscription}' exceeded its budget of {budget} an
    hour. Please try again after '{retry_after}' seconds, when additional tokens are available."""

    code = "SubscriptionRequestsThrottled"
    http_status = 429
    exit_code = 6


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class Remaining(NamedTuple):
    reads: int
    writes: int


class RequestBudgets:
    def __init__(self, reads_per_hour: int = READS_PER_HOUR, writes_per_hour: int = WRITES_PER_HOUR,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = {False: float(reads_per_hour), True: float(writes_per_hour)}
        self._clock = clock
        self._buckets: dict[tuple[str, bool], _Bucket] = {}
        self._lock = threading.Lock()

    def _level(self, key: tuple[str, bool], now: float) -> _Bucket:
        capacity = self._capacity[key[1]]
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now)
        else:
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * capacity / 3600.0)
            bucket.stamp = now
        return bucket

    def spend(self, subscription: str, method: str) -> Remaining:
        """Take one token for this request, or raise 429 when its bucket is empty."""
        write = method.upper() in _WRITE_METHODS
        sub = subscription.lower()
        with self._lock:
            now = self._clock()
            bucket = self._level((sub, write), now)
            other = self._level((sub, not write), now)
            if bucket.tokens < 1.0:
                capacity = self._capacity[write]
                wait = math.ceil((1.0 - bucket.tokens) * 3600.0 / capacity)
                err = SubscriptionRequestsThrottled(
                    kind="write" if write else "read", subscription=sub, budget=int(capacity), retry_after=wait)
                err.headers = {"Retry-After": str(wait), **_headers(bucket, other, write)}
                raise err
            bucket.tokens -= 1.0
            return _remaining(bucket, other, write)

    def full(self) -> Remaining:
        """A whole budget: what answers to callers with no verified token report."""
        return Remaining(reads=int(self._capacity[False]), writes=int(self._capacity[True]))


def _remaining(bucket: _Bucket, other: _Bucket, write: bool) -> Remaining:
    writes, reads = (bucket, other) if write else (other, bucket)
    return Remaining(reads=max(int(reads.tokens), 0), writes=max(int(writes.tokens), 0))


def _headers(bucket: _Bucket, other: _Bucket, write: bool) -> dict[str, str]:
    left = _remaining(bucket, other, write)
    return {"x-ms-ratelimit-remaining-subscription-reads": str(left.reads),
            "x-ms-ratelimit-remaining-subscription-writes": str(left.writes)}
