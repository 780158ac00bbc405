"""When a policy's backups run: the slot times of an AzureIaasVM schedule, in its time zone.

Pure functions over the policy settings as stored (``Policy.settings``: the camelCase
``schedulePolicy`` and ``timeZone`` the client sent, validated at the edge).

Semantics (Azure's, as far as the API exposes them):
- ``timeZone`` is a Windows time-zone id ("UTC", "W. Europe Standard Time", ...) or an IANA
  name ("Europe/Berlin"); absent means UTC. Run times are wall-clock times in that zone: only
  the hour and minute of each ``scheduleRunTimes`` entry count, never its date or offset
  (Azure sends "2026-01-01T02:00:00Z" and means 02:00 in the policy's zone).
- SimpleSchedulePolicy: ``Daily`` runs at every run time each day; ``Weekly`` on each of
  ``scheduleRunDays``.
- SimpleSchedulePolicyV2 (policyType V2): ``dailySchedule`` / ``weeklySchedule`` as above;
  ``Hourly`` runs every ``interval`` hours from ``scheduleWindowStartTime`` while the offset
  from the window start is below ``scheduleWindowDuration`` hours (start 08:00, interval 4,
  duration 12: 08:00, 12:00, 16:00), every day.
- A wall-clock time that does not exist on a DST day (the spring gap) runs at the same
  wall-clock digits read with the earlier offset (zoneinfo's ``fold=0``); a repeated one runs
  once, at its first occurrence.

Slots are aware UTC datetimes; :func:`slots_between` returns those in ``(after, until]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # date.weekday()

# Windows time-zone ids Azure policies use, mapped to IANA (the common ones; IANA names are
# accepted as they are).
WINDOWS_ZONES = {
    "utc": "UTC", "coordinated universal time": "UTC", "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik", "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest", "romance standard time": "Europe/Paris",
    "central european standard time": "Europe/Warsaw", "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kiev", "gtb standard time": "Europe/Bucharest",
    "russian standard time": "Europe/Moscow", "turkey standard time": "Europe/Istanbul",
    "israel standard time": "Asia/Jerusalem", "south africa standard time": "Africa/Johannesburg",
    "arabian standard time": "Asia/Dubai", "india standard time": "Asia/Kolkata",
    "singapore standard time": "Asia/Singapore", "china standard time": "Asia/Shanghai",
    "tokyo standard time": "Asia/Tokyo", "korea standard time": "Asia/Seoul",
    "aus eastern standard time": "Australia/Sydney", "new zealand standard time": "Pacific/Auckland",
    "eastern standard time": "America/New_York", "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver", "us mountain standard time": "America/Phoenix",
    "pacific standard time": "America/Los_Angeles", "alaskan standard time": "America/Anchorage",
    "hawaiian standard time": "Pacific/Honolulu", "atlantic standard time": "America/Halifax",
    "e. south america standard time": "America/Sao_Paulo", "sa pacific standard time": "America/Bogota",
}


class ScheduleError(ValueError):
    """A schedule the settings cannot describe (the edge turns it into a policy error)."""


def zone(name: str | None) -> ZoneInfo:
    """The policy's time zone; :class:`ScheduleError` for a name neither Windows nor IANA."""
    if not name:
        return ZoneInfo("UTC")
    iana = WINDOWS_ZONES.get(name.strip().lower(), name.strip())
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"timeZone '{name}' is not a known time zone (a Windows time-zone id such as "
                            "'UTC' or 'W. Europe Standard Time', or an IANA name)") from None


def wall_time(text: str) -> time:
    """The hour and minute of an ISO-8601 date-time (its date and offset are ignored)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"'{text}' is not an ISO-8601 date-time") from None
    return time(parsed.hour, parsed.minute)


@dataclass(frozen=True)
class Schedule:
    """Which local times of which days a policy runs at."""

    tz: ZoneInfo
    times: tuple[time, ...]                 # local run times of a run day, sorted
    weekdays: frozenset[int] | None = None  # date.weekday() values; None: every day

    def local_times(self, day: date) -> list[datetime]:
        if self.weekdays is not None and day.weekday() not in self.weekdays:
            return []
        return [datetime.combine(day, t, tzinfo=self.tz) for t in self.times]


def parse_schedule(settings: Mapping[str, Any]) -> Schedule:
    """The schedule of stored policy settings; :class:`ScheduleError` if it cannot run."""
    tz = zone(settings.get("timeZone"))
    policy = settings.get("schedulePolicy") or {}
    kind, frequency = policy.get("schedulePolicyType"), policy.get("scheduleRunFrequency")
    if kind == "SimpleSchedulePolicyV2":
        if frequency == "Hourly":
            return _hourly(tz, policy.get("hourlySchedule") or {})
        sub = policy.get("dailySchedule" if frequency == "Daily" else "weeklySchedule") or {}
    else:
        sub = policy
    times = tuple(sorted({wall_time(t) for t in sub.get("scheduleRunTimes") or []}))
    if not times:
        raise ScheduleError("the schedule has no run times")
    if frequency == "Weekly":
        days = sub.get("scheduleRunDays") or []
        return Schedule(tz, times, frozenset(WEEKDAYS.index(d) for d in days if d in WEEKDAYS))
    if frequency != "Daily":
        raise ScheduleError(f"scheduleRunFrequency {frequency!r} is not supported")
    return Schedule(tz, times)


def _hourly(tz: ZoneInfo, hourly: Mapping[str, Any]) -> Schedule:
    start = wall_time(str(hourly.get("scheduleWindowStartTime", "")))
    interval, duration = int(hourly.get("interval", 0)), int(hourly.get("scheduleWindowDuration", 0))
    if interval <= 0 or duration <= 0:
        raise ScheduleError("an hourly schedule needs a positive interval and window duration")
    first = start.hour * 60 + start.minute
    minutes = [first + k * interval * 60 for k in range(24) if k * interval < duration]
    return Schedule(tz, tuple(sorted({time((m // 60) % 24, m % 60) for m in minutes})))


def slots_between(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Every slot in ``(after, until]``, ascending, as aware UTC datetimes."""
    if until <= after:
        return []
    first = after.astimezone(schedule.tz).date() - timedelta(days=1)
    last = until.astimezone(schedule.tz).date() + timedelta(days=1)
    found: set[datetime] = set()
    day = first
    while day <= last:
        for local in schedule.local_times(day):
            slot = local.astimezone(timezone.utc)
            if after < slot <= until:
                found.add(slot)
        day += timedelta(days=1)
    return sorted(found)


def next_slot(schedule: Schedule, after: datetime) -> datetime | None:
    """The first slot strictly after ``after`` (None for a schedule with no run day)."""
    if schedule.weekdays is not None and not schedule.weekdays:
        return None
    found = slots_between(schedule, after, after + timedelta(days=8))
    return found[0] if found else None
