"""Role x route: every authenticated route, called by each of Azure's four backup roles, on
real resources. A role the table allows gets a 2xx (the call really happens); any other
gets 403 AuthorizationFailed and changes nothing.

The table below is written by hand from the issue and Azure's role definitions, not derived
from the code under test; ``test_the_matrix_covers_every_route`` fails when a route is added
without a row here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from strongbox.api.routes import build_router
from tests.integration.security.conftest import client
from tests.support.arm import RG, SUB, Arm, daily_policy_body
from tests.support.servers import RunningServer

READER, OPERATOR, CONTRIBUTOR, OWNER = "Backup Reader", "Backup Operator", "Backup Contributor", "Owner"
ROLES = (READER, OPERATOR, CONTRIBUTOR, OWNER)   # in this order: the destructive calls come last
ALL = frozenset(ROLES)
OPERATE = frozenset({OPERATOR, CONTRIBUTOR, OWNER})
MANAGE = frozenset({CONTRIBUTOR, OWNER})
OWN = frozenset({OWNER})

V = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.RecoveryServices/vaults/{vaultName}"
PI = (V + "/backupFabrics/{fabricName}/protectionContainers/{containerName}/protectedItems/{protectedItemName}")
VAULT = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}


@dataclass
class World:
    """What the Owner set up, for the calls to name."""

    arm: Arm
    job: str
    point: str
    refresh_op: str
    item_op: str
    vault_op: str
    export_op: str
    cancelled_job: str
    cancel_op: str


@dataclass
class Case:
    method: str
    template: str          # the route's template, as routes.py spells it
    allowed: frozenset[str]
    call: Callable[[Arm, World, str], httpx.Response]
    after: Callable[[Arm, httpx.Response], None] | None = None   # wait for what a 2xx started


def _op_id(response: httpx.Response, header: str = "Azure-AsyncOperation") -> str:
    return response.headers[header].split("?")[0].rstrip("/").rsplit("/", 1)[-1]


def _settle(arm: Arm, response: httpx.Response) -> None:
    """Wait until the job a 202 started is over, so the next call finds the item free."""
    job = arm.follow(response)
    arm.wait_job(job)


def _enable_body(arm: Arm, vm: str) -> dict[str, Any]:
    return {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "sourceResourceId": arm.vm_id(vm),
                           "policyId": f"{arm.vault_path}/backupPolicies/daily"}}


def _slow_running_job(arm: Arm) -> str:
    _, job = arm.backup("vm-slow")
    deadline = time.monotonic() + 30
    while arm.job(job)["properties"]["status"] != "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return job


def _cancel(arm: Arm, w: World, role: str) -> httpx.Response:
    # Only roles that may cancel get a running job to cancel; the others try on a finished one
    # and must be refused before the job's state is even looked at.
    job = _slow_running_job(arm) if role in OPERATE else w.job
    return arm.req("POST", f"{arm.vault_path}/backupJobs/{job}/cancel")


def _after_cancel(arm: Arm, response: httpx.Response) -> None:
    job = response.headers["Location"].split("/backupJobs/")[1].split("/")[0]
    assert arm.wait_job(job)["properties"]["status"] == "Cancelled"


def _restore(arm: Arm, w: World, role: str) -> httpx.Response:
    body = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                           "recoveryPointId": w.point, "sourceResourceId": arm.vm_id("vm-main"),
                           "storageAccountId": arm.storage_account_id("restores1")}}
    return arm.req("POST", f"{arm.item_path('vm-main')}/recoveryPoints/{w.point}/restore", json=body)


def _put_item(arm: Arm, w: World, role: str) -> httpx.Response:
    # A Backup Operator enables protection of a new item; the managers modify an existing one.
    vm = "vm-op" if role in (READER, OPERATOR) else "vm-main"
    return arm.req("PUT", arm.item_path(vm), json=_enable_body(arm, vm))


def _delete_item(arm: Arm, w: World, role: str) -> httpx.Response:
    return arm.req("DELETE", arm.item_path({CONTRIBUTOR: "vm-c", OWNER: "vm-o"}.get(role, "vm-c")))


CASES: list[Case] = [
    Case("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.RecoveryServices/vaults", ALL,
         lambda a, w, r: a.get(f"/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/vaults")),
    Case("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.RecoveryServices/vaults",
         ALL, lambda a, w, r: a.get(f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults")),
    Case("PUT", V, MANAGE, lambda a, w, r: a.req("PUT", a.vault_path, api="2026-11-01", json=VAULT)),
    Case("GET", V, ALL, lambda a, w, r: a.get(a.vault_path)),
    Case("PATCH", V, MANAGE, lambda a, w, r: a.req("PATCH", a.vault_path, api="2025-01-01",
                                                   json={"tags": {"patched-by": r}})),
    Case("DELETE", V, OWN, lambda a, w, r: a.req("DELETE", a.vault_path.replace("/vault1", "/scratch"))),
    Case("GET", V + "/backupPolicies", ALL, lambda a, w, r: a.get(f"{a.vault_path}/backupPolicies")),
    Case("PUT", V + "/backupPolicies/{policyName}", MANAGE,
         lambda a, w, r: a.req("PUT", f"{a.vault_path}/backupPolicies/daily", json=daily_policy_body())),
    Case("GET", V + "/backupPolicies/{policyName}", ALL, lambda a, w, r: a.get(f"{a.vault_path}/backupPolicies/daily")),
    Case("DELETE", V + "/backupPolicies/{policyName}", MANAGE,
         lambda a, w, r: a.req("DELETE", f"{a.vault_path}/backupPolicies/drop-{r.split()[-1].lower()}")),
    Case("POST", V + "/backupFabrics/{fabricName}/refreshContainers", OPERATE,
         lambda a, w, r: a.req("POST", f"{a.vault_path}/backupFabrics/Azure/refreshContainers")),
    Case("GET", V + "/backupFabrics/{fabricName}/operationResults/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupFabrics/Azure/operationResults/{w.refresh_op}")),
    Case("GET", V + "/backupFabrics/{fabricName}/operationsStatus/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupFabrics/Azure/operationsStatus/{w.refresh_op}")),
    Case("GET", V + "/backupProtectableItems", ALL, lambda a, w, r: a.get(f"{a.vault_path}/backupProtectableItems")),
    Case("GET", V + "/backupProtectionContainers", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupProtectionContainers")),
    Case("GET", V + "/backupFabrics/{fabricName}/protectionContainers/{containerName}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupFabrics/Azure/protectionContainers/{a.container('vm-main')}")),
    Case("GET", V + "/backupProtectedItems", ALL, lambda a, w, r: a.get(f"{a.vault_path}/backupProtectedItems")),
    Case("GET", PI, ALL, lambda a, w, r: a.get(a.item_path("vm-main"))),
    Case("PUT", PI, OPERATE, _put_item, _settle),
    Case("DELETE", PI, MANAGE, _delete_item, _settle),
    Case("POST", PI + "/backup", OPERATE,
         lambda a, w, r: a.req("POST", f"{a.item_path('vm-main')}/backup",
                               json={"properties": {"objectType": "IaasVMBackupRequest"}}), _settle),
    Case("GET", PI + "/operationsStatus/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.item_path('vm-main')}/operationsStatus/{w.item_op}")),
    Case("GET", PI + "/operationResults/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.item_path('vm-main')}/operationResults/{w.item_op}")),
    Case("GET", PI + "/recoveryPoints", ALL, lambda a, w, r: a.get(f"{a.item_path('vm-main')}/recoveryPoints")),
    Case("GET", PI + "/recoveryPoints/{recoveryPointId}", ALL,
         lambda a, w, r: a.get(f"{a.item_path('vm-main')}/recoveryPoints/{w.point}")),
    Case("POST", PI + "/recoveryPoints/{recoveryPointId}/restore", OPERATE, _restore, _settle),
    Case("GET", V + "/backupOperations/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupOperations/{w.vault_op}")),
    Case("GET", V + "/backupOperationResults/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupOperationResults/{w.vault_op}")),
    Case("GET", V + "/backupJobs", ALL, lambda a, w, r: a.get(f"{a.vault_path}/backupJobs")),
    Case("GET", V + "/backupJobs/operationResults/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupJobs/operationResults/{w.export_op}")),
    Case("GET", V + "/backupJobs/{jobName}", ALL, lambda a, w, r: a.get(f"{a.vault_path}/backupJobs/{w.job}")),
    Case("POST", V + "/backupJobs/{jobName}/cancel", OPERATE, _cancel, _after_cancel),
    Case("GET", V + "/backupJobs/{jobName}/operationResults/{operationId}", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupJobs/{w.cancelled_job}/operationResults/{w.cancel_op}")),
    Case("GET", V + "/backupJobs/{jobName}/logs", ALL,
         lambda a, w, r: a.get(f"{a.vault_path}/backupJobs/{w.job}/logs", params={"since": "1"})),
    Case("POST", V + "/backupJobsExport", ALL, lambda a, w, r: a.req("POST", f"{a.vault_path}/backupJobsExport")),
    Case("GET", "/subscriptions", ALL, lambda a, w, r: a.get("/subscriptions", api="2022-12-01")),
    Case("GET", "/subscriptions/{subscriptionId}", ALL, lambda a, w, r: a.get(f"/subscriptions/{SUB}", api="2022-12-01")),
    Case("GET", "/tenants", ALL, lambda a, w, r: a.get("/tenants", api="2022-12-01")),
    Case("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/virtualMachines", ALL,
         lambda a, w, r: a.get(f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", api="2024-07-01")),
    Case("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines",
         ALL, lambda a, w, r: a.get(f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines",
                                    api="2024-07-01")),
    Case("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}",
         ALL, lambda a, w, r: a.get(a.vm_id("vm-main"), api="2024-07-01")),
    Case("GET", "/admin/clock", ALL, lambda a, w, r: a.http.get("/admin/clock")),
    Case("POST", "/admin/clock", OWN, lambda a, w, r: a.http.post("/admin/clock", json={"advanceSeconds": 0})),
    Case("GET", "/metrics", ALL, lambda a, w, r: a.http.get("/metrics")),
]


@pytest.fixture(scope="module")
def world(owner: Arm) -> World:
    owner.create_vault()
    owner.create_policy()
    for name in ("drop-contributor", "drop-owner"):
        owner.create_policy(name)
    scratch = owner.req("PUT", owner.vault_path.replace("/vault1", "/scratch"), api="2026-11-01", json=VAULT)
    assert scratch.status_code in (200, 201), scratch.text
    for vm in ("vm-main", "vm-c", "vm-o", "vm-d", "vm-slow"):
        owner.wait_job(owner.enable(vm))
    backup, job = owner.backup("vm-main")
    owner.wait_job(job)
    point = owner.points("vm-main")[0]["name"]
    refresh = owner.req("POST", f"{owner.vault_path}/backupFabrics/Azure/refreshContainers")
    assert refresh.status_code == 202
    deleted = owner.req("DELETE", owner.item_path("vm-d"))
    assert deleted.status_code == 202
    _settle(owner, deleted)
    export = owner.req("POST", f"{owner.vault_path}/backupJobsExport")
    assert export.status_code == 202
    cancelled = _slow_running_job(owner)
    cancel = owner.req("POST", f"{owner.vault_path}/backupJobs/{cancelled}/cancel")
    assert cancel.status_code == 202, cancel.text
    _after_cancel(owner, cancel)
    return World(arm=owner, job=job, point=point, refresh_op=_op_id(refresh, "Location"),
                 item_op=_op_id(backup), vault_op=_op_id(deleted), export_op=_op_id(export, "Location"),
                 cancelled_job=cancelled, cancel_op=_op_id(cancel, "Location"))


@pytest.fixture(scope="module")
def tokens(server: RunningServer) -> dict[str, str]:
    return {role: server.token(SUB, role) for role in ROLES}


def test_the_matrix_covers_every_route() -> None:
    served = {(r.method, "/" + "/".join(r.pattern)) for r in build_router(virtual_clock=True).routes if not r.public}
    covered = {(c.method, c.template) for c in CASES}
    assert served == covered


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.template.split('vaults/{vaultName}')[-1][-60:]}")
def test_role_matrix(case: Case, world: World, server: RunningServer, tokens: dict[str, str]) -> None:
    outcomes = {}
    for role in ROLES:
        with client(server, tokens[role]) as http:
            arm = Arm(http)
            response = case.call(arm, world, role)
            outcomes[role] = response.status_code
            if role in case.allowed:
                assert 200 <= response.status_code < 300, (role, response.status_code, response.text)
                if case.after is not None:
                    case.after(world.arm, response)
            else:
                assert response.status_code == 403, (role, response.status_code, response.text)
                error = response.json()["error"]
                assert error["code"] == "AuthorizationFailed"
                assert role in error["message"] and "does not have authorization" in error["message"]
    assert {r for r, s in outcomes.items() if s != 403} == case.allowed


def test_a_backup_operator_enables_protection_but_cannot_stop_or_change_it(
        world: World, server: RunningServer, tokens: dict[str, str]) -> None:
    with client(server, tokens[OPERATOR]) as http:
        arm = Arm(http)
        stop = {"properties": {**_enable_body(arm, "vm-main")["properties"], "protectionState": "ProtectionStopped"}}
        for body in (stop, _enable_body(arm, "vm-main")):
            r = arm.req("PUT", arm.item_path("vm-main"), json=body)
            assert r.status_code == 403, r.text
            assert "manageProtection/action" in r.json()["error"]["message"]
    item = world.arm.get(world.arm.item_path("vm-main")).json()
    assert item["properties"]["protectionState"] != "ProtectionStopped"
