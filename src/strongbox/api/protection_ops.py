"""Handlers for discovery, protected items, backup, recovery points and restore."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from strongbox.api import bodies, wire
from strongbox.api.authz import MANAGE_PROTECTION
from strongbox.api.call import Call, Reply
from strongbox.api.filters import recovery_point_filter, simple_filter
from strongbox.api.vault_ops import vault_of
from strongbox.domain.errors import InvalidParameter
from strongbox.domain.operations import Operation
from strongbox.domain.sources import FABRIC
from strongbox.domain.vaults import Vault
from strongbox.services import backups, protection
from strongbox.services.protection import ItemView


def _check_fabric(call: Call) -> None:
    if call.params["fabricName"].lower() != FABRIC.lower():
        raise InvalidParameter(f"fabric '{call.params['fabricName']}' does not exist; the only fabric is '{FABRIC}'")


def _item_path(call: Call) -> str:
    """The item's ARM path exactly as the caller wrote it (clients poll what we send back)."""
    path = call.path
    for suffix in ("/backup",):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    marker = "/protectedItems/"
    low = path.lower()
    idx = low.find(marker.lower())
    end = low.find("/", idx + len(marker))
    return unquote(path if end == -1 else path[:end])


def item_resource(view: ItemView, vault: Vault, now: datetime) -> dict[str, Any]:
    return wire.protected_item_resource(view.item, view.source, vault, last_point=view.last_point,
                                        oldest_point=view.oldest_point, point_count=view.point_count, now=now)

def _accepted_at_item(call: Call, op: Operation) -> Reply:
    """202 whose operation is tracked at the item: ``operationsStatus`` and ``operationResults``."""
    item = _item_path(call)
    return Reply(202, headers=call.async_headers(location=f"{item}/operationResults/{op.id}",
                                                 async_operation=f"{item}/operationsStatus/{op.id}"))



def protection_containers_refresh(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    simple_filter(call.filter, ("backupManagementType", "containerSubscriptionId"))
    op = protection.refresh_containers(call.ctx, vault)
    vpath = wire.vault_id(vault.subscription, vault.resource_group, vault.name)
    return Reply(202, headers=call.async_headers(location=f"{vpath}/backupFabrics/{FABRIC}/operationResults/{op.id}"))


def backup_protectable_items_list(call: Call) -> Reply:
    vault = vault_of(call)
    wanted = simple_filter(call.filter, ("backupManagementType", "workloadType", "containerName", "status",
                                         "friendlyName"))
    values = []
    for source, protected in protection.protectable_sources(call.ctx, vault):
        if not call.visible(source.resource_group):
            continue
        if wanted.get("backupManagementType", wire.IAAS_VM).lower() != wire.IAAS_VM.lower():
            continue
        if wanted.get("workloadType", "VM").lower() != "vm":
            continue
        if "friendlyName" in wanted and wanted["friendlyName"].lower() != source.name.lower():
            continue
        status = "Protected" if protected else "NotProtected"
        if "status" in wanted and wanted["status"].lower() != status.lower():
            continue
        values.append(wire.protectable_item_resource(source, vault, protected))
    return Reply(200, wire.page(values, None))


def backup_protection_containers_list(call: Call) -> Reply:
    vault = vault_of(call)
    wanted = simple_filter(call.filter, ("backupManagementType", "containerType", "backupEngineName",
                                         "fabricName", "status", "friendlyName"))
    values = []
    if wanted.get("backupManagementType", wire.IAAS_VM).lower() == wire.IAAS_VM.lower():
        for source in protection.container_sources(call.ctx, vault):
            if not call.visible(source.resource_group):
                continue
            if "friendlyName" in wanted and wanted["friendlyName"].lower() != source.name.lower():
                continue
            values.append(wire.container_resource(source, vault, True))
    return Reply(200, wire.page(values, None))


def protection_containers_get(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    source = protection.resolve_source(call.ctx, vault, call.params["containerName"])
    registered = source in protection.container_sources(call.ctx, vault)
    return Reply(200, wire.container_resource(source, vault, registered))


def backup_protected_items_list(call: Call) -> Reply:
    vault = vault_of(call)
    wanted = simple_filter(call.filter, ("healthState", "backupManagementType", "itemType", "policyName",
                                         "containerName", "backupEngineName", "friendlyName", "fabricName",
                                         "backupSetName"))
    values = []
    for view in protection.list_items(call.ctx, vault):
        if not call.visible(view.source.resource_group):
            continue
        if wanted.get("backupManagementType", wire.IAAS_VM).lower() != wire.IAAS_VM.lower():
            continue
        if wanted.get("itemType", "VM").lower() != "vm":
            continue
        if "policyName" in wanted and (view.item.policy_name or "").lower() != wanted["policyName"].lower():
            continue
        if "friendlyName" in wanted and view.source.name.lower() != wanted["friendlyName"].lower():
            continue
        values.append(item_resource(view, vault, call.ctx.clock()))
    return Reply(200, wire.page(values, None))


def protected_items_get(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    view = protection.get_item(call.ctx, vault, call.params["containerName"], call.params["protectedItemName"])
    return Reply(200, item_resource(view, vault, call.ctx.clock()))


def protected_items_create_or_update(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    req = bodies.parse_protected_item_body(call.json())
    stopping = (req.protection_state or "").lower() in ("protectionstopped", "protectionpaused")
    if stopping or protection.is_configured(call.ctx, vault, call.params["containerName"],
                                            call.params["protectedItemName"]):
        call.authorize(MANAGE_PROTECTION)   # Backup Operator may only enable protection
    _, op = protection.configure_protection(call.ctx, vault, call.params["containerName"],
                                            call.params["protectedItemName"],
                                            source_resource_id=req.source_resource_id, policy_id=req.policy_id,
                                            protection_state=req.protection_state, is_rehydrate=req.is_rehydrate)
    return _accepted_at_item(call, op)


def protected_items_delete(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    _, op = protection.delete_protection(call.ctx, vault, call.params["containerName"],
                                         call.params["protectedItemName"])
    vpath = wire.vault_id(vault.subscription, vault.resource_group, vault.name)
    return Reply(202, headers=call.async_headers(location=f"{vpath}/backupOperationResults/{op.id}",
                                                 async_operation=f"{vpath}/backupOperations/{op.id}"))


def backups_trigger(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    req = bodies.parse_backup_body(call.json(required=False) if call.raw_body.strip() else None)
    _, op = backups.trigger_backup(call.ctx, vault, call.params["containerName"], call.params["protectedItemName"],
                                   expiry=req.expiry)
    return _accepted_at_item(call, op)


def recovery_points_list(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    start, end = recovery_point_filter(call.filter)
    _, points = backups.list_points(call.ctx, vault, call.params["containerName"], call.params["protectedItemName"],
                                    start, end)
    item = _item_path(call)
    return Reply(200, wire.page([wire.recovery_point_resource(p, item) for p in points], None))


def recovery_points_get(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    point = backups.get_point(call.ctx, vault, call.params["containerName"], call.params["protectedItemName"],
                              call.params["recoveryPointId"])
    return Reply(200, wire.recovery_point_resource(point, _item_path(call)))


def restores_trigger(call: Call) -> Reply:
    _check_fabric(call)
    vault = vault_of(call)
    req = bodies.parse_restore_body(call.json())
    for named in (req.storage_account_id, req.target_resource_group_id, req.target_virtual_machine_id):
        call.check_scope(named)
    _, op = backups.trigger_restore(
        call.ctx, vault, call.params["containerName"], call.params["protectedItemName"],
        call.params["recoveryPointId"], recovery_type=req.recovery_type, recovery_point_id=req.recovery_point_id,
        source_resource_id=req.source_resource_id, storage_account_id=req.storage_account_id,
        target_vm_id=req.target_virtual_machine_id, target_resource_group_id=req.target_resource_group_id)
    return _accepted_at_item(call, op)
