"""The ARM JSON of Microsoft.RecoveryServices, out: the only place it is written.

Pure functions from domain objects to JSON-able dicts in Azure's exact shape (camelCase,
``id``/``name``/``type``/``properties`` envelopes, discriminators spelled as Azure spells them:
``AzureIaaSVMJob``, ``IaasVMRecoveryPoint``, ``AzureIaasVM``, ``Microsoft.Compute/virtualMachines``,
``OperationStatusJobExtendedInfo``, ``ExportJobsOperationResultInfo``). Callers pass what only
they know (ARM ids, counts, the clock). Fields without a value are left out rather than sent
as null. Request bodies are read in :mod:`strongbox.api.bodies`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from strongbox.api.timefmt import PLACEHOLDER_END, delta_duration, duration, iso
from strongbox.domain.jobs import Job, JobStatus, Task, TaskStatus
from strongbox.domain.operations import Operation, OperationStatus
from strongbox.domain.softdelete import UPCOMING_PURGE, time_remaining
from strongbox.domain.sources import FABRIC, Source
from strongbox.domain.vaults import Policy, ProtectedItem, RecoveryPoint, Vault

IAAS_VM = "AzureIaasVM"
COMPUTE_VM = "Microsoft.Compute/virtualMachines"
CLASSIC_VM = "Microsoft.ClassicCompute/virtualMachines"
VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
CONTAINER_TYPE = f"{VAULT_TYPE}/backupFabrics/protectionContainers"
PROTECTABLE_TYPE = f"{CONTAINER_TYPE}/protectableItems"
ITEM_TYPE = f"{CONTAINER_TYPE}/protectedItems"
POINT_TYPE = f"{ITEM_TYPE}/recoveryPoints"
JOB_TYPE = f"{VAULT_TYPE}/backupJobs"
POLICY_TYPE = f"{VAULT_TYPE}/backupPolicies"


# --- ids and envelopes ---------------------------------------------------------------------

def vault_id(subscription: str, resource_group: str, name: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/{VAULT_TYPE}/{name}")


def _vid(vault: Vault) -> str:
    return vault_id(vault.subscription, vault.resource_group, vault.name)


def policy_id(vault: Vault, policy_name: str) -> str:
    return f"{_vid(vault)}/backupPolicies/{policy_name}"


def container_id(vault: Vault, source: Source) -> str:
    return f"{_vid(vault)}/backupFabrics/{FABRIC}/protectionContainers/{source.container_name}"


def item_id(vault: Vault, source: Source) -> str:
    return f"{container_id(vault, source)}/protectedItems/{source.item_name}"


def page(values: list[dict[str, Any]], next_link: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"value": values}
    if next_link:
        body["nextLink"] = next_link
    return body


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


# --- resources -----------------------------------------------------------------------------

def vault_resource(vault: Vault) -> dict[str, Any]:
    return _compact({
        "id": _vid(vault),
        "name": vault.name,
        "type": VAULT_TYPE,
        "location": vault.location,
        "tags": dict(vault.tags),
        "etag": vault.etag or None,
        "sku": {"name": vault.sku_name},
        "properties": {
            "provisioningState": "Succeeded",
            "privateEndpointStateForBackup": "None",
            "privateEndpointStateForSiteRecovery": "None",
            "publicNetworkAccess": "Enabled",
            "redundancySettings": {"standardTierStorageRedundancy": "LocallyRedundant",
                                   "crossRegionRestore": "Disabled"},
            "securitySettings": {
                "softDeleteSettings": {"softDeleteState": vault.security.soft_delete.value,
                                       "softDeleteRetentionPeriodInDays": vault.security.soft_delete_days},
                "immutabilitySettings": {"state": vault.security.immutability.value},
            },
        },
    })


def policy_resource(policy: Policy, vault: Vault, protected_items_count: int) -> dict[str, Any]:
    return _compact({
        "id": policy_id(vault, policy.name),
        "name": policy.name,
        "type": POLICY_TYPE,
        "eTag": policy.etag or None,
        "properties": {"backupManagementType": IAAS_VM, **copy.deepcopy(policy.settings),
                       "protectedItemsCount": protected_items_count},
    })


def protectable_item_resource(source: Source, vault: Vault, protected: bool) -> dict[str, Any]:
    return {
        "id": f"{container_id(vault, source)}/protectableItems/{source.item_name}",
        "name": source.item_name,
        "type": PROTECTABLE_TYPE,
        "properties": {
            "protectableItemType": COMPUTE_VM,
            "backupManagementType": IAAS_VM,
            "workloadType": "VM",
            "friendlyName": source.name,
            "protectionState": "Protected" if protected else "NotProtected",
            "virtualMachineId": source.vm_id,
            "virtualMachineVersion": "Compute",
            "resourceGroup": source.resource_group,
        },
    }


def container_resource(source: Source, vault: Vault, registered: bool) -> dict[str, Any]:
    return {
        "id": container_id(vault, source),
        "name": source.container_name,
        "type": CONTAINER_TYPE,
        "properties": {
            "containerType": COMPUTE_VM,
            "friendlyName": source.name,
            "backupManagementType": IAAS_VM,
            "registrationStatus": "Registered" if registered else "NotRegistered",
            "healthStatus": "Healthy",
            "protectableObjectType": COMPUTE_VM,
            "virtualMachineId": source.vm_id,
            "virtualMachineVersion": "Compute",
            "resourceGroup": source.resource_group,
        },
    }


def protected_item_resource(item: ProtectedItem, source: Source, vault: Vault, *,
                            last_point: RecoveryPoint | None, oldest_point: RecoveryPoint | None,
                            point_count: int, now: datetime | None = None) -> dict[str, Any]:
    """A soft-deleted item (``now`` is needed for it) shows Azure's deferred-delete fields."""
    purge_at = item.deferred_delete_at if item.soft_deleted else None
    deferred: dict[str, Any] = {"isScheduledForDeferredDelete": purge_at is not None}
    if purge_at is not None:
        now = now or purge_at
        deferred.update({"deferredDeleteTimeInUTC": iso(purge_at),
                         "deferredDeleteTimeRemaining": time_remaining(purge_at, now),
                         "isDeferredDeleteScheduleUpcoming": purge_at - now <= UPCOMING_PURGE})
    properties = _compact({
        "protectedItemType": COMPUTE_VM,
        "backupManagementType": IAAS_VM,
        "workloadType": "VM",
        "containerName": source.short_container_name,
        "sourceResourceId": source.vm_id,
        "virtualMachineId": source.vm_id,
        "friendlyName": source.name,
        "policyId": policy_id(vault, item.policy_name) if item.policy_name else "",
        "policyName": item.policy_name,
        "protectionState": item.protection_state.value,
        "protectionStatus": "Healthy",
        "healthStatus": item.health_status,
        "lastBackupStatus": item.last_backup_status.value,
        "lastBackupTime": iso(item.last_backup_time) if item.last_backup_time else None,
        "lastRecoveryPoint": iso(last_point.time) if last_point else None,
        "protectedItemDataId": item.data_id,
        **deferred,
        "vaultId": _vid(vault),
        "extendedInfo": _compact({
            "oldestRecoveryPoint": iso(oldest_point.time) if oldest_point else None,
            "recoveryPointCount": point_count,
            "policyInconsistent": False,
        }),
    })
    return {"id": item_id(vault, source), "name": source.item_name, "type": ITEM_TYPE,
            "properties": properties}


def recovery_point_resource(point: RecoveryPoint, item_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "objectType": "IaasVMRecoveryPoint",
        "recoveryPointType": "CrashConsistent",
        "recoveryPointTime": iso(point.time),
        "sourceVMStorageType": "NormalStorage",
        "isSourceVMEncrypted": False,
        "isManagedVirtualMachine": True,
        "isInstantIlrSessionActive": False,
        "osType": "Linux",
        "virtualMachineSize": "",
        "originalStorageAccountOption": False,
        "recoveryPointTierDetails": [{"type": "HardenedRP", "status": "Valid"}],
    }
    if point.expiry is not None:
        properties["recoveryPointProperties"] = {"expiryTime": iso(point.expiry)}
    return {"id": f"{item_id}/recoveryPoints/{point.id}", "name": point.id, "type": POINT_TYPE,
            "properties": properties}


# --- jobs and operations --------------------------------------------------------------------

_RUNNING = frozenset({JobStatus.IN_PROGRESS, JobStatus.CANCELLING})


def job_resource(job: Job, vault: Vault, *, now: datetime) -> dict[str, Any]:
    running = job.status in _RUNNING
    extended = _compact({
        "tasksList": [_task(task, now) for task in job.tasks],
        "propertyBag": dict(job.property_bag),
        # Azure: progress is null when the job has not started or has completed.
        "progressPercentage": job.progress_percentage if running else None,
        "estimatedRemainingDuration": _eta(job) if running else None,
        "dynamicErrorMessage": job.error_details[0].message if job.error_details and not running else None,
    })
    properties = _compact({
        "jobType": "AzureIaaSVMJob",
        "entityFriendlyName": job.entity_friendly_name,
        "backupManagementType": IAAS_VM,
        "operation": job.operation.value,
        "status": job.status.value,
        "startTime": iso(job.start_time),
        "endTime": iso(job.end_time) if job.end_time else None,
        "duration": delta_duration((job.end_time or now) - job.start_time),
        "activityId": job.activity_id,
        "actionsInfo": ["Cancellable"] if job.cancellable else [],
        "errorDetails": [
            {"errorCode": error.error_code, "errorTitle": error.code, "errorString": error.message,
             "recommendations": list(error.recommendations)}
            for error in job.error_details
        ],
        "virtualMachineVersion": "Compute",
        "containerName": job.container_name or None,
        "isUserTriggered": job.is_user_triggered,
        "extendedInfo": extended,
    })
    return {"id": f"{_vid(vault)}/backupJobs/{job.id}", "name": job.id, "type": JOB_TYPE,
            "properties": properties}


def _eta(job: Job) -> str | None:
    return None if job.eta_seconds is None else duration(job.eta_seconds)


def _task(task: Task, now: datetime) -> dict[str, Any]:
    if task.start_time is None:
        elapsed = "PT0S"
    else:
        end = task.end_time or (now if task.status is TaskStatus.IN_PROGRESS else task.start_time)
        elapsed = delta_duration(end - task.start_time)
    return _compact({
        "taskId": task.name,
        "status": task.status.value,
        "startTime": iso(task.start_time) if task.start_time else None,
        "endTime": iso(task.end_time) if task.end_time else None,
        "duration": elapsed,
        "progressPercentage": task.progress_percentage,
        "taskExecutionDetails": task.details or None,
    })


_DEFAULT_OPERATION_ERRORS = {
    OperationStatus.FAILED: ("OperationFailed", "The operation failed."),
    OperationStatus.CANCELED: ("OperationCanceled", "The operation was canceled."),
}


def operation_status(op: Operation, status: OperationStatus, *, job_id: str | None,
                     id_path: str | None = None, end_time: datetime | None = None) -> dict[str, Any]:
    """OperationStatus; ``end_time`` (e.g. the job's) overrides ``op.end_time`` once final."""
    body: dict[str, Any] = {"id": id_path or op.id, "name": op.id, "status": status.value,
                            "startTime": iso(op.start_time)}
    if status is OperationStatus.IN_PROGRESS:
        body["endTime"] = PLACEHOLDER_END
    elif end_time or op.end_time:
        body["endTime"] = iso(end_time or op.end_time)  # type: ignore[arg-type]
    if status in _DEFAULT_OPERATION_ERRORS:
        code, message = _DEFAULT_OPERATION_ERRORS[status]
        body["error"] = {"code": op.error_code or code, "message": op.error_message or message}
    if job_id:
        body["properties"] = {"objectType": "OperationStatusJobExtendedInfo", "jobId": job_id}
    return body


def export_result(blob_url: str | None, sas: str | None, *, location: str | None,
                  retry_after: int) -> dict[str, Any]:
    """OperationResultInfoBaseResource: still running (no blob yet) or done."""
    operation: dict[str, Any] = {"objectType": "ExportJobsOperationResultInfo"}
    if blob_url is None:
        headers: dict[str, list[str]] = {"Retry-After": [str(retry_after)]}
        if location:
            headers["Location"] = [location]
        return {"headers": headers, "operation": operation}
    operation["blobUrl"] = blob_url
    operation["blobSasKey"] = sas or ""
    return {"headers": {}, "operation": operation}
