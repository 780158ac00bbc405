"""Request budgets count per subscription, reads and writes apart, and start over each hour."""

from __future__ import annotations

from strongbox.api.budgets import READS_PER_HOUR, WRITES_PER_HOUR, RequestBudgets


def test_reads_and_writes_count_apart_per_subscription_and_hour() -> None:
    now = [7200.0]
    budgets = RequestBudgets(clock=lambda: now[0])
    assert budgets.spend("SUB-A", "GET") == (READS_PER_HOUR - 1, WRITES_PER_HOUR)
    assert budgets.spend("sub-a", "PUT") == (READS_PER_HOUR - 1, WRITES_PER_HOUR - 1)
    assert budgets.spend("sub-a", "post") == (READS_PER_HOUR - 1, WRITES_PER_HOUR - 2)
    assert budgets.spend("sub-b", "GET") == (READS_PER_HOUR - 1, WRITES_PER_HOUR)
    now[0] += 3600
    assert budgets.spend("sub-a", "GET") == (READS_PER_HOUR - 1, WRITES_PER_HOUR)


def test_an_exhausted_budget_reports_zero_not_a_negative_number() -> None:
    budgets = RequestBudgets(clock=lambda: 0.0)
    for _ in range(WRITES_PER_HOUR + 5):
        left = budgets.spend("s", "DELETE")
    assert left == (READS_PER_HOUR, 0)
