"""How long a recovery point is kept: the expiry a policy's retention gives each point.

Pure functions over the stored ``retentionPolicy`` settings and the facts of an item's
points (time, scheduled or on demand). Dates are the point's local date in the policy's
time zone (:func:`strongbox.domain.schedule.zone`).

Rules (Azure's LongTermRetentionPolicy, as its documentation describes it):
- Every point is a *daily* point: kept ``dailySchedule.retentionDuration`` after its time.
- The first scheduled point of a local day is also
  - a *weekly* point when that day is one of ``weeklySchedule.daysOfTheWeek``;
  - a *monthly* point when the day matches ``monthlySchedule``: format ``Daily`` names days of
    the month (``retentionScheduleDaily.daysOfTheMonth``: ``{"date": 1..28}`` or
    ``{"isLast": true}``), format ``Weekly`` names weekdays of given weeks of the month
    (``retentionScheduleWeekly``: ``daysOfTheWeek`` x ``weeksOfTheMonth`` First..Fourth, Last);
  - a *yearly* point when its month is in ``yearlySchedule.monthsOfYear`` and the day matches
    the yearly schedule the same way.
  Its expiry is the latest of the tiers it belongs to. On-demand points are daily points only.
- A point in no tier (a weekly-only policy and a point off its days) gets the policy's
  shortest configured tier.
- SimpleRetentionPolicy: every point is kept ``retentionDuration``.
- Durations add calendar units: Days, Weeks, Months and Years (the 31st plus one month is
  the last day of the next month).

A point whose client gave ``recoveryPointExpiryTimeInUTC`` keeps it: callers leave such
points out.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from strongbox.domain.schedule import WEEKDAYS

MONTHS = tuple(calendar.month_name)[1:]           # "January" .. "December"
WEEKS_OF_MONTH = ("First", "Second", "Third", "Fourth")
TIERS = ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule")


@dataclass(frozen=True)
class PointFacts:
    id: str
    time: datetime          # aware
    scheduled: bool         # taken by the schedule (not on demand)


def add_duration(start: datetime, count: int, unit: str) -> datetime:
    if unit == "Days":
        return start + timedelta(days=count)
    if unit == "Weeks":
        return start + timedelta(weeks=count)
    months = count * (12 if unit == "Years" else 1)
    if unit not in ("Months", "Years"):
        raise ValueError(f"unknown duration type {unit!r}")
    year, month0 = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return start.replace(year=year, month=month0 + 1, day=day)


def _kept(tier: Mapping[str, Any], start: datetime) -> datetime:
    duration = tier["retentionDuration"]
    return add_duration(start, int(duration["count"]), str(duration["durationType"]))


def _day_matches(tier: Mapping[str, Any], day: date) -> bool:
    """Does ``day`` match a monthly/yearly tier's Daily or Weekly day format?"""
    fmt = tier.get("retentionScheduleFormatType") or ("Daily" if tier.get("retentionScheduleDaily") else "Weekly")
    last_day = calendar.monthrange(day.year, day.month)[1]
    if fmt == "Daily":
        for entry in (tier.get("retentionScheduleDaily") or {}).get("daysOfTheMonth") or []:
            if entry.get("isLast") and day.day == last_day:
                return True
            if not entry.get("isLast") and entry.get("date") == day.day:
                return True
        return False
    weekly = tier.get("retentionScheduleWeekly") or {}
    if WEEKDAYS[day.weekday()] not in (weekly.get("daysOfTheWeek") or []):
        return False
    weeks = weekly.get("weeksOfTheMonth") or []
    ordinal = (day.day - 1) // 7
    return (ordinal < 4 and WEEKS_OF_MONTH[ordinal] in weeks) or ("Last" in weeks and day.day + 7 > last_day)


def tiers_of(retention: Mapping[str, Any], local_day: date, first_of_day: bool) -> list[str]:
    """The tiers a point of ``local_day`` belongs to (``first_of_day``: the day's first
    scheduled point, the only one that can be weekly, monthly or yearly)."""
    tiers = ["dailySchedule"] if retention.get("dailySchedule") else []
    if not first_of_day:
        return tiers
    weekly = retention.get("weeklySchedule")
    if weekly and WEEKDAYS[local_day.weekday()] in (weekly.get("daysOfTheWeek") or []):
        tiers.append("weeklySchedule")
    monthly = retention.get("monthlySchedule")
    if monthly and _day_matches(monthly, local_day):
        tiers.append("monthlySchedule")
    yearly = retention.get("yearlySchedule")
    if yearly and MONTHS[local_day.month - 1] in (yearly.get("monthsOfYear") or []) \
            and _day_matches(yearly, local_day):
        tiers.append("yearlySchedule")
    return tiers


def expiries(retention: Mapping[str, Any], tz: ZoneInfo, points: Sequence[PointFacts]) -> dict[str, datetime]:
    """Each point's expiry under ``retention`` (a stored ``retentionPolicy``)."""
    if retention.get("retentionPolicyType") == "SimpleRetentionPolicy":
        return {p.id: _kept(retention, p.time) for p in points}
    configured = [t for t in TIERS if retention.get(t)]
    if not configured:
        return {}
    shortest = min(configured, key=lambda t: _kept(retention[t], datetime(2000, 1, 1)))
    seen_days: set[date] = set()
    result: dict[str, datetime] = {}
    for point in sorted(points, key=lambda p: (p.time, p.id)):
        day = point.time.astimezone(tz).date()
        first = point.scheduled and day not in seen_days
        if point.scheduled:
            seen_days.add(day)
        tiers = tiers_of(retention, day, first) or [shortest]
        result[point.id] = max(_kept(retention[t], point.time) for t in tiers)
    return result
