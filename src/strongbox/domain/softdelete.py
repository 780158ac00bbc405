"""Soft delete and the immutable vault: a vault's security settings and the rules they impose.

Azure's model (``properties.securitySettings`` of a Recovery Services vault):

- **Soft delete** (``softDeleteSettings``): ``Enabled`` (the default for a new vault),
  ``Disabled`` or ``AlwaysON`` (enabled for good: it can no longer be turned off, nor back to
  a reversible ``Enabled``), with ``softDeleteRetentionPeriodInDays`` from 14 (the default)
  to 180. While it is on, deleting an item's backup data (``DELETE`` protected item) keeps
  the item and its recovery points for the period, shown as ``isScheduledForDeferredDelete``;
  an *Undelete* brings the item back with protection stopped; when the period ends a purge
  removes the data for good. Changing the period later does not move items already deleted.
  Items soft deleted before soft delete is turned off stay soft deleted until their time.
- **Immutability** (``immutabilitySettings.state``): ``Disabled``, ``Unlocked`` (on, and can
  be turned off again) or ``Locked`` (on for good). While it is on, nothing may remove a
  recovery point before its expiry: no shorter retention in a policy (or an item moved to a
  policy that keeps its points less long), no deleting an item's data while any of its
  points is unexpired, and no turning soft delete off.

Pure functions over settings and retention documents; the services apply them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from strongbox.domain.errors import ImmutabilityLocked, ImmutableVaultEarlyDeletion, SoftDeleteAlwaysOn

DEFAULT_SOFT_DELETE_DAYS = 14
SOFT_DELETE_DAYS_RANGE = (14, 180)
#: ``isDeferredDeleteScheduleUpcoming``: the last two days, when Azure mails its final warning.
UPCOMING_PURGE = timedelta(days=2)


class SoftDeleteState(str, enum.Enum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    ALWAYS_ON = "AlwaysON"      # Azure's spelling in the spec; clients also send "AlwaysOn"

    @classmethod
    def parse(cls, text: str) -> SoftDeleteState | None:
        return {s.value.lower(): s for s in cls}.get(text.lower())


class ImmutabilityState(str, enum.Enum):
    DISABLED = "Disabled"
    UNLOCKED = "Unlocked"
    LOCKED = "Locked"

    @classmethod
    def parse(cls, text: str) -> ImmutabilityState | None:
        return {s.value.lower(): s for s in cls}.get(text.lower())


@dataclass(frozen=True)
class SecuritySettings:
    soft_delete: SoftDeleteState = SoftDeleteState.ENABLED
    soft_delete_days: int = DEFAULT_SOFT_DELETE_DAYS
    immutability: ImmutabilityState = ImmutabilityState.DISABLED

    @property
    def soft_delete_on(self) -> bool:
        return self.soft_delete is not SoftDeleteState.DISABLED

    @property
    def immutable(self) -> bool:
        return self.immutability is not ImmutabilityState.DISABLED


def change_settings(current: SecuritySettings, *, soft_delete: SoftDeleteState | None = None,
                    soft_delete_days: int | None = None,
                    immutability: ImmutabilityState | None = None) -> SecuritySettings:
    """The settings after a change asking for the given values (None: keep), or the error
    that forbids it."""
    wanted = SecuritySettings(
        soft_delete=soft_delete if soft_delete is not None else current.soft_delete,
        soft_delete_days=soft_delete_days if soft_delete_days is not None else current.soft_delete_days,
        immutability=immutability if immutability is not None else current.immutability)
    locked, always_on = ImmutabilityState.LOCKED, SoftDeleteState.ALWAYS_ON
    if current.immutability is locked and wanted.immutability is not locked:
        raise ImmutabilityLocked(state=wanted.immutability.value)
    if current.soft_delete is always_on and wanted.soft_delete is not always_on:
        raise SoftDeleteAlwaysOn(state=wanted.soft_delete.value)
    if wanted.immutable and not wanted.soft_delete_on:
        raise ImmutableVaultEarlyDeletion(detail="soft delete cannot be off in an immutable vault")
    return wanted


def purge_time(deleted_at: datetime, settings: SecuritySettings) -> datetime:
    return deleted_at + timedelta(days=settings.soft_delete_days)


def time_remaining(purge_at: datetime, now: datetime) -> str:
    """``deferredDeleteTimeRemaining`` as .NET writes a TimeSpan (``d.hh:mm:ss``), never negative."""
    seconds = max(0, int((purge_at - now).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}.{clock}" if days else clock


# --- retention that an immutable vault must not shorten ---------------------------------------

_TIERS = ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule")
_DAYS_PER_UNIT = {"Days": 1.0, "Weeks": 7.0, "Months": 365.25 / 12, "Years": 365.25}


def _days(duration: Any) -> float | None:
    if not isinstance(duration, Mapping):
        return None
    try:
        return float(duration["count"]) * _DAYS_PER_UNIT[str(duration["durationType"])]
    except (KeyError, TypeError, ValueError):
        return None


def retention_days(retention: Mapping[str, Any]) -> dict[str, float]:
    """How long each tier of a stored ``retentionPolicy`` keeps its points, in days."""
    if retention.get("retentionPolicyType") == "SimpleRetentionPolicy":
        days = _days(retention.get("retentionDuration"))
        return {} if days is None else {"dailySchedule": days}
    found: dict[str, float] = {}
    for tier in _TIERS:
        schedule = retention.get(tier)
        days = _days(schedule.get("retentionDuration")) if isinstance(schedule, Mapping) else None
        if days is not None:
            found[tier] = days
    return found


def retention_reductions(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What ``new`` keeps less long than ``old`` (tiers dropped or shortened), for a message;
    empty when nothing is reduced."""
    before, after = retention_days(old), retention_days(new)
    reduced = []
    for tier, days in before.items():
        name = tier.removesuffix("Schedule")
        if tier not in after:
            reduced.append(f"{name} retention removed (was {days:g} days)")
        elif after[tier] < days:
            reduced.append(f"{name} retention shortened from {days:g} to {after[tier]:g} days")
    return reduced
