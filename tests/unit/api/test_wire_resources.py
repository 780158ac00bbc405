"""wire: our resources have Azure's shape and deserialize with the real SDK models."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from azure.mgmt.recoveryservicesbackup.models import (
    AzureIaaSVMJob,
    ExportJobsOperationResultInfo,
    IaasVMRecoveryPoint,
    JobResource,
    OperationResultInfoBaseResource,
    OperationStatus as SdkOperationStatus,
    OperationStatusJobExtendedInfo,
    ProtectionPolicyResource,
    RecoveryPointResource,
)
from azure.mgmt.recoveryservices.models import Vault as SdkVault

from strongbox.api import wire
from strongbox.api.timefmt import iso
from strongbox.domain.jobs import ErrorDetail, Job, JobOperation, JobStatus, Task, TaskStatus
from strongbox.domain.operations import Operation, OperationKind, OperationStatus
from strongbox.domain.sources import Source
from strongbox.domain.vaults import (
    LastBackupStatus,
    Policy,
    ProtectedItem,
    ProtectionState,
    RecoveryPoint,
    Vault,
)

from .conftest import NOW, definition_properties, example

UTC = timezone.utc
VAULT_PATH = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-backup"
              "/providers/Microsoft.RecoveryServices/vaults/vault-a")


def running_job(vault: Vault) -> Job:
    return Job(id="11111111-2222-3333-4444-555555555555", vault_key=vault.key, operation=JobOperation.BACKUP,
               status=JobStatus.IN_PROGRESS, entity_friendly_name="vm-a", start_time=NOW - timedelta(seconds=62.5),
               activity_id="act-1", container_name="iaasvmcontainerv2;rg-vms;vm-a",
               tasks=[Task("Take Snapshot", TaskStatus.COMPLETED, NOW - timedelta(seconds=60),
                           NOW - timedelta(seconds=30), 100.0),
                      Task("Transfer data to vault", TaskStatus.IN_PROGRESS, NOW - timedelta(seconds=30),
                           progress_percentage=40.0, details="40 MB of 100 MB"),
                      ],
               property_bag={"VM Name": "vm-a"}, progress_percentage=40.0, eta_seconds=45)


def failed_job(vault: Vault) -> Job:
    job = running_job(vault)
    job.status = JobStatus.FAILED
    job.end_time = NOW - timedelta(seconds=1)
    job.tasks[1].status = TaskStatus.FAILED
    job.tasks[1].end_time = job.end_time
    job.error_details = [ErrorDetail("UserErrorSourceMissing", "The source path is gone.", ["Check it."], 400001)]
    return job


def test_vault_id() -> None:
    assert wire.vault_id("s", "rg", "v") == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"


def test_vault_resource_deserializes(vault: Vault) -> None:
    body = wire.vault_resource(vault)
    model = SdkVault(body)
    assert model.id == VAULT_PATH
    assert model.type == "Microsoft.RecoveryServices/vaults"
    assert model.location == "westeurope"
    assert model.sku.name == "Standard"
    assert model.properties.provisioning_state == "Succeeded"
    assert model.properties.public_network_access == "Enabled"
    assert model.tags == {"env": "test"}


def test_job_keys_are_azure_keys(vault: Vault) -> None:
    ex = example("2026-08-01", "Common", "GetJobDetails.json")["responses"]["200"]["body"]
    defined = definition_properties("AzureIaaSVMJob")
    for job in (running_job(vault), failed_job(vault)):
        body = wire.job_resource(job, vault, now=NOW)
        assert set(body) == set(ex)
        assert set(body["properties"]) <= defined
        assert set(body["properties"]["extendedInfo"]) <= definition_properties("AzureIaaSVMJobExtendedInfo")
        for task in body["properties"]["extendedInfo"]["tasksList"]:
            assert set(task) <= definition_properties("AzureIaaSVMJobTaskDetails")
        for error in body["properties"]["errorDetails"]:
            assert set(error) <= definition_properties("AzureIaaSVMErrorInfo")
        assert {"jobType", "operation", "status", "startTime", "duration", "activityId",
                "backupManagementType", "entityFriendlyName", "virtualMachineVersion"} <= set(body["properties"])
        assert body["properties"]["jobType"] == ex["properties"]["jobType"] == "AzureIaaSVMJob"


def test_running_job_with_sdk(vault: Vault) -> None:
    body = wire.job_resource(running_job(vault), vault, now=NOW)
    assert "endTime" not in body["properties"]
    resource = JobResource(body)
    job = resource.properties
    assert isinstance(job, AzureIaaSVMJob)
    assert resource.id == f"{VAULT_PATH}/backupJobs/11111111-2222-3333-4444-555555555555"
    assert resource.type == "Microsoft.RecoveryServices/vaults/backupJobs"
    assert job.start_time == NOW - timedelta(seconds=62.5)
    assert job.duration == timedelta(seconds=62.5)
    assert job.actions_info == ["Cancellable"]
    assert job.status == "InProgress" and job.operation == "Backup"
    info = job.extended_info
    assert info.tasks_list[0].task_id == "Take Snapshot"
    assert info.tasks_list[0].duration == timedelta(seconds=30)
    assert info.tasks_list[1].duration == timedelta(seconds=30)  # still running: until now
    assert info.tasks_list[1].task_execution_details == "40 MB of 100 MB"
    assert info.progress_percentage == 40.0
    assert info.estimated_remaining_duration == "PT45S"
    assert info.property_bag == {"VM Name": "vm-a"}
    assert job.container_name == "iaasvmcontainerv2;rg-vms;vm-a"
    assert job.is_user_triggered is True


def test_final_job_with_sdk(vault: Vault) -> None:
    job = JobResource(wire.job_resource(failed_job(vault), vault, now=NOW + timedelta(hours=1))).properties
    assert job.end_time == NOW - timedelta(seconds=1)
    assert job.duration == timedelta(seconds=61.5)  # end - start, not now - start
    assert job.actions_info == []
    assert job.extended_info.progress_percentage is None
    assert job.extended_info.estimated_remaining_duration is None
    assert job.extended_info.dynamic_error_message == "The source path is gone."
    error = job.error_details[0]
    assert (error.error_code, error.error_title, error.error_string) == (400001, "UserErrorSourceMissing",
                                                                        "The source path is gone.")
    assert error.recommendations == ["Check it."]


def test_not_started_task_has_zero_duration(vault: Vault) -> None:
    job = running_job(vault)
    job.tasks.append(Task("Extra"))
    task = wire.job_resource(job, vault, now=NOW)["properties"]["extendedInfo"]["tasksList"][-1]
    assert task == {"taskId": "Extra", "status": "NotStarted", "duration": "PT0S"}


def op(status: OperationStatus = OperationStatus.IN_PROGRESS, **kw: Any) -> Operation:
    return Operation(id="op-1", vault_key="k", kind=OperationKind.ITEM, start_time=NOW, status=status, **kw)


def test_operation_status_in_progress_matches_example() -> None:
    ex = example("2026-10-01", "Common", "ProtectedItem_Delete_OperationStatus.json")["responses"]["200"]["body"]
    body = wire.operation_status(op(), OperationStatus.IN_PROGRESS, job_id=None)
    assert set(body) == set(ex)
    assert body["endTime"] == ex["endTime"] == "0001-01-01T00:00:00.00000Z"
    assert SdkOperationStatus(body).status == "InProgress"


def test_operation_status_final_with_job() -> None:
    ex = example("2026-11-01", "AzureIaasVm", "ProtectedItemOperationStatus.json")["responses"]["200"]["body"]
    body = wire.operation_status(op(OperationStatus.SUCCEEDED, end_time=NOW + timedelta(seconds=5)),
                                 OperationStatus.SUCCEEDED, job_id="job-9")
    assert set(body) == set(ex)
    assert body["properties"] == {"objectType": "OperationStatusJobExtendedInfo", "jobId": "job-9"}
    status = SdkOperationStatus(body)
    assert isinstance(status.properties, OperationStatusJobExtendedInfo)
    assert status.properties.job_id == "job-9"
    assert status.end_time == NOW + timedelta(seconds=5)
    assert status.start_time == NOW
    assert status.name == "op-1" and status.id == "op-1"


def test_operation_status_end_time_from_caller_and_errors() -> None:
    body = wire.operation_status(op(), OperationStatus.FAILED, job_id="j", id_path="/x/operationsStatus/op-1",
                                 end_time=NOW + timedelta(seconds=9))
    status = SdkOperationStatus(body)
    assert status.id == "/x/operationsStatus/op-1"
    assert status.end_time == NOW + timedelta(seconds=9)
    assert (status.error.code, status.error.message) == ("OperationFailed", "The operation failed.")
    canceled = wire.operation_status(op(error_code="JobCancelled", error_message="Cancelled by user"),
                                     OperationStatus.CANCELED, job_id=None)
    assert canceled["error"] == {"code": "JobCancelled", "message": "Cancelled by user"}
    assert "endTime" not in canceled and "properties" not in canceled


def test_export_result_matches_examples() -> None:
    ex = example("2026-08-01", "Common", "ExportJobsOperationResult.json")["responses"]
    pending = wire.export_result(None, None, location="https://h/x/backupJobs/operationResults/op", retry_after=60)
    assert pending == {"headers": {"Location": ["https://h/x/backupJobs/operationResults/op"], "Retry-After": ["60"]},
                       "operation": {"objectType": "ExportJobsOperationResultInfo"}}
    assert set(pending) == set(ex["202"]["body"]) and set(pending["headers"]) == set(ex["202"]["body"]["headers"])
    done = wire.export_result("https://h/blob", "?sv=1&se=2", location=None, retry_after=60)
    assert done == {"headers": {}, "operation": {"objectType": "ExportJobsOperationResultInfo",
                                                 "blobUrl": "https://h/blob", "blobSasKey": "?sv=1&se=2"}}
    assert set(done["operation"]) == set(ex["200"]["body"]["operation"])
    model = OperationResultInfoBaseResource(done)
    assert isinstance(model.operation, ExportJobsOperationResultInfo)
    assert (model.operation.blob_url, model.operation.blob_sas_key) == ("https://h/blob", "?sv=1&se=2")
    assert isinstance(OperationResultInfoBaseResource(pending).operation, ExportJobsOperationResultInfo)


def test_recovery_point(vault: Vault, source: Source) -> None:
    ex = example("2026-10-01", "AzureIaasVm", "RecoveryPoints_List.json")["responses"]["200"]["body"]["value"][0]
    point = RecoveryPoint(vault_key=vault.key, item_key="i", id="22244821112382", snapshot_id="snap",
                          time=datetime(2026, 11, 28, 22, 48, 25, 435395, tzinfo=UTC), bytes_total=1, files=1,
                          expiry=datetime(2026, 12, 28, tzinfo=UTC))
    item = wire.item_id(vault, source)
    body = wire.recovery_point_resource(point, item)
    assert set(body) == set(ex)
    assert body["type"] == ex["type"]
    assert set(body["properties"]) <= definition_properties("IaasVMRecoveryPoint")
    assert set(body["properties"]) >= set(ex["properties"]) - {"recoveryPointAdditionalInfo",
                                                               "recoveryPointMoveReadinessInfo"}
    model = RecoveryPointResource(body)
    assert model.id == f"{item}/recoveryPoints/22244821112382"
    assert model.name == "22244821112382"
    assert isinstance(model.properties, IaasVMRecoveryPoint)
    assert model.properties.recovery_point_time == point.time
    assert model.properties.recovery_point_tier_details[0].status == "Valid"
    assert model.properties.recovery_point_properties.expiry_time == "2026-12-28T00:00:00.0000000Z"


def test_protected_item(vault: Vault, source: Source) -> None:
    ex = example("2026-11-01", "AzureIaasVm", "ConfigureProtection.json")["responses"]["200"]["body"]
    item = ProtectedItem(vault_key=vault.key, subscription=source.subscription, resource_group="rg-vms",
                         vm_name="vm-a", policy_name="daily", protection_state=ProtectionState.PROTECTED,
                         created=NOW, data_id="636482643132986882", last_backup_status=LastBackupStatus.HEALTHY,
                         last_backup_time=NOW)
    first = RecoveryPoint(vault.key, item.key, "1", "s1", NOW - timedelta(days=1), 1, 1)
    last = RecoveryPoint(vault.key, item.key, "2", "s2", NOW, 1, 1)
    body = wire.protected_item_resource(item, source, vault, last_point=last, oldest_point=first, point_count=2)
    assert set(body) == set(ex)
    props = body["properties"]
    assert set(ex["properties"]) <= set(props)
    assert set(props) <= definition_properties("AzureIaaSComputeVMProtectedItem")
    assert set(props["extendedInfo"]) <= definition_properties("AzureIaaSVMProtectedItemExtendedInfo")
    assert body["id"] == (f"{VAULT_PATH}/backupFabrics/Azure/protectionContainers/"
                          "IaasVMContainer;iaasvmcontainerv2;rg-vms;vm-a/protectedItems/VM;iaasvmcontainerv2;rg-vms;vm-a")
    assert body["name"] == "VM;iaasvmcontainerv2;rg-vms;vm-a"
    assert props["containerName"] == "iaasvmcontainerv2;rg-vms;vm-a"
    assert props["policyId"] == f"{VAULT_PATH}/backupPolicies/daily"
    assert props["protectedItemType"] == "Microsoft.Compute/virtualMachines"
    assert props["lastRecoveryPoint"] == iso(NOW)
    assert props["extendedInfo"] == {"oldestRecoveryPoint": iso(first.time),
                                     "recoveryPointCount": 2, "policyInconsistent": False}
    item.policy_name = None
    item.protection_state = ProtectionState.PROTECTION_STOPPED
    stopped = wire.protected_item_resource(item, source, vault, last_point=None, oldest_point=None, point_count=0)
    assert stopped["properties"]["policyId"] == ""
    assert "policyName" not in stopped["properties"]
    assert stopped["properties"]["protectionState"] == "ProtectionStopped"


def test_protectable_item(vault: Vault, source: Source) -> None:
    ex = example("2026-10-01", "AzureIaasVm", "BackupProtectableItems_List.json")["responses"]["200"]["body"]["value"][0]
    body = wire.protectable_item_resource(source, vault, protected=False)
    assert set(body) == set(ex)
    assert body["type"] == ex["type"]
    assert set(ex["properties"]) <= set(body["properties"])
    assert set(body["properties"]) <= definition_properties("AzureIaaSComputeVMProtectableItem")
    assert body["id"].endswith("/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;"
                               "rg-vms;vm-a/protectableItems/VM;iaasvmcontainerv2;rg-vms;vm-a")
    assert body["properties"]["protectionState"] == "NotProtected"
    assert wire.protectable_item_resource(source, vault, protected=True)["properties"]["protectionState"] == "Protected"


def test_container(vault: Vault, source: Source) -> None:
    body = wire.container_resource(source, vault, registered=True)
    assert set(body["properties"]) <= definition_properties("AzureIaaSComputeVMContainer")
    assert body["properties"]["containerType"] == "Microsoft.Compute/virtualMachines"
    assert body["properties"]["registrationStatus"] == "Registered"
    assert body["name"] == "IaasVMContainer;iaasvmcontainerv2;rg-vms;vm-a"


def test_policy_resource(vault: Vault) -> None:
    settings = {"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                   "scheduleRunTimes": ["2024-01-01T02:00:00Z"]},
                "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                                    "dailySchedule": {"retentionTimes": ["2024-01-01T02:00:00Z"],
                                                      "retentionDuration": {"count": 7, "durationType": "Days"}}},
                "timeZone": "UTC", "instantRpRetentionRangeInDays": 2}
    body = wire.policy_resource(Policy(vault.key, "daily", settings, NOW), vault, protected_items_count=3)
    assert set(body["properties"]) <= definition_properties("AzureIaaSVMProtectionPolicy")
    model = ProtectionPolicyResource(body)
    assert model.id == f"{VAULT_PATH}/backupPolicies/daily"
    assert model.properties.backup_management_type == "AzureIaasVM"
    assert model.properties.protected_items_count == 3
    assert model.properties.retention_policy.daily_schedule.retention_duration.count == 7
    assert model.properties.schedule_policy.schedule_run_frequency == "Daily"


@pytest.mark.parametrize("next_link", [None, "https://h/x?%24skiptoken=abc"])
def test_page(next_link: str | None) -> None:
    body = wire.page([{"a": 1}], next_link)
    assert body["value"] == [{"a": 1}]
    assert body.get("nextLink") == next_link
    assert ("nextLink" in body) == (next_link is not None)
