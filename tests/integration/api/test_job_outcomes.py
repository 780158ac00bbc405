"""How jobs end: cancelled mid-run, completed with warnings that name the file, failed with
errorDetails when the source vanished, conflict on a second backup, and protection changes
as tracked jobs (DisableBackup, DeleteBackupData)."""

from __future__ import annotations

import os
import time

from tests.support.arm import Arm
from tests.support.servers import RunningServer


def test_cancel_stops_a_running_backup(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-big"))
    _, job_id = arm.backup("vm-big")
    arm.wait_progress(job_id)
    # a second backup while one runs is Azure's conflict
    second = arm.req("POST", f"{arm.item_path('vm-big')}/backup",
                     json={"properties": {"objectType": "IaasVMBackupRequest"}})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "UserErrorBackupOperationInProgress"
    before = len(arm.points("vm-big"))
    r = arm.req("POST", f"{arm.vault_path}/backupJobs/{job_id}/cancel")
    assert r.status_code == 202 and "/operationResults/" in r.headers["Location"]
    job = arm.wait_job(job_id)
    assert job["properties"]["status"] == "Cancelled", __import__("json").dumps(job["properties"], indent=1)
    assert job["properties"]["actionsInfo"] == []
    statuses = [t["status"] for t in job["properties"]["extendedInfo"]["tasksList"]]
    assert "Cancelled" in statuses
    assert len(arm.points("vm-big")) == before
    done = arm.http.get(r.headers["Location"])
    assert done.status_code == 204
    # cancelling a finished job is refused with a specific code
    again = arm.req("POST", f"{arm.vault_path}/backupJobs/{job_id}/cancel")
    assert again.status_code == 400 and again.json()["error"]["code"] == "BMSUserErrorJobNotCancellable"


def test_unreadable_file_completes_with_warnings_naming_it(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-warn"))
    _, job_id = arm.backup("vm-warn")
    props = arm.wait_job(job_id)["properties"]
    assert props["status"] == "CompletedWithWarnings"
    assert any(e["errorString"].split(":")[0].endswith("/pipe") for e in props["errorDetails"]), props["errorDetails"]
    assert props["extendedInfo"]["propertyBag"]["Files With Warnings"] == "1"


def test_file_changing_while_read_completes_with_warnings(arm: Arm, server: RunningServer) -> None:
    arm.wait_job(arm.enable("vm-grow"))
    _, job_id = arm.backup("vm-grow")
    arm.wait_progress(job_id)          # the one 96 MiB file is being read (paced at 20 MB/s)
    growing = server.sources / "vm-grow" / "growing.log"  # type: ignore[attr-defined]
    with open(growing, "ab") as f:
        f.write(b"appended while the backup reads this file")
    props = arm.wait_job(job_id)["properties"]
    assert props["status"] == "CompletedWithWarnings", __import__("json").dumps(props, indent=1)
    assert any("growing.log" in e["errorString"] and "changed" in e["errorString"] for e in props["errorDetails"])
    assert arm.points("vm-grow"), "the snapshot is still taken, with the file as read"


def test_vanished_source_fails_with_error_details(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-gone"))
    _, job_id = arm.backup("vm-gone")
    props = arm.wait_job(job_id)["properties"]
    assert props["status"] == "Failed"
    err = props["errorDetails"][0]
    assert err["errorString"] and isinstance(err["errorCode"], int)
    assert "vm-gone" in err["errorString"]
    item = arm.get(arm.item_path("vm-gone")).json()["properties"]
    assert item["lastBackupStatus"] == "Unhealthy"


def test_stop_protection_keeps_data_then_delete_removes_it(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    points = len(arm.points("vm-a"))
    assert points >= 1
    body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "sourceResourceId": arm.vm_id("vm-a"), "protectionState": "ProtectionStopped"}}
    r = arm.req("PUT", arm.item_path("vm-a"), json=body)
    assert r.status_code == 202
    stop = arm.wait_job(arm.follow(r))["properties"]
    assert stop["operation"] == "DisableBackup" and stop["status"] == "Completed"
    item = arm.get(arm.item_path("vm-a")).json()["properties"]
    assert item["protectionState"] == "ProtectionStopped"
    assert len(arm.points("vm-a")) == points
    refused = arm.req("POST", f"{arm.item_path('vm-a')}/backup", json={"properties": {"objectType": "IaasVMBackupRequest"}})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "BMSUserErrorItemNotProtected"

    d = arm.req("DELETE", arm.item_path("vm-a"))
    assert d.status_code == 202
    assert "/backupOperations/" in d.headers["Azure-AsyncOperation"]
    assert "/backupOperationResults/" in d.headers["Location"]
    status = arm.poll(d.headers["Azure-AsyncOperation"])
    assert status["status"] == "Succeeded"
    job = arm.wait_job(status["properties"]["jobId"])["properties"]
    assert job["operation"] == "DeleteBackupData" and job["status"] == "Completed"
    assert arm.http.get(d.headers["Location"]).status_code == 204
    gone = arm.get(arm.item_path("vm-a"))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "BMSUserErrorItemNotFound"
    # protect it again for tests that follow
    arm.wait_job(arm.enable("vm-a"))
    assert arm.points("vm-a") == []


def test_delete_data_waits_for_a_backup_running_in_the_same_vault(arm: Arm, server: RunningServer) -> None:
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    arm.wait_job(arm.enable("vm-big"))
    for f in (server.sources / "vm-big").iterdir():  # type: ignore[attr-defined]
        os.utime(f)                                   # re-read (paced): the backup holds its lock a while
    _, backup_id = arm.backup("vm-big")
    arm.wait_progress(backup_id)
    d = arm.req("DELETE", arm.item_path("vm-a"))
    vault_op = arm.get(d.headers["Azure-AsyncOperation"].split("?")[0].replace(server.base_url, ""))
    delete_id = vault_op.json()["properties"]["jobId"]
    waited = False
    deadline = time.monotonic() + 60
    while arm.job(backup_id)["properties"]["status"] == "InProgress" and time.monotonic() < deadline:
        tasks = arm.job(delete_id)["properties"]["extendedInfo"]["tasksList"]
        waited |= any("waiting for another operation" in t.get("taskExecutionDetails", "") for t in tasks)
        time.sleep(0.05)
    assert waited, "the prune should wait for the backup's vault lock, and say so"
    assert arm.wait_job(backup_id)["properties"]["status"] == "Completed"
    assert arm.wait_job(delete_id)["properties"]["status"] == "Completed"
    arm.wait_job(arm.enable("vm-a"))
