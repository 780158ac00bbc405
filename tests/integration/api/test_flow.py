"""The job-tracking flow through the real HTTPS server: enable protection, back up, poll the
operation to its jobId, read the job (also at api-version 2017-07-01), restore bit for bit."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.support.arm import Arm
from tests.support.servers import RunningServer
from tests.support.trees import describe

DURATION = re.compile(r"^P(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_enable_protection_is_a_tracked_configure_job(arm: Arm) -> None:
    job_id = arm.enable("vm-a")
    job = arm.wait_job(job_id)
    assert job["properties"]["operation"] == "ConfigureBackup"
    assert job["properties"]["status"] == "Completed"
    item = arm.get(arm.item_path("vm-a")).json()
    assert item["properties"]["protectionState"] in ("IRPending", "Protected")
    assert item["properties"]["policyName"] == "daily"


def test_backup_is_tracked_by_job_id_and_restores_bit_for_bit(arm: Arm, server: RunningServer) -> None:
    r, job_id = arm.backup("vm-a")
    for header in ("Azure-AsyncOperation", "Location"):
        assert r.headers[header].startswith(server.base_url) and "api-version=2026-10-01" in r.headers[header]
    assert r.headers["Retry-After"] == "0"
    job = arm.wait_job(job_id)
    props = job["properties"]
    assert props["jobType"] == "AzureIaaSVMJob"
    assert props["status"] == "Completed", props
    assert props["operation"] == "Backup"
    assert DURATION.match(props["duration"]) and ISO_Z.match(props["startTime"]) and ISO_Z.match(props["endTime"])
    tasks = props["extendedInfo"]["tasksList"]
    assert [t["taskId"] for t in tasks] == ["Take Snapshot", "Transfer data to vault"]
    assert all(t["status"] == "Completed" for t in tasks)
    bag = props["extendedInfo"]["propertyBag"]
    assert bag["VM Name"] == "vm-a"
    assert bag["Backup Size"].endswith(" MB") and float(bag["Backup Size"].split()[0]) > 0.5
    old = arm.job(job_id, api="2017-07-01")
    assert old["properties"]["status"] == "Completed" and old["properties"]["jobType"] == "AzureIaaSVMJob"
    # vault-level operation resolves the same id
    op_id = r.headers["Azure-AsyncOperation"].split("?")[0].rsplit("/", 1)[-1]
    vop = arm.get(f"{arm.vault_path}/backupOperations/{op_id}").json()
    assert vop["status"] == "Succeeded" and vop["properties"]["jobId"] == job_id

    points = arm.points("vm-a")
    assert points and points[0]["properties"]["objectType"] == "IaasVMRecoveryPoint"
    point = points[0]["name"]
    body = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                           "recoveryPointId": point, "sourceResourceId": arm.vm_id("vm-a"),
                           "storageAccountId": arm.storage_account_id("restores1"), "region": "westeurope"}}
    rr = arm.req("POST", f"{arm.item_path('vm-a')}/recoveryPoints/{point}/restore", json=body)
    assert rr.status_code == 202, rr.text
    restore = arm.wait_job(arm.follow(rr))
    assert restore["properties"]["status"] == "Completed", restore
    target = Path(restore["properties"]["extendedInfo"]["propertyBag"]["Restore Location"])
    assert target.is_relative_to(server.restores)  # type: ignore[attr-defined]
    src = server.sources / "vm-a"  # type: ignore[attr-defined]
    assert describe(target / "www") == describe(src / "www")
    assert (target / "disk0.img").read_bytes() == (src / "disk0.img").read_bytes()


def test_running_job_shows_progress_then_completes(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-big"))
    _, job_id = arm.backup("vm-big")
    seen_progress = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        props = arm.job(job_id, api="2017-07-01")["properties"]
        if props["status"] != "InProgress":
            break
        info = props["extendedInfo"]
        if info.get("progressPercentage") and "estimatedRemainingDuration" in info and "endTime" not in props:
            seen_progress = True
            assert props["actionsInfo"] == ["Cancellable"]
        time.sleep(0.1)
    assert seen_progress
    assert arm.wait_job(job_id)["properties"]["status"] == "Completed"
