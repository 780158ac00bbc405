"""Backup and restore triggers, and recovery points.

A trigger validates everything it can before it creates a job, so a job that starts has
a real chance to succeed: the item is protected, the recovery point exists, the restore
target is a declared restore location and the restore folder is new. A soft-deleted item's
points are listed but not restored: Azure asks for an Undelete first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from strongbox.domain.errors import (
    InvalidParameter,
    ItemNotProtected,
    RecoveryPointNotFound,
    RestoreLocationNotDeclared,
)
from strongbox.domain.jobs import Job, JobOperation
from strongbox.domain.operations import Operation, OperationKind
from strongbox.domain.vaults import ProtectionState, RecoveryPoint, Vault
from strongbox.services.context import ServiceContext
from strongbox.services.jobs import JobSubject, start_job
from strongbox.services.protection import get_item, refuse_if_soft_deleted

RESTORE_TYPES = ("OriginalLocation", "AlternateLocation", "RestoreDisks")


def trigger_backup(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str, *,
                   expiry: datetime | None, is_user_triggered: bool = True) -> tuple[Job, Operation]:
    view = get_item(ctx, vault, container_name, item_name)
    refuse_if_soft_deleted(view.item, item_name)
    state = view.item.protection_state
    if state not in (ProtectionState.PROTECTED, ProtectionState.IR_PENDING):
        raise ItemNotProtected(name=item_name, state=state.value,
                               detail="resume protection with a policy before taking a backup")
    if expiry is not None and expiry <= ctx.clock():
        raise InvalidParameter(f"recoveryPointExpiryTimeInUTC {expiry.isoformat()} is in the past")
    subject = JobSubject(item_key=view.item.key, entity_friendly_name=view.source.name,
                         container_name=view.source.short_container_name, item_name=view.source.item_name)
    request = {"expiry": expiry.isoformat() if expiry else None}
    return start_job(ctx, vault, JobOperation.BACKUP, subject, request=request, op_kind=OperationKind.ITEM,
                     follows_job=False, is_user_triggered=is_user_triggered,
                     property_bag={"VM Name": view.source.name, "Backup Type": "Full" if view.point_count == 0
                                   else "Incremental"})


def list_points(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str,
                start: datetime | None, end: datetime | None) -> tuple[str, list[RecoveryPoint]]:
    view = get_item(ctx, vault, container_name, item_name)
    with ctx.db.unit_of_work() as uow:
        return view.item.key, uow.points.list(view.item.key, start, end)


def get_point(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str, point_id: str) -> RecoveryPoint:
    view = get_item(ctx, vault, container_name, item_name)
    with ctx.db.unit_of_work() as uow:
        point = uow.points.get(view.item.key, point_id)
    if point is None:
        raise RecoveryPointNotFound(point=point_id, name=item_name)
    return point


def trigger_restore(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str, point_id: str, *,
                    recovery_type: str, recovery_point_id: str | None, source_resource_id: str | None,
                    storage_account_id: str | None, target_vm_id: str | None,
                    target_resource_group_id: str | None) -> tuple[Job, Operation]:
    view = get_item(ctx, vault, container_name, item_name)
    refuse_if_soft_deleted(view.item, item_name)
    if recovery_point_id and recovery_point_id != point_id:
        raise InvalidParameter(f"recoveryPointId '{recovery_point_id}' does not match the recovery point "
                               f"'{point_id}' in the URL")
    if source_resource_id and source_resource_id.rstrip("/").lower() != view.source.vm_id.lower():
        raise InvalidParameter(f"sourceResourceId '{source_resource_id}' does not match the item's virtual machine")
    with ctx.db.unit_of_work() as uow:
        point = uow.points.get(view.item.key, point_id)
    if point is None:
        raise RecoveryPointNotFound(point=point_id, name=item_name)
    bag = {"VM Name": view.source.name, "Recovery Point Time": point.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "Recovery Point Id": point.id, "Restore Type": recovery_type}
    request: dict[str, object] = {"recovery_type": recovery_type, "point_id": point.id,
                                  "snapshot_id": point.snapshot_id}
    if recovery_type == "OriginalLocation":
        request["targets"] = {}
        bag["Target VM Name"] = view.source.name
        bag["Restore Location"] = ", ".join(str(p) for p in view.source.paths)
    else:
        if not storage_account_id:
            raise InvalidParameter(f"a {recovery_type} restore needs storageAccountId: one of the restore "
                                   "locations declared on this server")
        location = ctx.catalog.restore_location(storage_account_id)
        if location is None or location.subscription.lower() != vault.subscription.lower():
            raise RestoreLocationNotDeclared(storage_account_id=storage_account_id)
        folder = location.path / view.source.name / point.time.strftime("%Y%m%dT%H%M%S%fZ")
        folder = _fresh(folder)
        request["target_folder"] = str(folder)
        bag["Target Storage Account Name"] = location.name
        bag["Restore Location"] = str(folder)
        if target_resource_group_id:
            bag["Target Resource Group"] = target_resource_group_id.rstrip("/").rsplit("/", 1)[-1]
        if target_vm_id:
            bag["Target VM Name"] = target_vm_id.rstrip("/").rsplit("/", 1)[-1]
    subject = JobSubject(item_key=view.item.key, entity_friendly_name=view.source.name,
                         container_name=view.source.short_container_name, item_name=view.source.item_name)
    return start_job(ctx, vault, JobOperation.RESTORE, subject, request=request, op_kind=OperationKind.ITEM,
                     follows_job=False, property_bag=bag)


def _fresh(folder: Path) -> Path:
    """A folder name no earlier restore used: the point's time, then -2, -3, ..."""
    if not folder.exists():
        return folder
    n = 2
    while folder.with_name(f"{folder.name}-{n}").exists():
        n += 1
    return folder.with_name(f"{folder.name}-{n}")
