"""Two server processes on one PostgreSQL database purge each soft-deleted item exactly
once when the (virtual) clock passes its retention period."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path


from tests.integration.schedule.conftest import client, config, daily_policy, write_day
from tests.support.servers import RunningServer, start_server

VMS = ["vm-p1", "vm-p2", "vm-p3"]


def test_two_servers_purge_each_soft_deleted_item_once(tmp_path: Path, pg_url: str) -> None:
    cfg = config(tmp_path, VMS, pg_url)
    for vm in VMS:
        write_day(tmp_path / "src" / vm, 0)
    servers: list[RunningServer] = []
    try:
        servers += [start_server(cfg, tmp_path / "data"), start_server(cfg, tmp_path / "data")]
        arm_a, arm_b = (client(s) for s in servers)
        arm_a.create_vault()                      # Azure's default: soft delete on, 14 days
        daily_policy(arm_a, "daily", daily_days=30)
        purge_times: list[datetime] = []
        for n, vm in enumerate(VMS):
            arm = (arm_a, arm_b)[n % 2]
            arm.wait_job(arm.enable(vm))
            arm.wait_job(arm.backup(vm)[1])
            d = arm.req("DELETE", arm.item_path(vm))
            assert arm.wait_job(arm.follow(d))["properties"]["status"] == "Completed"
            item = arm.get(arm.item_path(vm)).json()["properties"]
            assert item["isScheduledForDeferredDelete"] is True
            purge_times.append(datetime.fromisoformat(item["deferredDeleteTimeInUTC"][:19] + "+00:00"))
        arm_b.advance_to(max(purge_times) + timedelta(seconds=5))
        arm_a.wait_until("the purge jobs", lambda: len(arm_a.jobs("PurgeDeletedData")) >= len(VMS))
        arm_a.quiet()
        time.sleep(1.2)                           # both schedulers have had more passes
        jobs = arm_b.jobs("PurgeDeletedData")
        per_item = Counter(j["properties"]["entityFriendlyName"] for j in jobs)
        assert per_item == Counter(VMS), per_item
        assert all(j["properties"]["status"] == "Completed" for j in jobs)
        assert not any(j["properties"]["isUserTriggered"] for j in jobs)
        for vm in VMS:
            assert arm_a.get(arm_a.item_path(vm)).status_code == 404
        assert arm_b.req("DELETE", arm_b.vault_path, api="2026-11-01").status_code == 200
        arm_a.http.close()
        arm_b.http.close()
    finally:
        for s in servers:
            s.stop()
        for s in servers:
            assert "Traceback" not in s.log(), s.log()
