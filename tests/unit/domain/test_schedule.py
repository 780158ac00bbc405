"""Schedule slots: daily, weekly, hourly, in the policy's time zone (DST included)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongbox.domain.schedule import ScheduleError, next_slot, parse_schedule, slots_between, zone

UTC = timezone.utc


def daily(times: list[str], tz: str | None = "UTC") -> dict[str, Any]:
    s: dict[str, Any] = {"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                            "scheduleRunFrequency": "Daily", "scheduleRunTimes": times}}
    if tz:
        s["timeZone"] = tz
    return s


def test_daily_slots_are_at_the_run_time_every_day() -> None:
    sched = parse_schedule(daily(["2020-05-05T02:00:00Z"]))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    slots = slots_between(sched, start, start + timedelta(days=10))
    assert slots == [datetime(2026, 3, d, 2, tzinfo=UTC) for d in range(1, 11)]


def test_bounds_are_exclusive_then_inclusive() -> None:
    sched = parse_schedule(daily(["2020-05-05T02:00:00Z"]))
    slot = datetime(2026, 3, 1, 2, tzinfo=UTC)
    assert slots_between(sched, slot, slot + timedelta(days=1)) == [slot + timedelta(days=1)]
    assert slots_between(sched, slot - timedelta(seconds=1), slot) == [slot]
    assert slots_between(sched, slot, slot) == []


def test_run_times_are_wall_clock_times_in_the_policy_zone_across_dst() -> None:
    sched = parse_schedule(daily(["2026-01-01T02:30:00Z"], "W. Europe Standard Time"))
    slots = slots_between(sched, datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    # 02:30 CET is 01:30Z; after the switch to CEST (29 March) 02:30 local is 00:30Z. The 29th's
    # 02:30 does not exist locally: it runs at the same digits with the winter offset.
    assert [s.strftime("%d %H:%M") for s in slots] == ["27 01:30", "28 01:30", "29 01:30", "30 00:30"]


def test_weekly_runs_only_on_its_days() -> None:
    sched = parse_schedule({"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                               "scheduleRunFrequency": "Weekly",
                                               "scheduleRunDays": ["Sunday", "Wednesday"],
                                               "scheduleRunTimes": ["2026-01-01T23:00:00Z"]}})
    slots = slots_between(sched, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC))
    assert [s.strftime("%a %d") for s in slots] == ["Sun 01", "Wed 04", "Sun 08", "Wed 11"]


def test_v2_hourly_runs_every_interval_inside_the_window() -> None:
    sched = parse_schedule({"policyType": "V2", "schedulePolicy": {
        "schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
        "hourlySchedule": {"interval": 4, "scheduleWindowStartTime": "2026-01-01T08:00:00Z",
                           "scheduleWindowDuration": 12}}})
    slots = slots_between(sched, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    assert [s.hour for s in slots] == [8, 12, 16]


def test_v2_daily_and_weekly_read_their_sub_schedules() -> None:
    d = parse_schedule({"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2",
                                           "scheduleRunFrequency": "Daily",
                                           "dailySchedule": {"scheduleRunTimes": ["2026-01-01T05:00:00Z"]}}})
    assert next_slot(d, datetime(2026, 3, 1, 6, tzinfo=UTC)) == datetime(2026, 3, 2, 5, tzinfo=UTC)
    w = parse_schedule({"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2",
                                           "scheduleRunFrequency": "Weekly",
                                           "weeklySchedule": {"scheduleRunDays": ["Friday"],
                                                              "scheduleRunTimes": ["2026-01-01T05:00:00Z"]}}})
    assert next_slot(w, datetime(2026, 3, 1, tzinfo=UTC)) == datetime(2026, 3, 6, 5, tzinfo=UTC)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ScheduleError):
        zone("Mars Standard Time")
    assert str(zone("Pacific Standard Time")) == "America/Los_Angeles"
    assert str(zone("Europe/Paris")) == "Europe/Paris"


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 23), st.sampled_from([0, 30]), st.integers(0, 3000), st.integers(1, 60),
       st.sampled_from(["UTC", "India Standard Time", "Pacific Standard Time", "Tokyo Standard Time"]))
def test_a_daily_schedule_has_one_slot_per_day_in_its_zone(hour: int, minute: int, day: int, days: int,
                                                           tz: str) -> None:
    sched = parse_schedule(daily([f"2026-01-01T{hour:02d}:{minute:02d}:00Z"], tz))
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day, minutes=7)
    slots = slots_between(sched, start, start + timedelta(days=days))
    assert days - 1 <= len(slots) <= days + 1   # DST days may shift one slot across the bounds
    assert all(start < s <= start + timedelta(days=days) for s in slots)
    local = [s.astimezone(zone(tz)) for s in slots]
    assert len({s.date() for s in local}) == len(local)
    assert slots == sorted(slots)
