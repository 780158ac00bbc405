"""kill -9 of the server during a backup: after a restart the job ends Failed with a clear
error (never InProgress forever), a new backup succeeds, and the earlier recovery point
still restores bit for bit."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import database_param, start_server, write_config
from tests.support.trees import describe, make_big_source, make_tree


@pytest.fixture(params=["sqlite", "postgres"])
def crash_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    gen = database_param(request.param)
    db = next(gen)
    src = tmp_path / "src"
    make_tree(src / "tree")
    make_big_source(src / "big", 48 << 20)
    config = write_config(tmp_path / "strongbox.toml",
                          {"data_dir": str(tmp_path / "data"), "retry_after": 0, "io_limit_mbps": 15, "lease_seconds": 6},
                          db.url, [{"subscription": SUB, "resource_group": RG, "name": "vm-c",
                                    "paths": [str(src / "tree"), str(src / "big")]}],
                          [{"subscription": SUB, "resource_group": RG, "name": "restores1",
                            "path": str(tmp_path / "restores")}])
    yield config, tmp_path / "data", src
    for _ in gen:
        pass


def _client(server) -> httpx.Client:  # type: ignore[no-untyped-def]
    return httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=30, headers={"Authorization": f"Bearer {server.token(SUB)}"})


def test_kill_9_during_backup_then_restart(crash_env: tuple[Path, Path, Path]) -> None:
    config, data, src = crash_env
    first = start_server(config, data)
    try:
        with _client(first) as http:
            arm = Arm(http)
            arm.create_vault()
            arm.create_policy()
            arm.wait_job(arm.enable("vm-c"))
            done = arm.wait_job(arm.backup("vm-c")[1])
            assert done["properties"]["status"] == "Completed"
            point = arm.points("vm-c")[0]["name"]
            for f in (src / "big").iterdir():   # new mtimes: the files cache must not skip them
                os.utime(f)
            _, job_id = arm.backup("vm-c")
            deadline = time.monotonic() + 30
            while True:
                props = arm.job(job_id)["properties"]
                assert props["status"] == "InProgress" and time.monotonic() < deadline, (props["duration"], props["extendedInfo"])
                if (props["extendedInfo"].get("progressPercentage") or 0) > 0:
                    break
                time.sleep(0.05)
    finally:
        first.kill9()

    second = start_server(config, data)
    try:
        with _client(second) as http:
            arm = Arm(http)
            job = arm.wait_job(job_id, timeout=30)["properties"]
            assert job["status"] == "Failed"
            assert job["errorDetails"][0]["errorString"].startswith("The process running this job stopped")
            assert "endTime" in job
            again = arm.wait_job(arm.backup("vm-c")[1])
            assert again["properties"]["status"] == "Completed"
            body = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                                   "recoveryPointId": point, "storageAccountId": arm.storage_account_id("restores1")}}
            r = arm.req("POST", f"{arm.item_path('vm-c')}/recoveryPoints/{point}/restore", json=body)
            assert r.status_code == 202, r.text
            restored = arm.wait_job(arm.follow(r))["properties"]
            assert restored["status"] == "Completed", restored
            target = Path(restored["extendedInfo"]["propertyBag"]["Restore Location"])
            assert describe(target / "tree") == describe(src / "tree")
            for f in (src / "big").iterdir():
                assert (target / "big" / f.name).read_bytes() == f.read_bytes()
    finally:
        second.stop()
    assert "Traceback" not in second.log()
