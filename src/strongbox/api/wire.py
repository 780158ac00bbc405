"""The ARM JSON of Microsoft.RecoveryServices: the only place it is written or read.

Out: pure functions from domain objects to JSON-able dicts in Azure's exact shape
(camelCase, ``id``/``name``/``type``/``properties`` envelopes, discriminators spelled as
Azure spells them: ``AzureIaaSVMJob``, ``IaasVMRecoveryPoint``, ``AzureIaasVM``,
``Microsoft.Compute/virtualMachines``, ``OperationStatusJobExtendedInfo``,
``ExportJobsOperationResultInfo``). Callers pass what only they know (ARM ids, counts,
the clock). Fields without a value are left out rather than sent as null.

In: body parsers take already-decoded JSON (anything) and return validated values, or
raise one of these (all HTTP 400), never KeyError/TypeError:

============================== ================================================================
code                           meaning
============================== ================================================================
InvalidRequestContent          body or a field has the wrong JSON type, or a required field is
                               missing (the message names the field path)
LocationRequired               vault PUT without a non-empty ``location``
InvalidVaultSku                ``sku.name`` other than Standard / RS0
InvalidPolicyType              policy ``backupManagementType`` other than AzureIaasVM
BMSUserErrorInvalidPolicyInput schedule / retention / other policy settings are invalid
InvalidProtectedItemType       ``protectedItemType`` other than the IaaS VM values, or a bad
                               ``protectionState``
InvalidBackupRequest           backup ``objectType`` other than IaasVMBackupRequest
InvalidRestoreRequest          restore ``objectType``/``recoveryType`` unknown, or a field the
                               recovery type needs is missing
RecoveryTypeNotSupported       ``recoveryType: Offline``
============================== ================================================================
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongbox.api.timefmt import (
    PLACEHOLDER_END,
    InvalidDateTime,
    delta_duration,
    duration,
    iso,
    parse_datetime,
)
from strongbox.domain.errors import BadRequest
from strongbox.domain.jobs import Job, JobStatus, Task, TaskStatus
from strongbox.domain.operations import Operation, OperationStatus
from strongbox.domain.sources import FABRIC, Source
from strongbox.domain.schedule import ScheduleError, zone
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


# --- errors ------------------------------------------------------------------------------

class InvalidRequestContent(BadRequest):
    """Invalid request body: {detail}"""

    code = "InvalidRequestContent"


class LocationRequired(BadRequest):
    """The 'location' property is required and must be a non-empty string."""

    code = "LocationRequired"


class InvalidVaultSku(BadRequest):
    """Invalid sku.name {value!r}: supported values are Standard and RS0."""

    code = "InvalidVaultSku"


class InvalidPolicyType(BadRequest):
    """Invalid backupManagementType {value!r}: only AzureIaasVM policies are supported."""

    code = "InvalidPolicyType"


class InvalidPolicyInput(BadRequest):
    """Invalid policy: {detail}"""

    code = "BMSUserErrorInvalidPolicyInput"


class InvalidProtectedItemType(BadRequest):
    """Invalid protected item: {detail}"""

    code = "InvalidProtectedItemType"


class InvalidBackupRequest(BadRequest):
    """Invalid backup request: {detail}"""

    code = "InvalidBackupRequest"


class InvalidRestoreRequest(BadRequest):
    """Invalid restore request: {detail}"""

    code = "InvalidRestoreRequest"


class RecoveryTypeNotSupported(BadRequest):
    """recoveryType {value!r} is not supported; use OriginalLocation, AlternateLocation or RestoreDisks."""

    code = "RecoveryTypeNotSupported"


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
            # No soft delete here: deleted backup data is gone at once.
            "securitySettings": {"softDeleteSettings": {"softDeleteState": "Disabled",
                                                        "softDeleteRetentionPeriodInDays": 0}},
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
                            point_count: int) -> dict[str, Any]:
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
        "isScheduledForDeferredDelete": False,
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


# --- request bodies ---------------------------------------------------------------------------

def _object(value: Any, path: str, *, required: bool = True) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        expected = "a JSON object" if value is not None else "required (a JSON object)"
        raise InvalidRequestContent(f"{path} is {expected}")
    return value


def _obj(value: Any, path: str) -> dict[str, Any]:
    result = _object(value, path)
    assert result is not None
    return result


def _string(obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidRequestContent(f"{path}.{key} is required")
        return None
    if not isinstance(value, str):
        raise InvalidRequestContent(f"{path}.{key} must be a string")
    return value


def _int(obj: Mapping[str, Any], key: str, path: str, error: type[BadRequest], *,
         minimum: int, maximum: int | None = None, required: bool = False) -> int | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise error(f"{path}.{key} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{path}.{key} must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise error(f"{path}.{key} must be {bound}, got {value}")
    return value


def _choice(value: Any, path: str, choices: tuple[Any, ...], error: type[BadRequest]) -> Any:
    if isinstance(value, bool) or value not in choices:
        raise error(f"{path} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def _datetime_list(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidPolicyInput(f"{path}.{key} must be a non-empty list of date-times")
    for item in value:
        _datetime_value(item, f"{path}.{key}")


def _datetime_value(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise InvalidPolicyInput(f"{path} must be a date-time string")
    try:
        parse_datetime(value)
    except InvalidDateTime as exc:
        raise InvalidPolicyInput(f"{path}: {exc.message}") from None


def _properties(body: Any) -> dict[str, Any]:
    return _obj(_obj(body, "body").get("properties"), "properties")


@dataclass(frozen=True)
class VaultRequest:
    location: str
    tags: dict[str, str]
    sku_name: str


def parse_vault_body(body: Any) -> VaultRequest:
    data = _obj(body, "body")
    location = data.get("location")
    if not isinstance(location, str) or not location.strip():
        raise LocationRequired()
    tags = _object(data.get("tags"), "tags", required=False) or {}
    if not all(isinstance(v, str) for v in tags.values()):
        raise InvalidRequestContent("tags values must be strings")
    sku = _object(data.get("sku"), "sku", required=False) or {}
    sku_name = _string(sku, "name", "sku") or "Standard"
    canonical = {"standard": "Standard", "rs0": "RS0"}.get(sku_name.lower())
    if canonical is None:
        raise InvalidVaultSku(value=sku_name)
    return VaultRequest(location=location.strip(), tags=dict(tags), sku_name=canonical)


POLICY_SETTINGS = ("schedulePolicy", "retentionPolicy", "timeZone", "instantRpRetentionRangeInDays",
                   "policyType", "instantRPDetails", "tieringPolicy", "instantAccessSnapshotEnabled",
                   "instantAccessDurationMinutes", "snapshotConsistencyType")
_DURATION_TYPES = ("Days", "Weeks", "Months", "Years")


def parse_policy_body(body: Any) -> dict[str, Any]:
    """Validate an AzureIaasVM policy PUT body; return its settings (``Policy.settings``)."""
    props = _properties(body)
    kind = props.get("backupManagementType")
    if kind != IAAS_VM:
        raise InvalidPolicyType(value=kind)
    schedule = _policy_object(props, "schedulePolicy")
    retention = _policy_object(props, "retentionPolicy")
    frequency = _schedule(schedule, props.get("policyType"))
    _retention(retention, frequency)
    if frequency == "Weekly" and isinstance(retention.get("weeklySchedule"), dict):
        sub = schedule.get("weeklySchedule", schedule) if schedule.get("schedulePolicyType") == \
            "SimpleSchedulePolicyV2" else schedule
        extra = set(retention["weeklySchedule"].get("daysOfTheWeek") or []) - set(sub.get("scheduleRunDays") or [])
        if extra:
            raise InvalidPolicyInput("properties.retentionPolicy.weeklySchedule.daysOfTheWeek must be days the "
                                     f"schedule runs on; {', '.join(sorted(extra))} is not")
    enhanced = schedule.get("schedulePolicyType") == "SimpleSchedulePolicyV2"
    _int(props, "instantRpRetentionRangeInDays", "properties", InvalidPolicyInput, minimum=1,
         maximum=30 if enhanced else 5)
    for key in ("timeZone", "policyType", "snapshotConsistencyType"):
        if props.get(key) is not None and not isinstance(props[key], str):
            raise InvalidPolicyInput(f"properties.{key} must be a string")
    try:
        zone(props.get("timeZone"))
    except ScheduleError as err:
        raise InvalidPolicyInput(f"properties.{err}") from None
    return {key: copy.deepcopy(props[key]) for key in POLICY_SETTINGS if props.get(key) is not None}


def _policy_object(obj: Mapping[str, Any], key: str, path: str = "properties") -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise InvalidPolicyInput(f"{path}.{key} is required and must be an object")
    return value


def _schedule(schedule: dict[str, Any], policy_type: Any) -> str:
    path = "properties.schedulePolicy"
    kind = _choice(schedule.get("schedulePolicyType"), f"{path}.schedulePolicyType",
                   ("SimpleSchedulePolicy", "SimpleSchedulePolicyV2"), InvalidPolicyInput)
    if policy_type not in (None, "Invalid", "V1", "V2"):
        raise InvalidPolicyInput(f"properties.policyType must be V1 or V2, got {policy_type!r}")
    if kind == "SimpleSchedulePolicy":
        if policy_type == "V2":
            raise InvalidPolicyInput(
                f"policyType {policy_type} needs schedulePolicyType SimpleSchedulePolicyV2")
        frequency: str = _choice(schedule.get("scheduleRunFrequency"), f"{path}.scheduleRunFrequency",
                                 ("Daily", "Weekly"), InvalidPolicyInput)
        _datetime_list(schedule, "scheduleRunTimes", path, required=True)
        if frequency == "Weekly":
            _weekdays(schedule, path)
        return frequency
    if policy_type == "V1":
        raise InvalidPolicyInput(
            f"schedulePolicyType SimpleSchedulePolicyV2 needs policyType V2, got {policy_type!r}")
    frequency = _choice(schedule.get("scheduleRunFrequency"), f"{path}.scheduleRunFrequency",
                        ("Daily", "Weekly", "Hourly"), InvalidPolicyInput)
    if frequency == "Hourly":
        hourly = _policy_object(schedule, "hourlySchedule", path)
        _choice(hourly.get("interval"), f"{path}.hourlySchedule.interval", (4, 6, 8, 12), InvalidPolicyInput)
        _datetime_value(hourly.get("scheduleWindowStartTime"),
                        f"{path}.hourlySchedule.scheduleWindowStartTime")
        _int(hourly, "scheduleWindowDuration", f"{path}.hourlySchedule", InvalidPolicyInput,
             minimum=1, maximum=24, required=True)
    elif frequency == "Daily":
        daily = _policy_object(schedule, "dailySchedule", path)
        _datetime_list(daily, "scheduleRunTimes", f"{path}.dailySchedule", required=True)
    else:
        weekly = _policy_object(schedule, "weeklySchedule", path)
        _datetime_list(weekly, "scheduleRunTimes", f"{path}.weeklySchedule", required=True)
        _weekdays(weekly, f"{path}.weeklySchedule")
    return frequency


_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _weekdays(obj: Mapping[str, Any], path: str) -> None:
    days = obj.get("scheduleRunDays")
    if not isinstance(days, list) or not days or any(day not in _WEEKDAYS for day in days):
        raise InvalidPolicyInput(f"{path}.scheduleRunDays must be a non-empty list of week days")


def _retention(retention: dict[str, Any], frequency: str) -> None:
    path = "properties.retentionPolicy"
    kind = _choice(retention.get("retentionPolicyType"), f"{path}.retentionPolicyType",
                   ("LongTermRetentionPolicy", "SimpleRetentionPolicy"), InvalidPolicyInput)
    if kind == "SimpleRetentionPolicy":
        _retention_duration(retention, path)
        return
    present = [key for key in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule")
               if retention.get(key) is not None]
    needed = "weeklySchedule" if frequency == "Weekly" else "dailySchedule"
    if needed not in present:
        raise InvalidPolicyInput(f"{path}.{needed} is required for a {frequency} schedule")
    for key in present:
        schedule = _policy_object(retention, key, path)
        _retention_duration(schedule, f"{path}.{key}")
        _datetime_list(schedule, "retentionTimes", f"{path}.{key}", required=False)
        if key == "weeklySchedule":
            _names(schedule, "daysOfTheWeek", f"{path}.{key}", _WEEKDAYS)
        elif key in ("monthlySchedule", "yearlySchedule"):
            _day_format(schedule, f"{path}.{key}")
        if key == "yearlySchedule":
            _names(schedule, "monthsOfYear", f"{path}.{key}", _MONTHS)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKS_OF_MONTH = ("First", "Second", "Third", "Fourth", "Last")


def _names(obj: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> None:
    value = obj.get(key)
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise InvalidPolicyInput(f"{path}.{key} must be a non-empty list of {', '.join(allowed)}")


def _day_format(schedule: Mapping[str, Any], path: str) -> None:
    """Monthly and yearly retention name their day as days of the month (format Daily) or
    weekdays of weeks of the month (format Weekly)."""
    fmt = _choice(schedule.get("retentionScheduleFormatType"), f"{path}.retentionScheduleFormatType",
                  ("Daily", "Weekly"), InvalidPolicyInput)
    if fmt == "Weekly":
        weekly = _policy_object(schedule, "retentionScheduleWeekly", path)
        _names(weekly, "daysOfTheWeek", f"{path}.retentionScheduleWeekly", _WEEKDAYS)
        _names(weekly, "weeksOfTheMonth", f"{path}.retentionScheduleWeekly", _WEEKS_OF_MONTH)
        return
    daily = _policy_object(schedule, "retentionScheduleDaily", path)
    days = daily.get("daysOfTheMonth")
    if not isinstance(days, list) or not days or not all(isinstance(d, dict) for d in days):
        raise InvalidPolicyInput(f"{path}.retentionScheduleDaily.daysOfTheMonth must be a non-empty list of "
                                 '{"date": 1..28} or {"isLast": true}')
    for day in days:
        if day.get("isLast") is True:
            continue
        _int(day, "date", f"{path}.retentionScheduleDaily.daysOfTheMonth[]", InvalidPolicyInput, minimum=1,
             maximum=28, required=True)


def _retention_duration(obj: Mapping[str, Any], path: str) -> None:
    duration = _policy_object(obj, "retentionDuration", path)
    _int(duration, "count", f"{path}.retentionDuration", InvalidPolicyInput, minimum=1, required=True)
    _choice(duration.get("durationType"), f"{path}.retentionDuration.durationType", _DURATION_TYPES,
            InvalidPolicyInput)


PROTECTED_ITEM_TYPES = (COMPUTE_VM, CLASSIC_VM)
PROTECTION_STATES = ("Invalid", "IRPending", "Protected", "ProtectionError", "ProtectionStopped",
                     "ProtectionPaused", "BackupsSuspended")


@dataclass(frozen=True)
class ItemRequest:
    protected_item_type: str
    source_resource_id: str | None
    policy_id: str | None          # "" means: no policy (stop protection)
    protection_state: str | None


def parse_protected_item_body(body: Any) -> ItemRequest:
    props = _properties(body)
    kind = props.get("protectedItemType")
    if kind not in PROTECTED_ITEM_TYPES:
        raise InvalidProtectedItemType(
            f"protectedItemType must be one of {', '.join(PROTECTED_ITEM_TYPES)}, got {kind!r}")
    state = _string(props, "protectionState", "properties")
    if state is not None and state not in PROTECTION_STATES:
        raise InvalidProtectedItemType(
            f"protectionState must be one of {', '.join(PROTECTION_STATES)}, got {state!r}")
    return ItemRequest(protected_item_type=kind,
                       source_resource_id=_string(props, "sourceResourceId", "properties"),
                       policy_id=_string(props, "policyId", "properties"),
                       protection_state=state)


def policy_name_from_id(policy_id: str) -> str:
    """``{V}/backupPolicies/{name}`` (any case) -> name; the caller checks the vault part."""
    parts = policy_id.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2].lower() != "backuppolicies" or not parts[-1]:
        raise InvalidRequestContent(f"properties.policyId {policy_id!r} is not a backup policy id")
    return parts[-1]


@dataclass(frozen=True)
class BackupRequest:
    expiry: datetime | None


def parse_backup_body(body: Any) -> BackupRequest:
    """Trigger-backup body; no body or ``{}`` means an on-demand backup with policy retention."""
    if body is None:
        return BackupRequest(expiry=None)
    props = _object(_obj(body, "body").get("properties"), "properties", required=False)
    if props is None:
        return BackupRequest(expiry=None)
    kind = props.get("objectType")
    if kind != "IaasVMBackupRequest":
        raise InvalidBackupRequest(f"properties.objectType must be IaasVMBackupRequest, got {kind!r}")
    text = _string(props, "recoveryPointExpiryTimeInUTC", "properties")
    if text is None:
        return BackupRequest(expiry=None)
    try:
        return BackupRequest(expiry=parse_datetime(text))
    except InvalidDateTime as exc:
        raise InvalidBackupRequest(f"properties.recoveryPointExpiryTimeInUTC: {exc.message}") from None


RESTORE_OBJECT_TYPES = ("IaasVMRestoreRequest", "IaasVMRestoreWithRehydrationRequest")
RECOVERY_TYPES = ("OriginalLocation", "AlternateLocation", "RestoreDisks")
_NEEDED_BY_TYPE = {
    "OriginalLocation": (),
    "AlternateLocation": ("storageAccountId", "targetResourceGroupId", "targetVirtualMachineId"),
    "RestoreDisks": ("storageAccountId",),
}


@dataclass(frozen=True)
class RestoreRequest:
    recovery_type: str
    recovery_point_id: str | None
    source_resource_id: str | None
    storage_account_id: str | None
    target_resource_group_id: str | None
    target_virtual_machine_id: str | None
    region: str | None
    raw: dict[str, Any]


def parse_restore_body(body: Any) -> RestoreRequest:
    props = _properties(body)
    kind = props.get("objectType")
    if kind not in RESTORE_OBJECT_TYPES:
        raise InvalidRestoreRequest(
            f"properties.objectType must be one of {', '.join(RESTORE_OBJECT_TYPES)}, got {kind!r}")
    recovery_type = props.get("recoveryType")
    if recovery_type == "Offline":
        raise RecoveryTypeNotSupported(value=recovery_type)
    if recovery_type not in RECOVERY_TYPES:
        raise InvalidRestoreRequest(
            f"properties.recoveryType must be one of {', '.join(RECOVERY_TYPES)}, got {recovery_type!r}")
    fields = {key: _string(props, key, "properties")
              for key in ("recoveryPointId", "sourceResourceId", "storageAccountId", "targetResourceGroupId",
                          "targetVirtualMachineId", "region")}
    missing = [key for key in _NEEDED_BY_TYPE[recovery_type] if not fields[key]]
    if missing:
        needed = ", ".join(f"properties.{key}" for key in missing)
        raise InvalidRestoreRequest(f"recoveryType {recovery_type} needs {needed}")
    return RestoreRequest(recovery_type=recovery_type,
                          recovery_point_id=fields["recoveryPointId"],
                          source_resource_id=fields["sourceResourceId"],
                          storage_account_id=fields["storageAccountId"],
                          target_resource_group_id=fields["targetResourceGroupId"],
                          target_virtual_machine_id=fields["targetVirtualMachineId"],
                          region=fields["region"],
                          raw=copy.deepcopy(props))
