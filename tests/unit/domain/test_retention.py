"""Retention: which tiers a point belongs to, and its expiry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from strongbox.domain.retention import PointFacts, add_duration, expiries
from strongbox.domain.schedule import zone

UTC = timezone.utc
TZ = zone("UTC")


def duration(count: int, kind: str) -> dict[str, Any]:
    return {"retentionDuration": {"count": count, "durationType": kind}}


LTR: dict[str, Any] = {
    "retentionPolicyType": "LongTermRetentionPolicy",
    "dailySchedule": duration(7, "Days"),
    "weeklySchedule": {"daysOfTheWeek": ["Sunday"], **duration(4, "Weeks")},
    "monthlySchedule": {"retentionScheduleFormatType": "Daily",
                        "retentionScheduleDaily": {"daysOfTheMonth": [{"date": 1}]}, **duration(6, "Months")},
    "yearlySchedule": {"retentionScheduleFormatType": "Weekly", "monthsOfYear": ["January"],
                       "retentionScheduleWeekly": {"daysOfTheWeek": ["Monday"], "weeksOfTheMonth": ["First"]},
                       **duration(2, "Years")},
}


def at(y: int, m: int, d: int, h: int = 2) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def test_each_point_gets_the_longest_tier_it_belongs_to() -> None:
    points = [PointFacts("tue", at(2026, 3, 3), True),      # daily only
              PointFacts("sun", at(2026, 3, 8), True),      # weekly
              PointFacts("first", at(2026, 4, 1), True),    # monthly (the 1st)
              PointFacts("jan", at(2027, 1, 4), True)]      # first Monday of January: yearly
    got = expiries(LTR, TZ, points)
    assert got["tue"] == at(2026, 3, 10)
    assert got["sun"] == at(2026, 4, 5)
    assert got["first"] == at(2026, 10, 1)
    assert got["jan"] == at(2029, 1, 4)


def test_only_the_first_scheduled_point_of_a_day_is_weekly_and_on_demand_is_daily_only() -> None:
    points = [PointFacts("sun-1", at(2026, 3, 8, 2), True), PointFacts("sun-2", at(2026, 3, 8, 14), True),
              PointFacts("sun-od", at(2026, 3, 8, 1), False)]
    got = expiries(LTR, TZ, points)
    assert got["sun-1"] == at(2026, 4, 5, 2)
    assert got["sun-2"] == at(2026, 3, 15, 14)
    assert got["sun-od"] == at(2026, 3, 15, 1)


def test_monthly_weekly_format_and_last_day() -> None:
    retention = {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": duration(7, "Days"),
                 "monthlySchedule": {"retentionScheduleFormatType": "Weekly",
                                     "retentionScheduleWeekly": {"daysOfTheWeek": ["Friday"],
                                                                 "weeksOfTheMonth": ["Last"]},
                                     **duration(3, "Months")}}
    got = expiries(retention, TZ, [PointFacts("a", at(2026, 3, 27), True), PointFacts("b", at(2026, 3, 20), True)])
    assert got == {"a": at(2026, 6, 27), "b": at(2026, 3, 27)}
    last = {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": duration(7, "Days"),
            "monthlySchedule": {"retentionScheduleFormatType": "Daily",
                                "retentionScheduleDaily": {"daysOfTheMonth": [{"isLast": True}]},
                                **duration(1, "Months")}}
    assert expiries(last, TZ, [PointFacts("feb", at(2026, 2, 28), True)]) == {"feb": at(2026, 3, 28)}


def test_local_dates_decide_the_tier() -> None:
    # 23:30Z on Saturday is already Sunday in Tokyo
    got = expiries(LTR, zone("Tokyo Standard Time"), [PointFacts("p", datetime(2026, 3, 7, 23, 30, tzinfo=UTC), True)])
    assert got["p"] == datetime(2026, 4, 4, 23, 30, tzinfo=UTC)


def test_simple_retention_and_calendar_months() -> None:
    simple = {"retentionPolicyType": "SimpleRetentionPolicy", **duration(2, "Weeks")}
    assert expiries(simple, TZ, [PointFacts("x", at(2026, 1, 1), True)]) == {"x": at(2026, 1, 15)}
    assert add_duration(at(2026, 1, 31), 1, "Months") == at(2026, 2, 28)
    assert add_duration(at(2024, 2, 29), 1, "Years") == at(2025, 2, 28)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2000), st.integers(1, 120))
def test_daily_points_are_kept_exactly_the_daily_count(offset: int, days: int) -> None:
    start = at(2024, 1, 1) + timedelta(days=offset)
    points = [PointFacts(str(i), start + timedelta(days=i), True) for i in range(days)]
    got = expiries(LTR, TZ, points)
    for p in points:
        assert got[p.id] >= p.time + timedelta(days=7)
        weekday = p.time.strftime("%A")
        if weekday != "Sunday" and p.time.day != 1 and not (p.time.month == 1 and weekday == "Monday"
                                                              and p.time.day <= 7):
            assert got[p.id] == p.time + timedelta(days=7)
