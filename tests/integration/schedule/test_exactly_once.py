"""Two server processes on one PostgreSQL database start each scheduled backup exactly
once; a restart after a long stop runs one catch-up backup per item."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path


from strongbox.persistence.database import Database
from tests.integration.schedule.conftest import client, config, daily_policy, next_midnight, write_day
from tests.support.servers import RunningServer, start_server

VMS = ["vm-1", "vm-2"]


def _stop_all(*servers: RunningServer) -> None:
    for s in servers:
        s.stop()
    for s in servers:
        assert "Traceback" not in s.log(), s.log()


def test_two_servers_start_each_scheduled_backup_once(tmp_path: Path, pg_url: str) -> None:
    cfg = config(tmp_path, VMS, pg_url)
    for vm in VMS:
        write_day(tmp_path / "src" / vm, 0)
    a = start_server(cfg, tmp_path / "data")
    b = start_server(cfg, tmp_path / "data")
    arm_a, arm_b = client(a), client(b)
    try:
        day0 = next_midnight(arm_a.now())
        arm_a.advance_to(day0 + timedelta(hours=1))
        arm_a.create_vault()
        daily_policy(arm_a, "daily", daily_days=30)
        for vm in VMS:
            arm_b.wait_job(arm_b.enable(vm))
        days = 4
        for day in range(days):
            (arm_a if day % 2 else arm_b).advance_to(day0 + timedelta(days=day, hours=2, seconds=5))
            arm_a.wait_until(f"day {day}'s backups", lambda: len(arm_a.jobs("Backup")) >= len(VMS) * (day + 1))
            time.sleep(1.2)    # both schedulers have had a pass at the slot
            arm_a.quiet()
        jobs = arm_b.jobs("Backup")
        slots = Counter((j["properties"]["entityFriendlyName"], j["properties"]["extendedInfo"]["propertyBag"]
                         ["Scheduled Time"]) for j in jobs)
        assert len(jobs) == days * len(VMS) and set(slots.values()) == {1}, slots
        assert all(j["properties"]["status"] == "Completed" and not j["properties"]["isUserTriggered"]
                   for j in jobs)
        for vm in VMS:
            assert len(arm_a.points(vm)) == days
    finally:
        arm_a.http.close()
        arm_b.http.close()
        _stop_all(a, b)


def test_a_restart_after_a_long_stop_runs_one_catch_up_per_item(tmp_path: Path) -> None:
    cfg = config(tmp_path, VMS, None)
    for vm in VMS:
        write_day(tmp_path / "src" / vm, 0)
    server = start_server(cfg, tmp_path / "data")
    arm = client(server)
    try:
        day0 = next_midnight(arm.now())
        assert arm.http.post("/admin/clock", json={"advanceSeconds": -5}).status_code == 400
        assert arm.http.post("/admin/clock", json={"advanceSeconds": "5"}).status_code == 400
        assert arm.http.get("/admin/clock", headers={"Authorization": ""}).status_code == 401
        arm.advance_to(day0 + timedelta(hours=1))
        arm.create_vault()
        daily_policy(arm, "daily", daily_days=30)
        for vm in VMS:
            arm.wait_job(arm.enable(vm))
        arm.advance_to(day0 + timedelta(hours=2, seconds=5))
        arm.wait_until("the first backups", lambda: len(arm.jobs("Backup")) == len(VMS))
        arm.quiet()
    finally:
        arm.http.close()
        _stop_all(server)

    # twelve days pass while the server is stopped (the clock lives in the database)
    db = Database(f"sqlite:///{tmp_path / 'data' / 'strongbox.db'}")
    with db.unit_of_work() as uow:
        uow.clock.advance(12 * 86400.0)
    db.dispose()

    server = start_server(cfg, tmp_path / "data")
    arm = client(server)
    try:
        arm.wait_until("the catch-up backups", lambda: len(arm.jobs("Backup")) == 2 * len(VMS))
        time.sleep(2.5)      # a few more scheduler passes: nothing more starts
        arm.quiet()
        jobs = arm.jobs("Backup")
        assert len(jobs) == 2 * len(VMS)
        catch_up = [j["properties"] for j in jobs if "Catch-up" in j["properties"]["extendedInfo"]["propertyBag"]]
        assert sorted(p["entityFriendlyName"] for p in catch_up) == VMS
        for props in catch_up:
            bag = props["extendedInfo"]["propertyBag"]
            assert props["status"] == "Completed" and props["isUserTriggered"] is False
            assert bag["Catch-up"].startswith("missed 11 scheduled backups while the server was stopped")
            assert bag["Scheduled Time"] == (day0 + timedelta(days=12, hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    finally:
        arm.http.close()
        _stop_all(server)
