"""The whole life of a protected VM, driven by Azure's official Python SDK (unmodified) over
HTTPS against a real strongbox process, once per backup api-version the SDK can be pinned to.

Protected and protectable items are read by mapping access (``item.properties["…"]``):
11.x resolves their two-level discriminators to the base classes only.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservices.models import SecuritySettings, SoftDeleteSettings, Sku, Vault, VaultProperties
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
from azure.mgmt.recoveryservicesbackup.models import (
    AzureIaaSComputeVMProtectedItem,
    AzureIaaSVMJob,
    AzureIaaSVMJobTaskDetails,
    AzureIaaSVMProtectionPolicy,
    BackupRequestResource,
    DailyRetentionSchedule,
    ExportJobsOperationResultInfo,
    IaasVMBackupRequest,
    IaasVMRecoveryPoint,
    IaasVMRestoreRequest,
    LongTermRetentionPolicy,
    OperationStatusJobExtendedInfo,
    ProtectedItemResource,
    ProtectionPolicyResource,
    RestoreRequestResource,
    RetentionDuration,
    SimpleSchedulePolicy,
)

from tests.e2e.sdk.env import API_VERSIONS, PAGE_SIZE, RESTORE_ACCOUNT, RG, SUB, Names
from tests.e2e.sdk.sdk_helpers import (
    container_and_item,
    job_filter_time,
    last_segment,
    raw,
    wait_job,
    wait_operation,
)
from tests.support.servers import RunningServer
from tests.support.trees import describe

FLOW_BUDGET_S = 40.0       # "well under a minute" per api-version
LRO_TIMEOUT_S = 30.0
IAAS = "backupManagementType eq 'AzureIaasVM'"
REFRESH_STATUS_SINCE = "2026-10-01"   # protection_container_refresh_operation_statuses.get: method_added_on


def policy_properties() -> AzureIaaSVMProtectionPolicy:
    run = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)
    return AzureIaaSVMProtectionPolicy(
        schedule_policy=SimpleSchedulePolicy(schedule_run_frequency="Daily", schedule_run_times=[run]),
        retention_policy=LongTermRetentionPolicy(daily_schedule=DailyRetentionSchedule(
            retention_times=[run], retention_duration=RetentionDuration(count=7, duration_type="Days"))),
        time_zone="UTC", instant_rp_retention_range_in_days=2)


class Flow:
    """One api-version's walk through the SDK, step by step, keeping what later steps need."""

    def __init__(self, api_version: str, server: RunningServer, vc: RecoveryServicesClient,
                 bc: RecoveryServicesBackupClient) -> None:
        self.n = Names(api_version)
        self.server, self.vc, self.bc = server, vc, bc
        self.vault = self.n.vault
        self.jobs: dict[str, str] = {}          # jobId -> what it was
        self.policy_id = ""

    # --- common arguments ------------------------------------------------------------------------
    def v(self) -> dict[str, str]:
        return {"vault_name": self.vault, "resource_group_name": RG}

    def item_args(self, vm: str) -> dict[str, str]:
        return {**self.v(), "fabric_name": "Azure", "container_name": Names.container(vm),
                "protected_item_name": Names.item(vm)}

    def job(self, job_id: str) -> Any:
        return self.bc.job_details.get(**self.v(), job_name=job_id)

    # --- steps -----------------------------------------------------------------------------------
    def create_vault(self) -> None:
        # soft delete off: this flow's delete_backup_data deletes at once (soft delete: test_soft_delete.py)
        no_soft_delete = SecuritySettings(soft_delete_settings=SoftDeleteSettings(soft_delete_state="Disabled"))
        poller = self.vc.vaults.begin_create_or_update(
            resource_group_name=RG, vault_name=self.vault,
            vault=Vault(location="westeurope", sku=Sku(name="Standard"),
                        properties=VaultProperties(public_network_access="Enabled", security_settings=no_soft_delete)))
        vault = poller.result(timeout=LRO_TIMEOUT_S)
        assert poller.done()
        assert vault.properties.security_settings.soft_delete_settings.soft_delete_state == "Disabled"
        assert vault.name == self.vault and vault.location == "westeurope"
        assert vault.properties.provisioning_state == "Succeeded"
        assert vault.id.lower().endswith(f"/vaults/{self.vault}".lower())
        got = self.vc.vaults.get(resource_group_name=RG, vault_name=self.vault)
        assert got.id == vault.id

    def create_policy(self) -> None:
        policy = self.bc.protection_policies.create_or_update(
            **self.v(), policy_name="daily",
            parameters=ProtectionPolicyResource(properties=policy_properties()))
        assert policy is not None and policy.name == "daily"
        assert isinstance(policy.properties, AzureIaaSVMProtectionPolicy)
        assert policy.properties.backup_management_type == "AzureIaasVM"
        assert isinstance(policy.properties.schedule_policy, SimpleSchedulePolicy)
        assert isinstance(policy.properties.retention_policy, LongTermRetentionPolicy)
        self.policy_id = policy.id
        got = self.bc.protection_policies.get(**self.v(), policy_name="daily")
        assert got.id == policy.id

    def refresh_containers(self) -> None:
        r = self.bc.protection_containers.refresh(**self.v(), fabric_name="Azure", filter=IAAS, cls=raw)
        assert r.status_code == 202
        op = last_segment(r.headers["Location"])
        deadline = time.monotonic() + LRO_TIMEOUT_S
        while True:
            res = self.bc.protection_container_refresh_operation_results.get(
                **self.v(), fabric_name="Azure", operation_id=op, cls=raw)
            if res.status_code != 202:
                break
            assert time.monotonic() < deadline, "refresh still running"
            time.sleep(0.05)
        assert res.status_code == 204
        args = {"resource_group_name": RG, "vault_name": self.vault, "fabric_name": "Azure",
                "operation_id": op}
        if self.n.api_version < REFRESH_STATUS_SINCE:
            # 11.2.0 refuses this call client-side below its method_added_on, before any request
            with pytest.raises(ValueError, match="not available in API version"):
                self.bc.protection_container_refresh_operation_statuses.get(**args)
            return
        status = self.bc.protection_container_refresh_operation_statuses.get(**args)
        assert status.status == "Succeeded" and status.name == op

    def protectable(self, vm: str) -> tuple[str, str]:
        found = {}
        for p in self.bc.backup_protectable_items.list(**self.v(), filter=IAAS):
            found[p.properties["friendlyName"]] = p
        assert vm in found, sorted(found)
        p = found[vm]
        assert p.properties["protectableItemType"] == "Microsoft.Compute/virtualMachines"
        assert p.properties["virtualMachineId"].lower() == Names.vm_id(vm).lower()
        container, item = container_and_item(p.id)
        assert (container.lower(), item.lower()) == (Names.container(vm).lower(), Names.item(vm).lower())
        return container, item

    def enable(self, vm: str) -> None:
        self.protectable(vm)
        poller = self.bc.protected_items.begin_create_or_update(
            **self.item_args(vm), parameters=ProtectedItemResource(properties=AzureIaaSComputeVMProtectedItem(
                policy_id=self.policy_id, source_resource_id=Names.vm_id(vm))))
        item = poller.result(timeout=LRO_TIMEOUT_S)
        assert poller.done()
        assert item.properties["protectionState"] in ("IRPending", "Protected")
        assert item.properties["policyId"].lower() == self.policy_id.lower()
        assert item.properties["protectedItemType"] == "Microsoft.Compute/virtualMachines"
        got = self.bc.protected_items.get(**self.item_args(vm))
        assert got.properties["friendlyName"] == vm

    def trigger_backup(self, vm: str) -> tuple[str, str]:
        """-> (operation id, job id), tracked at item level and at vault level."""
        expiry = datetime.now(timezone.utc) + timedelta(days=30)
        r = self.bc.backups.trigger(**self.item_args(vm), parameters=BackupRequestResource(
            properties=IaasVMBackupRequest(recovery_point_expiry_time_in_utc=expiry)), cls=raw)
        assert r.status_code == 202
        assert "Location" in r.headers
        op = last_segment(r.headers["Azure-AsyncOperation"])
        deadline = time.monotonic() + LRO_TIMEOUT_S
        while True:
            st = self.bc.protected_item_operation_statuses.get(**self.item_args(vm), operation_id=op)
            if st.status != "InProgress":
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert st.status == "Succeeded", st
        assert isinstance(st.properties, OperationStatusJobExtendedInfo)
        job_id = st.properties.job_id
        vault_level = wait_operation(self.bc, self.vault, op)
        assert vault_level.status == "Succeeded" and vault_level.properties.job_id == job_id
        return op, job_id

    def backup(self, vm: str) -> None:
        _, job_id = self.trigger_backup(vm)
        self.jobs[job_id] = "backup"
        job = wait_job(self.bc, self.vault, job_id)
        props = job.properties
        assert isinstance(props, AzureIaaSVMJob), type(props)
        assert job.name == job_id
        assert (props.status, props.operation) == ("Completed", "Backup"), props
        assert props.entity_friendly_name == vm and props.backup_management_type == "AzureIaasVM"
        assert isinstance(props.start_time, datetime) and props.start_time.tzinfo is not None
        assert isinstance(props.end_time, datetime) and props.end_time >= props.start_time
        assert isinstance(props.duration, timedelta)
        tasks = props.extended_info.tasks_list
        assert tasks and all(isinstance(t, AzureIaaSVMJobTaskDetails) for t in tasks)
        assert [t.task_id for t in tasks] == ["Take Snapshot", "Transfer data to vault"]
        assert all(t.status == "Completed" for t in tasks)
        bag = props.extended_info.property_bag
        assert bag["VM Name"] == vm
        assert bag["Backup Size"].endswith(" MB") and float(bag["Backup Size"].split()[0]) > 0.5

    def recovery_point(self, vm: str) -> str:
        points = list(self.bc.recovery_points.list(**self.item_args(vm)))
        assert len(points) == 1
        rp = points[0]
        assert isinstance(rp.properties, IaasVMRecoveryPoint)
        assert isinstance(rp.properties.recovery_point_time, datetime)
        got = self.bc.recovery_points.get(**self.item_args(vm), recovery_point_id=rp.name)
        assert got.id == rp.id and isinstance(got.properties, IaasVMRecoveryPoint)
        return str(rp.name)

    def restore(self, vm: str, point: str, request: IaasVMRestoreRequest) -> AzureIaaSVMJob:
        """restores.begin_trigger to the end of its LRO (which returns None), then the restore
        job it started (the one new Restore job in the list), tracked to Completed."""
        known = {j.name for j in self.list_jobs("operation eq 'Restore'")}
        poller = self.bc.restores.begin_trigger(
            **self.item_args(vm), recovery_point_id=point,
            parameters=RestoreRequestResource(properties=request))
        assert poller.result(timeout=LRO_TIMEOUT_S) is None
        assert poller.done() and poller.status() == "Succeeded"
        new = [j.name for j in self.list_jobs("operation eq 'Restore'") if j.name not in known]
        assert len(new) == 1, new
        job_id = new[0]
        self.jobs[job_id] = "restore"
        job = wait_job(self.bc, self.vault, job_id)
        assert isinstance(job.properties, AzureIaaSVMJob)
        assert (job.properties.status, job.properties.operation) == ("Completed", "Restore"), job.properties
        assert job.properties.extended_info.property_bag["Restore Type"] == request.recovery_type
        return job.properties

    def restores(self, vm: str, point: str) -> None:
        src: Path = self.server.sources / vm  # type: ignore[attr-defined]
        before_www = describe(src / "www")
        before_disk = (src / "disk0.img").read_bytes()
        # damage the source, then put it back from the recovery point
        (src / "www" / "index.html").write_text("defaced\n")
        (src / "www" / "docs" / "b.bin").unlink()
        (src / "disk0.img").write_bytes(os.urandom(1024))
        assert describe(src / "www") != before_www
        self.restore(vm, point, IaasVMRestoreRequest(
            recovery_type="OriginalLocation", recovery_point_id=point, source_resource_id=Names.vm_id(vm),
            original_storage_account_option=False, region="westeurope"))
        assert describe(src / "www") == before_www
        assert (src / "disk0.img").read_bytes() == before_disk

        restores: Path = self.server.restores  # type: ignore[attr-defined]
        for kind in ("AlternateLocation", "RestoreDisks"):
            extra: dict[str, Any] = {}
            if kind == "AlternateLocation":
                extra = {"target_resource_group_id": f"/subscriptions/{SUB}/resourceGroups/rg2",
                         "target_virtual_machine_id": Names.vm_id(f"{vm}-restored").replace(RG, "rg2"),
                         "create_new_cloud_service": False}
            props = self.restore(vm, point, IaasVMRestoreRequest(
                recovery_type=kind, recovery_point_id=point, source_resource_id=Names.vm_id(vm),
                storage_account_id=Names.storage_account_id(RESTORE_ACCOUNT), region="westeurope", **extra))
            bag = props.extended_info.property_bag
            assert bag["Target Storage Account Name"] == RESTORE_ACCOUNT
            if kind == "AlternateLocation":
                assert bag["Target VM Name"] == f"{vm}-restored" and bag["Target Resource Group"] == "rg2"
            target = Path(bag["Restore Location"])
            assert target.is_relative_to(restores)
            assert describe(target / "www") == before_www
            assert (target / "disk0.img").read_bytes() == before_disk

    def cancel_running_backup(self, vm: str) -> None:
        self.enable(vm)
        _, job_id = self.trigger_backup(vm)
        self.jobs[job_id] = "cancelled backup"
        # a second backup while one runs is refused with Azure's conflict
        with pytest.raises(ResourceExistsError) as exc:
            self.bc.backups.trigger(**self.item_args(vm), parameters=BackupRequestResource(
                properties=IaasVMBackupRequest()))
        assert exc.value.status_code == 409
        assert exc.value.error is not None and exc.value.error.code == "UserErrorBackupOperationInProgress"
        running = self.job(job_id).properties
        assert running.status == "InProgress", running
        r = self.bc.job_cancellations.trigger(**self.v(), job_name=job_id, cls=raw)
        assert r.status_code == 202
        op = last_segment(r.headers["Location"])
        deadline = time.monotonic() + LRO_TIMEOUT_S
        while True:
            res = self.bc.job_operation_results.get(**self.v(), job_name=job_id, operation_id=op, cls=raw)
            if res.status_code != 202:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert res.status_code in (200, 204)
        job = wait_job(self.bc, self.vault, job_id)
        assert job.properties.status == "Cancelled", job.properties
        assert job.properties.operation == "Backup"

    def list_jobs(self, flt: str | None = None) -> list[Any]:
        return list(self.bc.backup_jobs.list(**self.v(), filter=flt))

    def check_job_lists(self, window_start: datetime) -> None:
        pages = [list(p) for p in self.bc.backup_jobs.list(**self.v()).by_page()]
        assert len(pages) >= 2 and all(len(p) <= PAGE_SIZE for p in pages), [len(p) for p in pages]
        everything = [j for p in pages for j in p]
        ids = [j.name for j in everything]
        assert len(ids) == len(set(ids)), "a job appeared on two pages"
        assert set(self.jobs) <= set(ids)
        assert all(isinstance(j.properties, AzureIaaSVMJob) for j in everything)
        ops = {j.name: j.properties.operation for j in everything}

        cancelled = [j.name for j in self.list_jobs("status eq 'Cancelled'")]
        assert cancelled == [k for k, v in self.jobs.items() if v == "cancelled backup"]
        completed = self.list_jobs("status eq 'Completed'")
        assert completed and all(j.properties.status == "Completed" for j in completed)
        restores = {j.name for j in self.list_jobs("operation eq 'Restore'")}
        assert restores == {k for k, v in self.jobs.items() if v == "restore"}
        configure = self.list_jobs("operation eq 'ConfigureBackup'")
        assert len(configure) == 2
        assert {j.name for j in configure} == {k for k, v in ops.items() if v == "ConfigureBackup"}
        assert {j.name for j in self.list_jobs(IAAS)} == set(ids)
        one = next(iter(self.jobs))
        assert [j.name for j in self.list_jobs(f"jobId eq '{one}'")] == [one]

        now = datetime.now(timezone.utc)
        window = (f"startTime eq '{job_filter_time(window_start)}' "
                  f"and endTime eq '{job_filter_time(now + timedelta(minutes=1))}'")
        in_window = self.list_jobs(window)       # more than one page: the filter rides in nextLink
        assert {j.name for j in in_window} == set(ids)
        past = (f"startTime eq '{job_filter_time(window_start - timedelta(days=2))}' "
                f"and endTime eq '{job_filter_time(window_start - timedelta(days=1))}'")
        assert self.list_jobs(past) == []
        # Azure CLI's shape: keys sorted, joined with ' and '
        combined = self.list_jobs(f"{window} and operation eq 'Backup' and status eq 'Completed'")
        assert [j.name for j in combined] == [k for k, v in self.jobs.items() if v == "backup"]

    def stop_protection(self, vm: str) -> None:
        poller = self.bc.protected_items.begin_create_or_update(
            **self.item_args(vm), parameters=ProtectedItemResource(properties=AzureIaaSComputeVMProtectedItem(
                protection_state="ProtectionStopped", source_resource_id=Names.vm_id(vm), policy_id="")))
        item = poller.result(timeout=LRO_TIMEOUT_S)
        assert poller.done()
        assert item.properties["protectionState"] == "ProtectionStopped"
        assert len(list(self.bc.recovery_points.list(**self.item_args(vm)))) == 1, "data is retained"
        disable = self.list_jobs("operation eq 'DisableBackup'")
        assert len(disable) == 1
        assert wait_job(self.bc, self.vault, disable[0].name).properties.status == "Completed"
        self.jobs[disable[0].name] = "disable"

    def delete_backup_data(self, vm: str) -> None:
        r = self.bc.protected_items.delete(**self.item_args(vm), cls=raw)
        assert r.status_code == 202
        op = last_segment(r.headers["Azure-AsyncOperation"])
        status = wait_operation(self.bc, self.vault, op)
        assert status.status == "Succeeded", status
        job_id = status.properties.job_id
        self.jobs[job_id] = "delete"
        job = wait_job(self.bc, self.vault, job_id)
        props = job.properties
        assert (props.status, props.operation) == ("Completed", "DeleteBackupData"), props
        with pytest.raises(ResourceNotFoundError):
            self.bc.protected_items.get(**self.item_args(vm))

    def export_jobs(self) -> None:
        r = self.bc.jobs.export(**self.v(), filter=IAAS, cls=raw)
        assert r.status_code == 202
        op = last_segment(r.headers["Location"])
        deadline = time.monotonic() + LRO_TIMEOUT_S
        while True:
            res = self.bc.export_jobs_operation_results.get(**self.v(), operation_id=op)
            info = res.operation
            if isinstance(info, ExportJobsOperationResultInfo) and info.blob_url:
                break
            assert time.monotonic() < deadline, res
            time.sleep(0.05)
        ctx = ssl.create_default_context(cafile=str(self.server.ca))
        got = httpx.get(info.blob_url + info.blob_sas_key, verify=ctx, timeout=30)
        assert got.status_code == 200, got.text
        exported = json.loads(got.content)["value"]
        listed = {j.name: j.properties.status for j in self.list_jobs()}
        assert {e["name"]: e["properties"]["status"] for e in exported} == listed
        assert set(self.jobs) <= set(listed)
        assert all(e["properties"]["jobType"] == "AzureIaaSVMJob" for e in exported)
        assert all(e["properties"]["extendedInfo"]["tasksList"] for e in exported
                   if e["properties"]["operation"] in ("Backup", "Restore"))


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_life_of_a_protected_vm(api_version: str, server: RunningServer, vault_client: RecoveryServicesClient,
                                backup_client_for: Any) -> None:
    started = time.monotonic()
    window_start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=2)
    flow = Flow(api_version, server, vault_client, backup_client_for(api_version))
    vm = flow.n.vm
    flow.create_vault()
    flow.create_policy()
    flow.refresh_containers()
    flow.enable(vm)
    flow.backup(vm)
    point = flow.recovery_point(vm)
    flow.restores(vm, point)
    flow.cancel_running_backup(flow.n.big_vm)
    flow.stop_protection(vm)
    flow.delete_backup_data(vm)
    flow.check_job_lists(window_start)
    flow.export_jobs()
    elapsed = time.monotonic() - started
    assert elapsed < FLOW_BUDGET_S, f"the flow at api-version {api_version} took {elapsed:.1f}s"
