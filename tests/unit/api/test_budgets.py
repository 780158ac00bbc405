"""Request budgets: token buckets per subscription, reads and writes apart, refilled
continuously; an empty bucket throttles with 429 and a true Retry-After."""

from __future__ import annotations

import pytest

from strongbox.api.budgets import READS_PER_HOUR, WRITES_PER_HOUR, RequestBudgets, SubscriptionRequestsThrottled


def test_reads_and_writes_count_apart_per_subscription() -> None:
    budgets = RequestBudgets(clock=lambda: 7200.0)
    assert budgets.spend("SUB-A", "GET") == (READS_PER_HOUR - 1, WRITES_PER_HOUR)
    assert budgets.spend("sub-a", "PUT") == (READS_PER_HOUR - 1, WRITES_PER_HOUR - 1)
    assert budgets.spend("sub-a", "post") == (READS_PER_HOUR - 1, WRITES_PER_HOUR - 2)
    assert budgets.spend("sub-b", "GET") == (READS_PER_HOUR - 1, WRITES_PER_HOUR)


def test_an_empty_bucket_throttles_with_retry_after_until_a_token_is_back() -> None:
    now = [0.0]
    budgets = RequestBudgets(reads_per_hour=10, writes_per_hour=4, clock=lambda: now[0])
    for left in (3, 2, 1, 0):
        assert budgets.spend("s", "DELETE").writes == left
    with pytest.raises(SubscriptionRequestsThrottled) as caught:
        budgets.spend("s", "PUT")
    err = caught.value
    assert err.http_status == 429 and err.code == "SubscriptionRequestsThrottled"
    # 4 an hour: one token every 900 s.
    assert err.headers["Retry-After"] == "900"
    assert err.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert "'write' requests for subscription 's'" in err.message
    # Reads are a separate bucket and still flow; another subscription is untouched.
    assert budgets.spend("s", "GET").reads == 9
    assert budgets.spend("t", "PUT").writes == 3
    now[0] += 450
    with pytest.raises(SubscriptionRequestsThrottled) as again:
        budgets.spend("s", "PUT")
    assert again.value.headers["Retry-After"] == "450"
    now[0] += 450
    assert budgets.spend("s", "PUT").writes == 0


def test_the_bucket_refills_to_its_budget_and_no_further() -> None:
    now = [0.0]
    budgets = RequestBudgets(reads_per_hour=3600, writes_per_hour=60, clock=lambda: now[0])
    for _ in range(99):
        budgets.spend("s", "GET")
    assert budgets.spend("s", "GET").reads == 3500
    now[0] += 50                                     # one read a second comes back
    assert budgets.spend("s", "GET").reads == 3549
    now[0] += 10_000
    assert budgets.spend("s", "GET") == (3599, 60)   # full again, and no further
