"""Soft delete, Undelete, the purge after a moved clock, and the immutable vault, over the
wire against a real server with the virtual clock (serve --virtual-clock)."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.schedule.conftest import ClockArm, daily_policy
from tests.support.arm import RG, SUB
from tests.support.servers import RunningServer, database_param, serving, write_config
from tests.support.trees import describe, make_tree

VMS = ("vm-soft", "vm-purge", "vm-imm")
COMPUTE = "Microsoft.Compute/virtualMachines"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    gen = database_param(request.param)
    db = next(gen)
    root = tmp_path_factory.mktemp(f"soft-{db.kind}")
    for vm in VMS:
        make_tree(root / "src" / vm)
    (root / "src" / "vm-purge" / "unique.bin").write_bytes(os.urandom(2 << 20))   # data only it holds
    sources = [{"subscription": SUB, "resource_group": RG, "name": vm, "paths": [str(root / "src" / vm)]}
               for vm in VMS]
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1",
                  "path": str(root / "restores")}]
    config = write_config(root / "strongbox.toml", {"data_dir": str(root / "data"), "retry_after": 0,
                                                     "virtual_clock": True, "lease_seconds": 6},
                          db.url, sources, locations)
    try:
        with serving(config, root / "data") as srv:
            srv.sources = root / "src"  # type: ignore[attr-defined]
            srv.restores = root / "restores"  # type: ignore[attr-defined]
            yield srv
    finally:
        for _ in gen:
            pass


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                      timeout=30, headers={"Authorization": f"Bearer {server.token(SUB)}"}) as client:
        yield client


def _time(text: str) -> datetime:
    """A wire time (``2026-12-13T12:39:42.4014690Z``), to the microsecond."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    micro = int((fraction + "000000")[:6])
    return datetime.fromisoformat(whole).replace(microsecond=micro, tzinfo=timezone.utc)


def _error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    return str(r.json()["error"]["message"])


def _protected(arm: ClockArm, vm: str, policy: str = "daily") -> None:
    arm.wait_job(arm.enable(vm, policy))
    assert arm.wait_job(arm.backup(vm)[1])["properties"]["status"] == "Completed"


def _delete(arm: ClockArm, vm: str) -> dict[str, Any]:
    r = arm.req("DELETE", arm.item_path(vm))
    assert r.status_code == 202, r.text
    job = arm.wait_job(arm.follow(r))["properties"]
    assert (job["operation"], job["status"]) == ("DeleteBackupData", "Completed"), job
    return job


def _undelete_body(arm: ClockArm, vm: str) -> dict[str, Any]:
    """What ``az backup protection undelete`` sends for a VM."""
    return {"properties": {"protectedItemType": COMPUTE, "protectionState": "ProtectionStopped",
                           "policyId": "", "sourceResourceId": arm.vm_id(vm), "isRehydrate": True}}


def _item(arm: ClockArm, vm: str) -> dict[str, Any]:
    r = arm.get(arm.item_path(vm))
    assert r.status_code == 200, r.text
    return r.json()["properties"]  # type: ignore[no-any-return]


def test_delete_keeps_the_data_soft_deleted_and_undelete_brings_it_back(http: httpx.Client,
                                                                      server: RunningServer) -> None:
    arm = ClockArm(http, vault="vault-soft")
    vault = arm.create_vault()["properties"]["securitySettings"]
    assert vault == {"immutabilitySettings": {"state": "Disabled"},
                     "softDeleteSettings": {"softDeleteState": "Enabled",
                                            "softDeleteRetentionPeriodInDays": 14}}
    daily_policy(arm, "daily", daily_days=7)
    _protected(arm, "vm-soft")
    points = arm.points("vm-soft")
    assert len(points) == 1

    deleted_at = arm.now()
    job = _delete(arm, "vm-soft")
    bag = job["extendedInfo"]["propertyBag"]
    assert bag["Recovery Points Soft Deleted"] == "1"
    item = _item(arm, "vm-soft")
    assert item["isScheduledForDeferredDelete"] is True
    assert item["protectionState"] == "ProtectionStopped" and item["policyId"] == ""
    purge_at = _time(item["deferredDeleteTimeInUTC"])
    assert timedelta(days=14) <= purge_at - deleted_at <= timedelta(days=14, minutes=1)
    assert bag["Permanent Deletion Time"] == item["deferredDeleteTimeInUTC"][:19] + "Z"
    assert item["deferredDeleteTimeRemaining"].startswith(("13.23:", "14.00:00:0")), item
    assert item["isDeferredDeleteScheduleUpcoming"] is False
    listed = arm.get(f"{arm.vault_path}/backupProtectedItems").json()["value"]
    assert [i["properties"]["isScheduledForDeferredDelete"] for i in listed] == [True]
    assert arm.points("vm-soft") == points, "the recovery points are kept"

    # a soft-deleted item is read-only until it is undeleted
    point = points[0]["name"]
    restore = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                              "storageAccountId": arm.storage_account_id("restores1")}}
    _error(arm.req("POST", f"{arm.item_path('vm-soft')}/recoveryPoints/{point}/restore", json=restore),
           400, "ItemSoftDeleted")
    _error(arm.req("POST", f"{arm.item_path('vm-soft')}/backup",
                   json={"properties": {"objectType": "IaasVMBackupRequest"}}), 400, "ItemSoftDeleted")
    enable = {"properties": {"protectedItemType": COMPUTE, "sourceResourceId": arm.vm_id("vm-soft"),
                             "policyId": f"{arm.vault_path}/backupPolicies/daily"}}
    message = _error(arm.req("PUT", arm.item_path("vm-soft"), json=enable), 400, "ItemSoftDeleted")
    assert "isRehydrate" in message
    _error(arm.req("DELETE", arm.item_path("vm-soft")), 400, "ItemSoftDeleted")
    message = _error(arm.req("DELETE", arm.vault_path, api="2026-11-01"), 400, "ServiceResourceNotEmpty")
    assert "soft deleted" in message and "vm-soft" in message

    r = arm.req("PUT", arm.item_path("vm-soft"), json=_undelete_body(arm, "vm-soft"))
    assert r.status_code == 202, r.text
    job = arm.wait_job(arm.follow(r))["properties"]
    assert (job["operation"], job["status"]) == ("Undelete", "Completed"), job
    assert job["extendedInfo"]["propertyBag"]["Recovery Points Retained"] == "1"
    result = arm.http.get(r.headers["Location"])      # what the SDK's poller reads last
    assert result.status_code == 200 and result.json()["properties"]["isScheduledForDeferredDelete"] is False
    item = _item(arm, "vm-soft")
    assert item["protectionState"] == "ProtectionStopped" and item["isScheduledForDeferredDelete"] is False
    assert "deferredDeleteTimeInUTC" not in item
    assert arm.points("vm-soft") == points
    again = arm.req("PUT", arm.item_path("vm-soft"), json=_undelete_body(arm, "vm-soft"))
    _error(again, 400, "ItemNotSoftDeleted")

    # the undeleted points restore, bit for bit
    r = arm.req("POST", f"{arm.item_path('vm-soft')}/recoveryPoints/{point}/restore", json=restore)
    assert r.status_code == 202, r.text
    restored = arm.wait_job(arm.follow(r))["properties"]
    assert restored["status"] == "Completed", restored
    folder = Path(restored["extendedInfo"]["propertyBag"]["Restore Location"])
    source = server.sources / "vm-soft"  # type: ignore[attr-defined]
    assert describe(folder / source.name) == describe(source)


def test_the_purge_after_the_clock_passes_the_retention_period(http: httpx.Client,
                                                               server: RunningServer) -> None:
    arm = ClockArm(http, vault="vault-purge")
    arm.create_vault(security={"softDeleteSettings": {"softDeleteState": "Enabled",
                                                      "softDeleteRetentionPeriodInDays": 20}})
    daily_policy(arm, "daily", daily_days=30)
    _protected(arm, "vm-purge")
    arm.quiet()
    before = _vault_bytes(server)
    _delete(arm, "vm-purge")
    purge_at = _time(_item(arm, "vm-purge")["deferredDeleteTimeInUTC"])
    assert _vault_bytes(server) == before, "soft delete removes nothing yet"

    arm.advance_to(purge_at - timedelta(days=1, minutes=1))
    item = _item(arm, "vm-purge")
    assert item["isScheduledForDeferredDelete"] is True and item["isDeferredDeleteScheduleUpcoming"] is True
    assert item["deferredDeleteTimeRemaining"].startswith("1.00:00:"), item
    time.sleep(1.2)                                    # a scheduler pass: nothing is due yet
    assert arm.jobs("PurgeDeletedData") == []

    arm.advance_to(purge_at + timedelta(seconds=5))
    purges = arm.wait_until("the purge job", lambda: arm.jobs("PurgeDeletedData"))
    arm.quiet()
    time.sleep(1.2)                                    # later passes start no second purge
    purges = arm.jobs("PurgeDeletedData")
    assert len(purges) == 1, purges
    props = purges[0]["properties"]
    assert props["status"] == "Completed" and props["isUserTriggered"] is False
    assert props["entityFriendlyName"] == "vm-purge"
    assert props["extendedInfo"]["propertyBag"]["Recovery Points Deleted"] == "1"
    gone = arm.get(arm.item_path("vm-purge"))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "BMSUserErrorItemNotFound"
    assert _vault_bytes(server) < before - (2 << 20), "the item's data left the vault's storage"
    r = arm.req("PUT", arm.item_path("vm-purge"), json=_undelete_body(arm, "vm-purge"))
    _error(r, 404, "BMSUserErrorItemNotFound")
    assert arm.req("DELETE", arm.vault_path, api="2026-11-01").status_code == 200


def _vault_bytes(server: RunningServer) -> int:
    return sum(f.stat().st_size for f in (server.data_dir / "vaults").rglob("*") if f.is_file())


def test_an_immutable_vault_keeps_every_point_until_it_expires(http: httpx.Client) -> None:
    arm = ClockArm(http, vault="vault-imm")
    security = arm.create_vault(security={"immutabilitySettings": {"state": "Unlocked"}})["properties"]
    assert security["securitySettings"]["immutabilitySettings"] == {"state": "Unlocked"}
    daily_policy(arm, "keep10", daily_days=10)
    _protected(arm, "vm-imm", "keep10")
    expiry = _time(arm.points("vm-imm")[0]["properties"]["recoveryPointProperties"]["expiryTime"])

    # retention: longer is fine, shorter is refused, so is moving the item to a shorter policy
    daily_policy(arm, "keep10", daily_days=12)
    retention = {"retentionPolicyType": "LongTermRetentionPolicy",
                 "dailySchedule": {"retentionTimes": ["2026-01-01T02:00:00Z"],
                                   "retentionDuration": {"count": 3, "durationType": "Days"}}}
    policy = arm.get(f"{arm.vault_path}/backupPolicies/keep10").json()
    policy["properties"]["retentionPolicy"] = retention
    r = arm.req("PUT", f"{arm.vault_path}/backupPolicies/keep10", json={"properties": policy["properties"]})
    assert "shortened from 12 to 3 days" in _error(r, 400, "ImmutableVaultRetentionReduction")
    daily_policy(arm, "keep3", daily_days=3)
    r = arm.req("PUT", arm.item_path("vm-imm"), json={"properties": {
        "protectedItemType": COMPUTE, "policyId": f"{arm.vault_path}/backupPolicies/keep3"}})
    _error(r, 400, "ImmutableVaultRetentionReduction")
    assert arm.points("vm-imm")[0]["properties"]["recoveryPointProperties"]["expiryTime"][:19] == \
        (expiry + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")

    # no deleting data before it expires, and no turning soft delete off
    message = _error(arm.req("DELETE", arm.item_path("vm-imm")), 400, "ImmutableVaultEarlyDeletion")
    assert "not expired" in message
    off = {"location": "westeurope", "properties": {"securitySettings": {
        "softDeleteSettings": {"softDeleteState": "Disabled"}}}}
    _error(arm.req("PUT", arm.vault_path, api="2026-11-01", json=off), 400, "ImmutableVaultEarlyDeletion")

    # Locked is for good
    assert arm.req("PUT", arm.vault_path, api="2026-11-01", json=_immutability("Locked")).status_code == 200
    for state in ("Unlocked", "Disabled"):
        r = arm.req("PUT", arm.vault_path, api="2026-11-01", json=_immutability(state))
        _error(r, 400, "ImmutabilityLocked")
    assert arm.get(arm.vault_path, api="2026-11-01").json()["properties"]["securitySettings"][
        "immutabilitySettings"] == {"state": "Locked"}

    # stop protection keeping the data; once its points have expired the data may go (soft deleted)
    stop = {"properties": {"protectedItemType": COMPUTE, "sourceResourceId": arm.vm_id("vm-imm"),
                           "protectionState": "ProtectionStopped"}}
    arm.wait_job(arm.follow(arm.req("PUT", arm.item_path("vm-imm"), json=stop)))
    arm.advance_to(expiry + timedelta(days=2, minutes=1))
    _delete(arm, "vm-imm")
    assert _item(arm, "vm-imm")["isScheduledForDeferredDelete"] is True


def _immutability(state: str) -> dict[str, Any]:
    security = {"immutabilitySettings": {"state": state}}
    return {"location": "westeurope", "properties": {"securitySettings": security}}


def test_security_settings_are_validated(http: httpx.Client) -> None:
    arm = ClockArm(http, vault="vault-settings")
    for security, code in [({"softDeleteSettings": {"softDeleteState": "Sometimes"}},
                            "InvalidSecuritySettings"),
                           ({"softDeleteSettings": {"softDeleteRetentionPeriodInDays": 7}},
                            "InvalidSecuritySettings"),
                           ({"immutabilitySettings": {"state": "Frozen"}}, "InvalidSecuritySettings"),
                           ({"softDeleteSettings": "on"}, "InvalidRequestContent")]:
        body = {"location": "westeurope", "properties": {"securitySettings": security}}
        _error(arm.req("PUT", arm.vault_path, api="2026-11-01", json=body), 400, code)
    # Azure CLI's `vault create` spells it AlwaysOn; AlwaysON cannot be turned off again
    created = arm.create_vault(security={"softDeleteSettings": {"softDeleteState": "AlwaysOn",
                                                                "softDeleteRetentionPeriodInDays": 30,
                                                                "enhancedSecurityState": "AlwaysOn"}})
    assert created["properties"]["securitySettings"]["softDeleteSettings"] == {
        "softDeleteState": "AlwaysON", "softDeleteRetentionPeriodInDays": 30}
    off = {"location": "westeurope", "properties": {"securitySettings": {"softDeleteSettings": {
        "softDeleteState": "Disabled"}}}}
    _error(arm.req("PUT", arm.vault_path, api="2026-11-01", json=off), 400, "SoftDeleteAlwaysOn")


def test_vault_patch_changes_only_what_it_names(http: httpx.Client) -> None:
    """PATCH (PatchVault, as `az backup vault update --immutability-state` sends it)."""
    arm = ClockArm(http, vault="vault-patch")
    created = arm.req("PUT", arm.vault_path, api="2026-11-01",
                      json={"location": "westeurope", "tags": {"team": "ops"}, "sku": {"name": "Standard"}})
    assert created.status_code == 201, created.text
    before = created.json()["properties"]["securitySettings"]["softDeleteSettings"]
    r = arm.req("PATCH", arm.vault_path, api="2025-01-01", json={"properties": {"securitySettings": {
        "immutabilitySettings": {"state": "Unlocked"}}}})
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == {"team": "ops"} and r.json()["location"] == "westeurope"
    security = r.json()["properties"]["securitySettings"]
    assert security["immutabilitySettings"] == {"state": "Unlocked"} and security["softDeleteSettings"] == before
    r = arm.req("PATCH", arm.vault_path, api="2025-01-01", json={"tags": {"team": "dev"}})
    assert r.status_code == 200 and r.json()["tags"] == {"team": "dev"}
    assert r.json()["properties"]["securitySettings"]["immutabilitySettings"] == {"state": "Unlocked"}
    locked = {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Locked"}}}}
    assert arm.req("PATCH", arm.vault_path, api="2025-01-01", json=locked).status_code == 200
    back = {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Disabled"}}}}
    _error(arm.req("PATCH", arm.vault_path, api="2025-01-01", json=back), 400, "ImmutabilityLocked")
    _error(arm.req("PATCH", arm.vault_path, api="2025-01-01", json=["not", "an", "object"]), 400,
           "InvalidRequestContent")
    missing = arm.req("PATCH", arm.vault_path.replace("vault-patch", "vault-none"), api="2025-01-01",
                      json={"tags": {}})
    assert missing.status_code == 404
