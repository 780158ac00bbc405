"""The Azure CLI, unmodified, from sign-in to backups, jobs and recovery points, against a real
strongbox process; each answer is checked against what the server holds (read over the wire
with httpx and a token of the same subscription).

Setup is only what a user does: ``az cloud register``, ``az config set``, ``az login``, plus
``AZURE_CONFIG_DIR`` and ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongbox.config import DEFAULT_TENANT_ID
from tests.e2e.azcli.conftest import BIG_VM, LOCATION, RG, SUB, VM, Az, AzError
from tests.support.arm import Arm
from tests.support.servers import RunningServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]   # the first run installs azure-cli (~2 min)

VAULT = "az-vault"
POLICY = "daily"
FLOW_BUDGET_S = 150.0


@pytest.fixture(scope="module")
def arm(server: RunningServer) -> Iterator[Arm]:
    http = httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        headers={"Authorization": f"Bearer {server.token(SUB)}"}, timeout=30)
    with http:
        yield Arm(http, subscription=SUB, resource_group=RG, vault=VAULT)


@pytest.fixture(scope="module")
def signed_in(az: Az, server: RunningServer) -> Az:
    """The documented setup: register the cloud, turn instance discovery off, sign in."""
    az.run("cloud", "register", "-n", "Strongbox", "--endpoint-resource-manager", server.base_url)
    az.run("cloud", "set", "-n", "Strongbox")
    az.run("config", "set", "core.instance_discovery=false", "core.collect_telemetry=false")
    clouds = {c["name"]: c for c in az.json("cloud", "list")}
    endpoints = clouds["Strongbox"]["endpoints"]
    assert endpoints["resourceManager"].rstrip("/") == server.base_url
    assert endpoints["activeDirectory"].rstrip("/") == server.base_url
    accounts = az.json("login", "--service-principal", "-u", "strongbox", "-p", server.token(SUB),
                       "--tenant", DEFAULT_TENANT_ID)
    assert [(a["id"], a["tenantId"], a["cloudName"], a["user"]["type"]) for a in accounts] == [
        (SUB, DEFAULT_TENANT_ID, "Strongbox", "servicePrincipal")]
    return az


def _by_name(values: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in values}


def _wait_status(arm: Arm, job_id: str, wanted: set[str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = arm.job(job_id)
        if job["properties"]["status"] in wanted:
            return job
        assert time.monotonic() < deadline, f"job {job_id} never reached {wanted}: {job}"
        time.sleep(0.1)


def _item(arm: Arm, vm: str) -> dict[str, Any]:
    r = arm.get(arm.item_path(vm, RG))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _points(arm: Arm, vm: str) -> list[dict[str, Any]]:
    r = arm.get(f"{arm.item_path(vm, RG)}/recoveryPoints")
    assert r.status_code == 200, r.text
    return r.json()["value"]  # type: ignore[no-any-return]


def _dmy(day: datetime) -> str:
    return day.strftime("%d-%m-%Y")


def test_az_login_account_and_vm(signed_in: Az, server: RunningServer) -> None:
    account = signed_in.json("account", "show")
    assert (account["id"], account["tenantId"], account["state"]) == (SUB, DEFAULT_TENANT_ID, "Enabled")
    token = signed_in.json("account", "get-access-token")
    assert token["subscription"] == SUB and token["tokenType"] == "Bearer"
    vm = signed_in.json("vm", "show", "-g", RG, "-n", VM)
    assert (vm["type"], vm["name"], vm["location"]) == ("Microsoft.Compute/virtualMachines", VM, LOCATION)
    missing = signed_in.run("vm", "show", "-g", RG, "-n", "no-such-vm", check=False)
    assert missing.returncode != 0 and "ResourceNotFound" in missing.stderr


def test_az_backup_flow(signed_in: Az, arm: Arm, tmp_path: Path) -> None:
    az, started = signed_in, time.monotonic()
    g = ["-g", RG, "-v", VAULT]

    # vault create: a GET (404) then a PUT; the server holds it
    vault = az.json("backup", "vault", "create", "-g", RG, "-n", VAULT, "-l", LOCATION)
    held = arm.get(arm.vault_path, api="2026-07-01").json()
    assert (vault["id"], vault["location"], held["location"]) == (held["id"], LOCATION, LOCATION)

    # a policy (az backup policy create), then protect the VM by its friendly name
    policy = {"properties": {
        "backupManagementType": "AzureIaasVM", "timeZone": "UTC", "instantRpRetentionRangeInDays": 2,
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                           "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                            "dailySchedule": {"retentionTimes": ["2026-01-01T02:00:00Z"],
                                              "retentionDuration": {"count": 7, "durationType": "Days"}}}}}
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy))
    created = az.json("backup", "policy", "create", *g, "-n", POLICY, "--policy", str(policy_file),
                      "--backup-management-type", "AzureIaasVM")
    assert created["name"] == POLICY
    configure = az.json("backup", "protection", "enable-for-vm", *g, "--vm", VM, "--policy-name", POLICY)
    assert configure["properties"]["operation"] == "ConfigureBackup"
    held_configure = arm.job(configure["name"])["properties"]
    assert configure["properties"]["status"] == held_configure["status"] == "Completed"
    item = _item(arm, VM)
    assert item["properties"]["protectionState"] in ("IRPending", "Protected")
    assert item["properties"]["policyName"] == POLICY

    # backup now, by friendly names; the job it returns is the server's job
    retain = _dmy(datetime.now(timezone.utc) + timedelta(days=10))
    job = az.json("backup", "protection", "backup-now", *g, "-c", VM, "-i", VM, "--retain-until", retain,
                  "--backup-management-type", "AzureIaasVM")
    backup_id = job["name"]
    assert job["properties"]["operation"] == "Backup" and job["properties"]["entityFriendlyName"] == VM
    done = _wait_status(arm, backup_id, {"Completed"})

    # job show and job wait (the job has finished: wait answers at once, without its 30 s sleep)
    shown = az.json("backup", "job", "show", *g, "-n", backup_id)
    assert shown["properties"]["status"] == "Completed"
    assert [t["taskId"] for t in shown["properties"]["extendedInfo"]["tasksList"]] == \
        [t["taskId"] for t in done["properties"]["extendedInfo"]["tasksList"]]
    bag = shown["properties"]["extendedInfo"]["propertyBag"]
    assert bag == done["properties"]["extendedInfo"]["propertyBag"] and bag["VM Name"] == VM
    waited_at = time.monotonic()
    waited = az.json("backup", "job", "wait", *g, "-n", backup_id, "--timeout", "20")
    assert time.monotonic() - waited_at < 15
    assert waited["properties"]["status"] == "Completed" and waited["name"] == backup_id

    # items and recovery points, as the server holds them
    items = az.json("backup", "item", "list", *g)
    assert [(i["properties"]["friendlyName"], i["properties"]["protectionState"]) for i in items] == \
        [(VM, _item(arm, VM)["properties"]["protectionState"])]
    points = az.json("backup", "recoverypoint", "list", *g, "-c", VM, "-i", VM,
                     "--backup-management-type", "AzureIaasVM")
    held_points = _points(arm, VM)
    assert len(held_points) == 1
    assert sorted(p["name"] for p in points) == sorted(p["name"] for p in held_points)
    assert points[0]["properties"]["recoveryPointTime"].rstrip("Z").startswith(
        held_points[0]["properties"]["recoveryPointTime"].rstrip("Z")[:19])

    # a long backup, stopped with az backup job stop; the worker really cancels it
    az.json("backup", "protection", "enable-for-vm", *g, "--vm", BIG_VM, "--policy-name", POLICY)
    # (native names this time: no --backup-management-type needed)
    big = az.json("backup", "protection", "backup-now", *g, "-c", f"iaasvmcontainerv2;{RG};{BIG_VM}",
                  "-i", f"vm;iaasvmcontainerv2;{RG};{BIG_VM}", "--retain-until", retain)
    big_id = big["name"]
    assert arm.job(big_id)["properties"]["status"] == "InProgress"
    az.run("backup", "job", "stop", *g, "-n", big_id)
    cancelled = _wait_status(arm, big_id, {"Cancelled"})
    assert az.json("backup", "job", "show", *g, "-n", big_id)["properties"]["status"] == "Cancelled"
    assert cancelled["properties"]["endTime"]
    assert _points(arm, BIG_VM) == []

    # job list: all of them, and each filter az can send, against the server's own list
    held_jobs = _by_name(arm.get(f"{arm.vault_path}/backupJobs").json()["value"])
    listed = _by_name(az.json("backup", "job", "list", *g))
    assert set(listed) == set(held_jobs) and {backup_id, big_id, configure["name"]} <= set(listed)
    for name, j in listed.items():
        assert j["properties"]["status"] == held_jobs[name]["properties"]["status"]
        assert j["properties"]["operation"] == held_jobs[name]["properties"]["operation"]

    def names(*flags: str) -> set[str]:
        return set(_by_name(az.json("backup", "job", "list", *g, *flags)))

    assert names("--status", "Completed", "--operation", "Backup") == {backup_id}
    assert names("--status", "Cancelled") == {big_id}
    assert names("--operation", "ConfigureBackup") == {
        n for n, j in held_jobs.items() if j["properties"]["operation"] == "ConfigureBackup"}
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    assert names("--start-date", _dmy(today), "--end-date", _dmy(today + timedelta(days=1))) == set(held_jobs)
    assert names("--start-date", _dmy(today - timedelta(days=20)), "--end-date",
                 _dmy(today - timedelta(days=10))) == set()
    assert names("--start-date", _dmy(today), "--status", "InProgress") == set()

    elapsed = time.monotonic() - started
    timings = ", ".join(f"{cmd} {secs:.1f}s" for cmd, secs in az.timings)
    print(f"\naz flow: {elapsed:.1f}s over {len(az.timings)} az runs: {timings}")
    assert elapsed < FLOW_BUDGET_S, timings


def test_az_login_with_a_wrong_secret_fails_cleanly(az_binary: Path, server: RunningServer,
                                                    tmp_path: Path) -> None:
    fresh = Az(az_binary, tmp_path / "azure-config", server.ca)
    fresh.run("cloud", "register", "-n", "Strongbox", "--endpoint-resource-manager", server.base_url)
    fresh.run("cloud", "set", "-n", "Strongbox")
    fresh.run("config", "set", "core.instance_discovery=false")
    with pytest.raises(AzError) as err:
        fresh.run("login", "--service-principal", "-u", "strongbox", "-p", "not-a-token",
                  "--tenant", DEFAULT_TENANT_ID)
    assert "invalid_client" in str(err.value) or "Invalid client secret" in str(err.value)
