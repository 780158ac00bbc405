"""Servers with the virtual clock (serve --virtual-clock), and an ARM client that can move it."""

from __future__ import annotations

import os
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import RunningServer, database_param, write_config


@pytest.fixture
# PostgreSQL for the tests that run two servers on one database (skipped, or failed under CI, without it)
def pg_url() -> Iterator[str]:
    gen = database_param("postgres")
    db = next(gen)
    assert db.url is not None
    yield db.url
    for _ in gen:
        pass


def config(root: Path, vms: list[str], database_url: str | None) -> Path:
    sources = [{"subscription": SUB, "resource_group": RG, "name": vm, "paths": [str(root / "src" / vm)]}
               for vm in vms]
    for vm in vms:
        (root / "src" / vm).mkdir(parents=True, exist_ok=True)
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1", "path": str(root / "restores")}]
    return write_config(root / "strongbox.toml", {"data_dir": str(root / "data"), "retry_after": 0,
                                                  "virtual_clock": True, "job_retention_days": 3650},
                        database_url, sources, locations)


@dataclass
class ClockArm(Arm):
    def now(self) -> datetime:
        r = self.http.get("/admin/clock")
        assert r.status_code == 200, r.text
        return datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))

    def advance_to(self, when: datetime) -> datetime:
        seconds = (when - self.now()).total_seconds()
        assert seconds >= 0, f"{when} is in the past"
        r = self.http.post("/admin/clock", json={"advanceSeconds": seconds})
        assert r.status_code == 200, r.text
        return datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))

    def jobs(self, operation: str | None = None) -> list[dict[str, Any]]:
        params = {"$filter": f"operation eq '{operation}'"} if operation else None
        out: list[dict[str, Any]] = []
        r = self.get(f"{self.vault_path}/backupJobs", params=params)
        while True:
            assert r.status_code == 200, r.text
            body = r.json()
            out += body["value"]
            if not body.get("nextLink"):
                return out
            r = self.http.get(body["nextLink"])

    def wait_until(self, what: str, check: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)

    def quiet(self) -> None:
        self.wait_until("all jobs to finish", lambda: all(
            j["properties"]["status"] not in ("InProgress", "Cancelling") for j in self.jobs()))


def client(server: RunningServer) -> ClockArm:
    http = httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=30, headers={"Authorization": f"Bearer {server.token(SUB)}"})
    return ClockArm(http)


def daily_policy(arm: Arm, name: str, *, daily_days: int, weekly_weeks: int | None = None,
                 monthly_months: int | None = None) -> None:
    at = "2026-01-01T02:00:00Z"
    retention: dict[str, Any] = {"retentionPolicyType": "LongTermRetentionPolicy",
                                 "dailySchedule": {"retentionTimes": [at],
                                                   "retentionDuration": {"count": daily_days, "durationType": "Days"}}}
    if weekly_weeks:
        retention["weeklySchedule"] = {"daysOfTheWeek": ["Sunday"], "retentionTimes": [at],
                                       "retentionDuration": {"count": weekly_weeks, "durationType": "Weeks"}}
    if monthly_months:
        retention["monthlySchedule"] = {"retentionScheduleFormatType": "Daily", "retentionTimes": [at],
                                        "retentionScheduleDaily": {"daysOfTheMonth": [{"date": 1, "isLast": False}]},
                                        "retentionDuration": {"count": monthly_months, "durationType": "Months"}}
    body = {"properties": {"backupManagementType": "AzureIaasVM", "timeZone": "UTC",
                           "instantRpRetentionRangeInDays": 2,
                           "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                              "scheduleRunFrequency": "Daily", "scheduleRunTimes": [at]},
                           "retentionPolicy": retention}}
    r = arm.req("PUT", f"{arm.vault_path}/backupPolicies/{name}", json=body)
    assert r.status_code == 200, r.text


def next_midnight(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def write_day(src: Path, day: int) -> None:
    """A source whose 'today' file is new every day (its data belongs to that day's point
    alone) beside files that never change."""
    src.mkdir(parents=True, exist_ok=True)
    (src / "stable.txt").write_text("the same every day\n" * 100)
    (src / "today.bin").write_bytes(os.urandom(256 * 1024))
    (src / "day.txt").write_text(f"day {day}\n")
