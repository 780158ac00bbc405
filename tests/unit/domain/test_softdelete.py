"""softdelete: which security-setting changes are allowed, the remaining time as Azure writes
it, and which retention changes an immutable vault refuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from strongbox.domain.errors import ImmutabilityLocked, ImmutableVaultEarlyDeletion, SoftDeleteAlwaysOn
from strongbox.domain.softdelete import (
    ImmutabilityState as Imm,
)
from strongbox.domain.softdelete import (
    SecuritySettings,
    change_settings,
    purge_time,
    retention_reductions,
    time_remaining,
)
from strongbox.domain.softdelete import (
    SoftDeleteState as Soft,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def test_defaults_are_azures() -> None:
    s = SecuritySettings()
    assert (s.soft_delete, s.soft_delete_days, s.immutability) == (Soft.ENABLED, 14, Imm.DISABLED)
    assert s.soft_delete_on and not s.immutable
    assert purge_time(T0, s) == T0 + timedelta(days=14)


def test_states_parse_case_insensitively() -> None:
    assert Soft.parse("AlwaysOn") is Soft.ALWAYS_ON and Soft.parse("alwaysON") is Soft.ALWAYS_ON
    assert Soft.parse("Invalid") is None and Imm.parse("LOCKED") is Imm.LOCKED and Imm.parse("On") is None


@pytest.mark.parametrize(("current", "change", "expected"), [
    (SecuritySettings(), {"soft_delete": Soft.DISABLED}, SecuritySettings(soft_delete=Soft.DISABLED)),
    (SecuritySettings(), {"soft_delete_days": 30}, SecuritySettings(soft_delete_days=30)),
    (SecuritySettings(), {"immutability": Imm.LOCKED}, SecuritySettings(immutability=Imm.LOCKED)),
    (SecuritySettings(immutability=Imm.UNLOCKED), {"immutability": Imm.DISABLED}, SecuritySettings()),
    (SecuritySettings(soft_delete=Soft.DISABLED), {"soft_delete": Soft.ALWAYS_ON},
     SecuritySettings(soft_delete=Soft.ALWAYS_ON)),
    (SecuritySettings(immutability=Imm.LOCKED), {"soft_delete_days": 90},
     SecuritySettings(immutability=Imm.LOCKED, soft_delete_days=90)),
])
def test_allowed_changes(current: SecuritySettings, change: dict[str, Any],
                         expected: SecuritySettings) -> None:
    assert change_settings(current, **change) == expected


@pytest.mark.parametrize(("current", "change", "error"), [
    (SecuritySettings(immutability=Imm.LOCKED), {"immutability": Imm.UNLOCKED}, ImmutabilityLocked),
    (SecuritySettings(immutability=Imm.LOCKED), {"immutability": Imm.DISABLED}, ImmutabilityLocked),
    (SecuritySettings(soft_delete=Soft.ALWAYS_ON), {"soft_delete": Soft.ENABLED}, SoftDeleteAlwaysOn),
    (SecuritySettings(soft_delete=Soft.ALWAYS_ON), {"soft_delete": Soft.DISABLED}, SoftDeleteAlwaysOn),
    (SecuritySettings(immutability=Imm.UNLOCKED), {"soft_delete": Soft.DISABLED},
     ImmutableVaultEarlyDeletion),
    (SecuritySettings(soft_delete=Soft.DISABLED), {"immutability": Imm.UNLOCKED},
     ImmutableVaultEarlyDeletion),
])
def test_refused_changes(current: SecuritySettings, change: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        change_settings(current, **change)


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(days=13, hours=23, minutes=59, seconds=58.7), "13.23:59:58"),
    (timedelta(hours=5, seconds=3), "05:00:03"),
    (timedelta(days=1), "1.00:00:00"),
    (timedelta(seconds=-30), "00:00:00"),
])
def test_time_remaining_is_a_dotnet_timespan(delta: timedelta, text: str) -> None:
    assert time_remaining(T0 + delta, T0) == text


def _daily(count: int, unit: str = "Days", **tiers: dict[str, Any]) -> dict[str, Any]:
    return {"retentionPolicyType": "LongTermRetentionPolicy",
            "dailySchedule": {"retentionDuration": {"count": count, "durationType": unit}}, **tiers}


WEEKLY = {"daysOfTheWeek": ["Sunday"], "retentionDuration": {"count": 4, "durationType": "Weeks"}}


def test_retention_reductions() -> None:
    assert retention_reductions(_daily(7), _daily(7)) == []
    assert retention_reductions(_daily(7), _daily(2, "Weeks")) == []
    assert retention_reductions(_daily(30), _daily(3)) == ["daily retention shortened from 30 to 3 days"]
    assert retention_reductions(_daily(1, "Months"), _daily(30)) != [], "a month is more than 30 days"
    assert retention_reductions(_daily(7, weeklySchedule=WEEKLY), _daily(7)) == \
        ["weekly retention removed (was 28 days)"]
    assert retention_reductions(_daily(7), _daily(7, weeklySchedule=WEEKLY)) == []
    simple = {"retentionPolicyType": "SimpleRetentionPolicy",
              "retentionDuration": {"count": 10, "durationType": "Days"}}
    assert retention_reductions(simple, _daily(9)) == ["daily retention shortened from 10 to 9 days"]
    assert retention_reductions(_daily(9), simple) == []
