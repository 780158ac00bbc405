"""Vaults and policies: create/update/get/list/delete, and deletes refused while in use."""

from __future__ import annotations

from tests.support.arm import Arm


def test_vault_lifecycle(arm: Arm) -> None:
    other = Arm(arm.http, vault="vault-life")
    created = other.create_vault(soft_delete=False)    # deleted data goes at once: the vault can go too
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert created["id"].endswith("/vaults/vault-life") and created["type"] == "Microsoft.RecoveryServices/vaults"
    again = other.req("PUT", other.vault_path, api="2026-11-01", json={"location": "westeurope", "tags": {"env": "t"}})
    assert again.status_code == 200 and again.json()["tags"] == {"env": "t"}
    # a PUT that leaves securitySettings out keeps them
    assert again.json()["properties"]["securitySettings"]["softDeleteSettings"]["softDeleteState"] == "Disabled"
    listed = arm.get(f"/subscriptions/{arm.subscription}/providers/Microsoft.RecoveryServices/vaults").json()["value"]
    assert {"vault1", "vault-life"} <= {v["name"] for v in listed}
    # case-insensitive addressing, as ARM does
    assert arm.get(other.vault_path.upper().replace("SUBSCRIPTIONS", "subscriptions")
                   .replace(arm.subscription.upper(), arm.subscription)).status_code == 200
    other.create_policy("p1")
    other.wait_job(other.enable("vm-a", "p1"))
    refused = other.req("DELETE", other.vault_path)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ServiceResourceNotEmpty"
    in_use = other.req("DELETE", f"{other.vault_path}/backupPolicies/p1")
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "BMSUserErrorPolicyInUse"
    d = other.req("DELETE", other.item_path("vm-a"))
    assert other.wait_job(other.poll(d.headers["Azure-AsyncOperation"])["properties"]["jobId"])["properties"]["status"] == "Completed"
    assert other.req("DELETE", f"{other.vault_path}/backupPolicies/p1").status_code == 200
    assert other.get(f"{other.vault_path}/backupPolicies/p1").status_code == 404
    assert other.req("DELETE", other.vault_path).status_code == 200
    assert other.get(other.vault_path).json()["error"]["code"] == "ResourceNotFound"
    assert other.req("DELETE", other.vault_path).status_code == 204


def test_policy_round_trip(arm: Arm) -> None:
    created = arm.create_policy("weekly-ish")
    props = created["properties"]
    assert props["backupManagementType"] == "AzureIaasVM" and props["protectedItemsCount"] == 0
    assert props["schedulePolicy"]["schedulePolicyType"] == "SimpleSchedulePolicy"
    got = arm.get(f"{arm.vault_path}/backupPolicies/WEEKLY-ISH").json()
    assert got["name"] == "weekly-ish" and got["properties"]["retentionPolicy"] == props["retentionPolicy"]
    names = {p["name"] for p in arm.get(f"{arm.vault_path}/backupPolicies").json()["value"]}
    assert {"daily", "weekly-ish"} <= names
    assert arm.get(f"{arm.vault_path}/backupPolicies",
                   params={"$filter": "backupManagementType eq 'AzureStorage'"}).json()["value"] == []
