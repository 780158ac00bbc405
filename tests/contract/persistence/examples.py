"""Domain objects with every field set to something other than its default."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from strongbox.domain.jobs import ErrorDetail, Job, JobOperation, JobStatus, Task, TaskStatus
from strongbox.domain.vaults import LastBackupStatus, Policy, ProtectedItem, ProtectionState, RecoveryPoint, Vault

T0 = datetime(2026, 11, 29, 7, 28, 30, 123456, tzinfo=timezone.utc)
CET = timezone(timedelta(hours=1))


def vault(name: str = "Vault-One", *, subscription: str = "Sub-1", resource_group: str = "RG-A") -> Vault:
    return Vault(subscription=subscription, resource_group=resource_group, name=name, location="westeurope",
                 storage_id=uuid.uuid4().hex, created=T0, tags={"env": "ci", "owner": "ops"}, sku_name="RS0",
                 etag="etag-1")


def policy(vault_key: str, name: str = "DailyPolicy") -> Policy:
    settings = {"policyType": "V2", "schedulePolicy": {"scheduleRunTimes": ["2026-11-29T02:00:00Z"]},
                "retentionPolicy": {"dailySchedule": {"retentionDuration": {"count": 30}}}, "timeZone": "UTC"}
    return Policy(vault_key=vault_key, name=name, settings=settings, created=T0, etag="p-etag")


def item(vault_key: str, vm: str = "vm-1", *, policy_name: str | None = "DailyPolicy") -> ProtectedItem:
    return ProtectedItem(vault_key=vault_key, subscription="Sub-1", resource_group="VM-RG", vm_name=vm,
                         policy_name=policy_name, protection_state=ProtectionState.PROTECTED, created=T0,
                         data_id="17592186044416", last_backup_status=LastBackupStatus.HEALTHY,
                         last_backup_time=T0 + timedelta(hours=1), health_status="ActionRequired", deleted=False)


def point(vault_key: str, item_key: str, point_id: str, time: datetime) -> RecoveryPoint:
    return RecoveryPoint(vault_key=vault_key, item_key=item_key, id=point_id, snapshot_id=f"snap-{point_id}",
                         time=time, bytes_total=5_000_000_000, files=1234, expiry=time + timedelta(days=30))


def job(vault_key: str, *, item_key: str | None = None, operation: JobOperation = JobOperation.BACKUP,
        start: datetime = T0, job_id: str | None = None) -> Job:
    return Job(id=job_id or str(uuid.uuid4()), vault_key=vault_key, operation=operation,
               status=JobStatus.IN_PROGRESS, entity_friendly_name="vm-1", start_time=start,
               activity_id=str(uuid.uuid4()), item_key=item_key)


def full_job(vault_key: str) -> Job:
    """A job with every field set, as a worker leaves it."""
    return Job(
        id=str(uuid.uuid4()), vault_key=vault_key, operation=JobOperation.RESTORE, status=JobStatus.CANCELLING,
        entity_friendly_name="vm-ü", start_time=T0.astimezone(CET), activity_id="act-1", item_key="k/vm-1",
        container_name="IaasVMContainer;iaasvmcontainerv2;rg;vm-1", is_user_triggered=False,
        request={"recoveryPointId": "123", "nested": {"list": [1, 2.5, None, True]}},
        end_time=None,
        tasks=[Task("Read recovery point", TaskStatus.COMPLETED, T0, T0 + timedelta(microseconds=1), 100.0, "ok"),
               Task("Transfer data to target", TaskStatus.IN_PROGRESS, T0.astimezone(CET), None, 42.125, "")],
        property_bag={"VM Name": "vm-1", "Backup Size": "10 MB", "a": "1"},
        error_details=[ErrorDetail("UserErrorX", "it broke", ["retry", "wait"], 400123)],
        progress_percentage=42.125, eta_seconds=12.5, cancel_requested=True, lease_owner="w-1",
        lease_expires=T0 + timedelta(seconds=30, microseconds=7), attempts=1,
    )
