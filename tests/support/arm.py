"""A thin ARM client over httpx for the integration tests: it speaks the wire, follows
Azure-AsyncOperation URLs verbatim, and waits for jobs the way Azure's docs say to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

API = "2026-10-01"
SUB = "00000000-0000-0000-0000-00000000a001"
RG = "rg-test"


def daily_policy_body() -> dict[str, Any]:
    """A daily AzureIaasVM policy at 02:00 UTC keeping 7 daily points."""
    return {"properties": {
        "backupManagementType": "AzureIaasVM",
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                           "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                            "dailySchedule": {"retentionTimes": ["2026-01-01T02:00:00Z"],
                                              "retentionDuration": {"count": 7, "durationType": "Days"}}},
        "timeZone": "UTC", "instantRpRetentionRangeInDays": 2}}


@dataclass
class Arm:
    http: httpx.Client
    subscription: str = SUB
    resource_group: str = RG
    vault: str = "vault1"

    @property
    def vault_path(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.RecoveryServices/vaults/{self.vault}")

    def container(self, vm: str, vm_rg: str = RG) -> str:
        return f"IaasVMContainer;iaasvmcontainerv2;{vm_rg};{vm}"

    def item_path(self, vm: str, vm_rg: str = RG) -> str:
        return (f"{self.vault_path}/backupFabrics/Azure/protectionContainers/{self.container(vm, vm_rg)}"
                f"/protectedItems/VM;iaasvmcontainerv2;{vm_rg};{vm}")

    def vm_id(self, vm: str, vm_rg: str = RG) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{vm_rg}/providers/Microsoft.Compute/virtualMachines/{vm}"

    def storage_account_id(self, name: str) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/Microsoft.Storage/storageAccounts/{name}"

    def req(self, method: str, path: str, *, api: str = API, params: dict[str, str] | None = None,
            json: Any = None, content: bytes | None = None) -> httpx.Response:
        q = {"api-version": api, **(params or {})}
        return self.http.request(method, path, params=q, json=json, content=content)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.req("GET", path, **kw)

    # --- setup ---------------------------------------------------------------------------------
    def create_vault(self, *, soft_delete: bool = True, security: dict[str, Any] | None = None) -> dict[str, Any]:
        """Azure's default vault (soft delete on, 14 days), or with soft delete off: tests about
        deleting data at once say so (``soft_delete=False``). ``security``: securitySettings as sent."""
        if security is None and not soft_delete:
            security = {"softDeleteSettings": {"softDeleteState": "Disabled"}}
        properties = {} if security is None else {"securitySettings": security}
        r = self.req("PUT", self.vault_path, api="2026-11-01",
                     json={"location": "westeurope", "sku": {"name": "Standard"}, "properties": properties})
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]

    def create_policy(self, name: str = "daily") -> dict[str, Any]:
        r = self.req("PUT", f"{self.vault_path}/backupPolicies/{name}", json=daily_policy_body())
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def enable(self, vm: str, policy: str = "daily") -> str:
        body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                               "sourceResourceId": self.vm_id(vm),
                               "policyId": f"{self.vault_path}/backupPolicies/{policy}"}}
        r = self.req("PUT", self.item_path(vm), json=body)
        assert r.status_code == 202, r.text
        return self.follow(r)

    # --- async ---------------------------------------------------------------------------------
    def poll(self, url: str, timeout: float = 60.0) -> dict[str, Any]:
        """GET an Azure-AsyncOperation URL (verbatim) until it is no longer InProgress."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.http.get(url)
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"] != "InProgress":
                return body  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, f"operation still InProgress after {timeout}s: {body}"
            time.sleep(0.05)

    def follow(self, response: httpx.Response, timeout: float = 60.0) -> str:
        """202 -> poll its operation to the end -> the jobId."""
        status = self.poll(response.headers["Azure-AsyncOperation"], timeout)
        assert status["status"] == "Succeeded", status
        assert status["properties"]["objectType"] == "OperationStatusJobExtendedInfo"
        return str(status["properties"]["jobId"])

    def job(self, job_id: str, api: str = API) -> dict[str, Any]:
        r = self.get(f"{self.vault_path}/backupJobs/{job_id}", api=api)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def wait_job(self, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["properties"]["status"] not in ("InProgress", "Cancelling"):
                return job
            assert time.monotonic() < deadline, f"job still running after {timeout}s: {job}"
            time.sleep(0.05)

    def wait_progress(self, job_id: str, timeout: float = 30.0) -> None:
        """Wait until a running job shows some progress (it must still be InProgress)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            props = self.job(job_id)["properties"]
            assert props["status"] == "InProgress", props
            if (props["extendedInfo"].get("progressPercentage") or 0) > 0:
                return
            time.sleep(0.05)
        raise AssertionError("the job never showed progress")

    def backup(self, vm: str) -> tuple[httpx.Response, str]:
        r = self.req("POST", f"{self.item_path(vm)}/backup",
                     json={"properties": {"objectType": "IaasVMBackupRequest"}})
        assert r.status_code == 202, r.text
        return r, self.follow(r)

    def points(self, vm: str) -> list[dict[str, Any]]:
        r = self.get(f"{self.item_path(vm)}/recoveryPoints")
        assert r.status_code == 200, r.text
        return r.json()["value"]  # type: ignore[no-any-return]
