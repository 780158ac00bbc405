"""Who gets in: 401 for missing, invalid, expired and revoked tokens (with WWW-Authenticate);
404 for another subscription (its existence does not leak); 403 outside a token's resource
group, whose subscription-wide lists show only its own resource group."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.integration.security.conftest import RG_OTHER, SUB_B, client
from tests.support.arm import RG, SUB, Arm
from tests.support.servers import STRONGBOX, RunningServer

VAULTS_A = f"/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/vaults"


@pytest.fixture(scope="module")
def vaults(owner: Arm) -> Arm:
    """vault1 in rg-test and vault-other in rg-other, both in subscription A."""
    owner.create_vault()
    other = Arm(owner.http, resource_group=RG_OTHER, vault="vault-other")
    other.create_vault()
    return owner


def _unauthorized(response: object, code: str) -> None:
    assert response.status_code == 401, response.text  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == code  # type: ignore[attr-defined]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")  # type: ignore[attr-defined]


def test_no_or_bad_token_is_401_with_www_authenticate(server: RunningServer, vaults: Arm) -> None:
    with client(server, None) as http:
        _unauthorized(Arm(http).get(vaults.vault_path), "AuthenticationFailed")
    with client(server, "not.a.token") as http:
        _unauthorized(Arm(http).get(vaults.vault_path), "InvalidAuthenticationToken")
    good = server.token(SUB)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    with client(server, forged) as http:
        _unauthorized(Arm(http).get(vaults.vault_path), "InvalidAuthenticationToken")


def test_an_expired_token_is_401(server: RunningServer, vaults: Arm) -> None:
    token = server.token(SUB, ttl="1s")
    time.sleep(1.1)
    with client(server, token) as http:
        _unauthorized(Arm(http).get(vaults.vault_path), "ExpiredAuthenticationToken")


def test_a_revoked_token_is_refused_at_once(server: RunningServer, vaults: Arm) -> None:
    issued = subprocess.run([STRONGBOX, "token", "issue", "--config", str(server.config), "--subscription", SUB,
                             "--role", "Backup Reader"], capture_output=True, text=True, check=True)
    token = issued.stdout.strip()
    token_id = issued.stderr.split("token id: ")[1].split()[0]
    other = server.token(SUB, "Backup Reader")
    with client(server, token) as http, client(server, other) as http_other:
        assert Arm(http).get(vaults.vault_path).status_code == 200
        revoked = subprocess.run([STRONGBOX, "token", "revoke", token_id, "--config", str(server.config)],
                                 capture_output=True, text=True)
        assert revoked.returncode == 0, revoked.stderr
        assert f"token {token_id} revoked" in revoked.stderr
        r = Arm(http).get(vaults.vault_path)
        _unauthorized(r, "InvalidAuthenticationToken")
        assert "revoked" in r.json()["error"]["message"]
        # Only that token: another one of the same role still works.
        assert Arm(http_other).get(vaults.vault_path).status_code == 200
    again = subprocess.run([STRONGBOX, "token", "revoke", token, "--config", str(server.config)],
                           capture_output=True, text=True)
    assert again.returncode == 0 and "already revoked" in again.stderr
    bad = subprocess.run([STRONGBOX, "token", "revoke", "nonsense", "--config", str(server.config)],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "neither a token id" in bad.stderr and "Traceback" not in bad.stderr


def test_another_subscription_is_404_and_shows_nothing(server: RunningServer, vaults: Arm) -> None:
    with client(server, server.token(SUB_B)) as http:
        b = Arm(http, subscription=SUB_B)
        for path in (vaults.vault_path, VAULTS_A, f"{vaults.vault_path}/backupJobs",
                     f"{vaults.item_path('vm-main')}/recoveryPoints", f"/subscriptions/{SUB}"):
            r = b.get(path)
            assert r.status_code == 404, (path, r.text)
            assert r.json()["error"]["code"] == "SubscriptionNotFound"
        # A write is refused the same way, and the vault is untouched.
        r = b.req("DELETE", vaults.vault_path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "SubscriptionNotFound"
        own = b.get(f"/subscriptions/{SUB_B}/providers/Microsoft.RecoveryServices/vaults")
        assert own.status_code == 200 and own.json()["value"] == []
        vms = b.get(f"/subscriptions/{SUB_B}/providers/Microsoft.Compute/virtualMachines", api="2024-07-01")
        assert [vm["name"] for vm in vms.json()["value"]] == ["vm-b"]
        subs = b.get("/subscriptions", api="2022-12-01").json()["value"]
        assert [s["subscriptionId"] for s in subs] == [SUB_B]
    assert vaults.get(vaults.vault_path).status_code == 200


def test_a_resource_group_token_acts_only_in_its_resource_group(server: RunningServer, vaults: Arm) -> None:
    with client(server, server.token(SUB, "Backup Contributor", resource_group=RG_OTHER)) as http:
        scoped = Arm(http, resource_group=RG_OTHER, vault="vault-other")
        assert scoped.get(scoped.vault_path).status_code == 200
        outside = Arm(http)
        for method, path in (("GET", outside.vault_path), ("DELETE", outside.vault_path),
                             ("GET", f"{outside.vault_path}/backupJobs")):
            r = outside.req(method, path)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"]["code"] == "AuthorizationFailed" and RG_OTHER in r.json()["error"]["message"]
        listed = scoped.get(VAULTS_A).json()["value"]
        assert [v["name"] for v in listed] == ["vault-other"]
        vms = scoped.get(f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", api="2024-07-01")
        assert [vm["name"] for vm in vms.json()["value"]] == ["vm-other"]
    assert vaults.get(vaults.vault_path).status_code == 200
    names = {v["name"] for v in vaults.get(VAULTS_A).json()["value"]}
    assert {"vault1", "vault-other"} <= names and RG != RG_OTHER


def test_token_issue_refuses_bad_scope_and_role(server: RunningServer) -> None:
    for args, message in ((["--role", "Backup Admin"], "unknown role"),
                          (["--resource-group", "bad/rg"], "invalid resource group")):
        r = subprocess.run([STRONGBOX, "token", "issue", "--config", str(server.config), "--subscription", SUB, *args],
                           capture_output=True, text=True)
        assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr


def test_a_resource_group_token_cannot_reach_machines_or_locations_of_another(server: RunningServer,
                                                                            vaults: Arm) -> None:
    """Its own vault, but a VM or a restore location in another resource group: 403."""
    with client(server, server.token(SUB, "Backup Contributor", resource_group=RG_OTHER)) as http:
        scoped = Arm(http, resource_group=RG_OTHER, vault="vault-other")
        scoped.create_policy()
        protectable = scoped.get(f"{scoped.vault_path}/backupProtectableItems").json()["value"]
        assert [p["properties"]["friendlyName"] for p in protectable] == ["vm-other"]
        foreign = scoped.item_path("vm-main", vm_rg=RG)
        enable = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                                 "sourceResourceId": scoped.vm_id("vm-main", vm_rg=RG),
                                 "policyId": f"{scoped.vault_path}/backupPolicies/daily"}}
        for method, path, body in (("PUT", foreign, enable), ("GET", foreign, None),
                                   ("POST", f"{foreign}/backup", {"properties": {"objectType": "IaasVMBackupRequest"}})):
            r = scoped.req(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"]["code"] == "AuthorizationFailed"
        # Its own VM: protected, backed up, and restorable only into its own resource group.
        scoped.wait_job(_enable(scoped))
        scoped.wait_job(scoped.follow(scoped.req("POST", f"{scoped.item_path('vm-other', vm_rg=RG_OTHER)}/backup",
                                                 json={"properties": {"objectType": "IaasVMBackupRequest"}})))
        item = scoped.item_path("vm-other", vm_rg=RG_OTHER)
        point = scoped.get(f"{item}/recoveryPoints").json()["value"][0]["name"]
        restore = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                                  "recoveryPointId": point, "sourceResourceId": scoped.vm_id("vm-other", vm_rg=RG_OTHER),
                                  "storageAccountId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                                                      "Microsoft.Storage/storageAccounts/restores1"}}
        r = scoped.req("POST", f"{item}/recoveryPoints/{point}/restore", json=restore)
        assert r.status_code == 403 and r.json()["error"]["code"] == "AuthorizationFailed", r.text
        # The shared virtual clock moves for every subscription: not for a resource-group Owner.
    with client(server, server.token(SUB, "Owner", resource_group=RG_OTHER)) as http:
        r = http.post("/admin/clock", json={"advanceSeconds": 0})
        assert r.status_code == 403 and "whole subscription" in r.json()["error"]["message"]


def _enable(arm: Arm) -> str:
    body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "sourceResourceId": arm.vm_id("vm-other", vm_rg=RG_OTHER),
                           "policyId": f"{arm.vault_path}/backupPolicies/daily"}}
    r = arm.req("PUT", arm.item_path("vm-other", vm_rg=RG_OTHER), json=body)
    assert r.status_code == 202, r.text
    return arm.follow(r)


def test_budget_headers_tell_only_the_callers_own_figures(server: RunningServer, vaults: Arm) -> None:
    with client(server, None) as anonymous:
        for i in range(3):
            r = Arm(anonymous, subscription=SUB_B).get(f"/subscriptions/{SUB_B}/providers/Microsoft.RecoveryServices/vaults")
            assert r.status_code == 401
            assert r.headers["x-ms-ratelimit-remaining-subscription-reads"] == "12000"
    with client(server, server.token(SUB_B)) as http_b:
        b = Arm(http_b, subscription=SUB_B)
        first = int(b.get(f"/subscriptions/{SUB_B}/providers/Microsoft.RecoveryServices/vaults")
                    .headers["x-ms-ratelimit-remaining-subscription-reads"])
        probe = b.get(VAULTS_A)   # another subscription: 404, and B's own budget pays for it
        assert probe.status_code == 404
        # (B's bucket refills 3.3 reads a second: the second figure is first - 1, or first if a token came back)
        assert int(probe.headers["x-ms-ratelimit-remaining-subscription-reads"]) in (first - 1, first)
        assert first < 12000
