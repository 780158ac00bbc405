"""Forty simulated days of a daily policy with weekly and monthly retention, in seconds:
scheduled Backup jobs at the policy's times, recovery points kept exactly per the rules,
expired data pruned from the vault's storage, and the kept points restoring bit for bit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.integration.schedule.conftest import ClockArm, client, config, daily_policy, next_midnight, write_day
from tests.support.servers import RunningServer, serving
from tests.support.trees import describe

DAYS = 40
VM = "vm-sched"
SLOT_LAG = timedelta(seconds=20)     # the test lands this long after each 02:00 slot


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with serving(config(tmp_path, [VM], None), tmp_path / "data") as srv:
        yield srv


def _time(text: str) -> datetime:
    """An ISO-8601 UTC time from the wire, to the second."""
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def _all_completed(jobs: list[dict[str, object]], count: int) -> list[dict[str, object]] | None:
    done = [j for j in jobs if j["properties"]["status"] == "Completed"]  # type: ignore[index]
    return jobs if len(jobs) == count and len(done) == count else None


def kept(times: list[datetime], now: datetime) -> set[datetime]:
    """The rules, written out: 7 daily, Sundays for 4 weeks, the 1st of the month for 6 months
    (never reached here), and the latest point always."""
    out = {t for t in times if t + timedelta(days=7) > now}
    out |= {t for t in times if t.weekday() == 6 and t + timedelta(weeks=4) > now}
    out |= {t for t in times if t.day == 1}
    return out | {max(times)}


def vault_bytes(data: Path) -> int:
    return sum(f.stat().st_size for f in (data / "vaults").rglob("*") if f.is_file())


def test_forty_days_of_a_daily_policy(server: RunningServer, tmp_path: Path) -> None:
    arm: ClockArm = client(server)
    src = tmp_path / "src" / VM
    day0 = next_midnight(arm.now())
    arm.advance_to(day0 + timedelta(hours=1))
    arm.create_vault()
    daily_policy(arm, "daily", daily_days=7, weekly_weeks=4, monthly_months=6)
    write_day(src, 0)
    arm.wait_job(arm.enable(VM))
    expected: dict[datetime, dict[str, tuple[object, ...]]] = {}   # slot -> the source as that day's backup saw it
    point_times: list[datetime] = []
    for day in range(DAYS):
        write_day(src, day)
        slot = day0 + timedelta(days=day, hours=2)
        expected[slot] = describe(src)
        arm.advance_to(slot + SLOT_LAG)
        jobs = arm.wait_until(f"the backup of day {day}", lambda: _all_completed(arm.jobs("Backup"), day + 1))
        newest = max(jobs, key=lambda j: j["properties"]["startTime"])["properties"]
        point_times.append(_time(newest["extendedInfo"]["propertyBag"]["Recovery Point Time"]))
        now = arm.advance_to(slot + SLOT_LAG + timedelta(minutes=1))
        want = kept(point_times, now)
        arm.wait_until(f"retention on day {day}", lambda: {_time(p["properties"]["recoveryPointTime"])
                                                           for p in arm.points(VM)} == want or None, timeout=20)
        arm.quiet()

    # the scheduled jobs: one per day, at its slot, not user-triggered, no catch-up
    backups = sorted(arm.jobs("Backup"), key=lambda j: j["properties"]["startTime"])
    assert len(backups) == DAYS
    for day, job in enumerate(backups):
        props = job["properties"]
        slot = day0 + timedelta(days=day, hours=2)
        assert props["status"] == "Completed", props
        assert props["isUserTriggered"] is False
        assert props["extendedInfo"]["propertyBag"]["Scheduled Time"] == slot.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert "Catch-up" not in props["extendedInfo"]["propertyBag"]
        assert slot <= _time(props["startTime"]) < slot + SLOT_LAG + timedelta(seconds=15)

    # exactly the points the rules keep: 7 daily plus the Sundays of the last 4 weeks
    points = arm.points(VM)
    times = sorted(_time(p["properties"]["recoveryPointTime"]) for p in points)
    assert times == sorted(kept(point_times, arm.now()))
    assert 9 <= len(points) <= 12
    expires = {p["name"]: _time(p["properties"]["recoveryPointProperties"]["expiryTime"]) for p in points}
    for p in points:
        t = _time(p["properties"]["recoveryPointTime"])
        days = 28 if t.weekday() == 6 else (183 if t.day == 1 else 7)
        assert abs((expires[p["name"]] - t) - timedelta(days=days)) < timedelta(days=4 if days == 183 else 0,
                                                                                 seconds=1)

    # the expired points' data left the vault's storage
    expiry_jobs = arm.jobs("ExpireRecoveryPoints")
    assert expiry_jobs and all(j["properties"]["status"] == "Completed" for j in expiry_jobs)
    assert all(j["properties"]["isUserTriggered"] is False for j in expiry_jobs)
    deleted = sum(int(j["properties"]["extendedInfo"]["propertyBag"]["Recovery Points Deleted"])
                  for j in expiry_jobs)
    assert deleted == DAYS - len(points)
    stored = vault_bytes(server.data_dir)
    assert stored < (len(points) + 6) * 256 * 1024, stored   # 40 days unpruned would be > 10 MB

    # the item tells the truth
    item = arm.get(arm.item_path(VM)).json()["properties"]
    assert item["protectionState"] == "Protected" and item["lastBackupStatus"] == "Healthy"
    assert item["healthStatus"] == "Passed" and item["policyName"] == "daily"
    assert _time(item["lastRecoveryPoint"]) == max(_time(p["properties"]["recoveryPointTime"]) for p in points)
    assert _time(item["extendedInfo"]["oldestRecoveryPoint"]) == min(
        _time(p["properties"]["recoveryPointTime"]) for p in points)
    assert item["extendedInfo"]["recoveryPointCount"] == len(points)

    # every kept point restores bit for bit to what its day's backup saw
    slot_of = {t: day0 + timedelta(days=i, hours=2) for i, t in enumerate(point_times)}
    for p in points:
        t = _time(p["properties"]["recoveryPointTime"])
        r = arm.req("POST", f"{arm.item_path(VM)}/recoveryPoints/{p['name']}/restore", json={"properties": {
            "objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
            "storageAccountId": arm.storage_account_id("restores1")}})
        assert r.status_code == 202, r.text
        job = arm.wait_job(arm.follow(r))["properties"]
        assert job["status"] == "Completed", job
        target = Path(job["extendedInfo"]["propertyBag"]["Restore Location"])
        assert describe(target / VM) == expected[slot_of[t]]

    # a retention change applies to the existing points too
    daily_policy(arm, "daily", daily_days=30)
    newest = max(arm.points(VM), key=lambda p: p["properties"]["recoveryPointTime"])["properties"]
    assert _time(newest["recoveryPointProperties"]["expiryTime"]) - _time(newest["recoveryPointTime"]) \
        == timedelta(days=30)
    arm.http.close()
    assert datetime.now(timezone.utc) < day0   # the whole simulation ran ahead of real time
