"""Protection: discovery (refresh, protectable items, containers), enable and modify
protection, stop protection retaining data, stop-and-delete-data, and undelete.

Every change of protection is a tracked job (ConfigureBackup, DisableBackup,
DeleteBackupData, Undelete) run by a worker; the API answers 202 at once.

Soft delete (:mod:`strongbox.domain.softdelete`): when the vault's soft delete is on,
DeleteBackupData keeps the item, protection stopped, with its recovery points, until its
purge time; such an item can be read and listed (its points too) but not backed up,
restored, protected, stopped or deleted again until an Undelete (a PUT with
``isRehydrate: true``) brings it back with protection stopped. In an immutable vault the
data of an item with an unexpired recovery point cannot be deleted, and an item cannot move
to a policy that would make its points expire earlier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from strongbox.domain.errors import (
    BadRequest,
    ImmutableVaultEarlyDeletion,
    InvalidParameter,
    ItemNotFound,
    ItemNotProtected,
    ItemNotSoftDeleted,
    ItemSoftDeleted,
    PolicyNotFound,
    SourceNotDeclared,
)
from strongbox.domain.jobs import Job, JobOperation
from strongbox.domain.operations import Operation, OperationKind, OperationStatus
from strongbox.domain.sources import Source, parse_container_name, parse_item_name
from strongbox.domain.vaults import ProtectedItem, ProtectionState, RecoveryPoint, Vault, item_key
from strongbox.services.context import ServiceContext
from strongbox.services.jobs import JobSubject, start_job
from strongbox.services.policies import check_no_reduction


@dataclass
class ItemView:
    """A protected item with what its ARM view shows."""

    item: ProtectedItem
    source: Source
    last_point: RecoveryPoint | None
    oldest_point: RecoveryPoint | None
    point_count: int


def refresh_containers(ctx: ServiceContext, vault: Vault) -> Operation:
    """Discovery is instant here (sources come from the config): the operation is born done."""
    now = ctx.clock()
    op = Operation(id=str(uuid.uuid4()), vault_key=vault.key, kind=OperationKind.FABRIC, start_time=now,
                   status=OperationStatus.SUCCEEDED, end_time=now)
    with ctx.db.unit_of_work() as uow:
        uow.operations.add(op)
    return op


def protectable_sources(ctx: ServiceContext, vault: Vault) -> list[tuple[Source, bool]]:
    """Every declared source in the vault's subscription, with whether this vault protects it."""
    with ctx.db.unit_of_work() as uow:
        protected = {i.key for i in uow.items.list(vault.key) if not i.deleted}
    return [(s, item_key(vault.key, s.resource_group, s.name) in protected)
            for s in ctx.catalog.sources(vault.subscription)]


def resolve_source(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str | None = None) -> Source:
    parsed = parse_container_name(container_name)
    if parsed is None:
        raise InvalidParameter(f"'{container_name}' is not an IaaS VM container name "
                               "(IaasVMContainer;iaasvmcontainerv2;<resource group>;<vm>)")
    if item_name is not None:
        parsed_item = parse_item_name(item_name)
        if parsed_item is None:
            raise InvalidParameter(f"'{item_name}' is not an IaaS VM item name (VM;iaasvmcontainerv2;<resource group>;<vm>)")
        if (parsed_item[0].lower(), parsed_item[1].lower()) != (parsed[0].lower(), parsed[1].lower()):
            raise InvalidParameter(f"item '{item_name}' does not belong to container '{container_name}'")
    source = ctx.catalog.source(vault.subscription, parsed[0], parsed[1])
    if source is None:
        raise SourceNotDeclared(name=parsed[1], resource_group=parsed[0])
    return source


def container_sources(ctx: ServiceContext, vault: Vault) -> list[Source]:
    """Registered containers: the sources this vault protects (or protected and kept data of)."""
    with ctx.db.unit_of_work() as uow:
        items = [i for i in uow.items.list(vault.key) if not i.deleted]
    found = [ctx.catalog.source(vault.subscription, i.resource_group, i.vm_name) for i in items]
    return [s for s in found if s is not None]


def _view(ctx: ServiceContext, uow: object, item: ProtectedItem, source: Source) -> ItemView:
    points = uow.points.list(item.key)  # type: ignore[attr-defined]
    return ItemView(item=item, source=source, last_point=points[0] if points else None,
                    oldest_point=points[-1] if points else None, point_count=len(points))


def get_item(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str) -> ItemView:
    source = resolve_source(ctx, vault, container_name, item_name)
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(item_key(vault.key, source.resource_group, source.name))
        if item is None or item.deleted:
            raise ItemNotFound(name=item_name, vault=vault.name)
        return _view(ctx, uow, item, source)


def list_items(ctx: ServiceContext, vault: Vault) -> list[ItemView]:
    views = []
    with ctx.db.unit_of_work() as uow:
        for item in uow.items.list(vault.key):
            source = ctx.catalog.source(vault.subscription, item.resource_group, item.vm_name)
            if source is not None and not item.deleted:
                views.append(_view(ctx, uow, item, source))
    return views


def _subject(vault: Vault, source: Source) -> JobSubject:
    return JobSubject(item_key=item_key(vault.key, source.resource_group, source.name),
                      entity_friendly_name=source.name, container_name=source.short_container_name,
                      item_name=source.item_name)


def _check_source_id(source: Source, source_resource_id: str | None) -> None:
    if source_resource_id and source_resource_id.rstrip("/").lower() != source.vm_id.lower():
        raise InvalidParameter(f"sourceResourceId '{source_resource_id}' does not match the item's virtual machine "
                               f"'{source.vm_id}'")


def _policy_name(vault: Vault, policy_id: str) -> str:
    prefix = f"/subscriptions/{vault.subscription}/resourceGroups/{vault.resource_group}/providers/" \
             f"Microsoft.RecoveryServices/vaults/{vault.name}/backupPolicies/"
    if policy_id.lower().startswith(prefix.lower()) and "/" not in policy_id[len(prefix):]:
        return policy_id[len(prefix):]
    raise InvalidParameter(f"policyId '{policy_id}' is not a backup policy of vault '{vault.name}'")


def refuse_if_soft_deleted(item: ProtectedItem, item_name: str) -> None:
    if item.soft_deleted and item.deferred_delete_at is not None:
        raise ItemSoftDeleted(name=item_name, purge_time=f"{item.deferred_delete_at:%Y-%m-%dT%H:%M:%SZ}")


def configure_protection(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str, *,
                         source_resource_id: str | None, policy_id: str | None,
                         protection_state: str | None, is_rehydrate: bool = False) -> tuple[Job, Operation]:
    """PUT protectedItem: enable or modify protection (ConfigureBackup), stop it keeping
    the data (DisableBackup), or undelete a soft-deleted item (Undelete, ``isRehydrate``)."""
    source = resolve_source(ctx, vault, container_name, item_name)
    _check_source_id(source, source_resource_id)
    key = item_key(vault.key, source.resource_group, source.name)
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(key)
    if item is not None and item.deleted:
        item = None
    if is_rehydrate:
        return undelete(ctx, vault, source, item, item_name, policy_id=policy_id, protection_state=protection_state)
    if item is not None:
        refuse_if_soft_deleted(item, item_name)
    if protection_state is not None and protection_state.lower() == ProtectionState.PROTECTION_STOPPED.value.lower():
        if item is None:
            raise ItemNotFound(name=item_name, vault=vault.name)
        if item.protection_state is ProtectionState.PROTECTION_STOPPED:
            raise ItemNotProtected(name=item_name, state=item.protection_state.value, detail="protection is already stopped")
        return start_job(ctx, vault, JobOperation.DISABLE_BACKUP, _subject(vault, source), request={},
                         op_kind=OperationKind.ITEM, follows_job=True)
    if protection_state not in (None, "", ProtectionState.PROTECTED.value, ProtectionState.IR_PENDING.value):
        raise InvalidParameter(f"protectionState '{protection_state}' cannot be set; use ProtectionStopped "
                               "to stop protection, or give a policyId to protect")
    if not policy_id:
        raise BadRequest("a policyId is required to enable or modify protection")
    policy_name = _policy_name(vault, policy_id)
    with ctx.db.unit_of_work() as uow:
        policy = uow.policies.get(vault.key, policy_name)
        if policy is None:
            raise PolicyNotFound(name=policy_name, vault=vault.name)
        if item is not None and vault.security.immutable:
            current = uow.policies.get(vault.key, item.policy_name) if item.policy_name else None
            check_no_reduction(uow, vault, current, policy.settings, item_keys=[item.key])
    return start_job(ctx, vault, JobOperation.CONFIGURE_BACKUP, _subject(vault, source),
                     request={"policy_name": policy.name}, op_kind=OperationKind.ITEM, follows_job=True)


def undelete(ctx: ServiceContext, vault: Vault, source: Source, item: ProtectedItem | None, item_name: str, *,
             policy_id: str | None, protection_state: str | None) -> tuple[Job, Operation]:
    """PUT protectedItem with ``isRehydrate: true`` (``az backup protection undelete``): an
    Undelete job brings a soft-deleted item back, protection stopped, with its recovery points."""
    if item is None:
        raise ItemNotFound(name=item_name, vault=vault.name)
    if not item.soft_deleted:
        raise ItemNotSoftDeleted(name=item_name, state=item.protection_state.value)
    if policy_id:
        raise InvalidParameter("an undelete (isRehydrate) brings the item back with protection stopped; "
                               "leave policyId empty and protect it with a second PUT")
    if protection_state not in (None, "", ProtectionState.PROTECTION_STOPPED.value):
        raise InvalidParameter(f"an undelete (isRehydrate) brings the item back as ProtectionStopped, "
                               f"not {protection_state}")
    return start_job(ctx, vault, JobOperation.UNDELETE, _subject(vault, source), request={},
                     op_kind=OperationKind.ITEM, follows_job=True)


def delete_protection(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str) -> tuple[Job, Operation]:
    """DELETE protectedItem: stop protection and delete the backup data (DeleteBackupData):
    soft deleted for the vault's retention period when its soft delete is on, else at once."""
    source = resolve_source(ctx, vault, container_name, item_name)
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(item_key(vault.key, source.resource_group, source.name))
        points = uow.points.list(item.key) if item is not None else []
    if item is None or item.deleted:
        raise ItemNotFound(name=item_name, vault=vault.name)
    refuse_if_soft_deleted(item, item_name)
    if vault.security.immutable:
        now = ctx.clock()
        unexpired = [p for p in points if p.expiry is None or p.expiry > now]
        if unexpired:
            last = max(unexpired, key=lambda p: (p.expiry is None, p.expiry or now))
            until = f"until {last.expiry:%Y-%m-%dT%H:%M:%SZ}" if last.expiry else "with no expiry"
            raise ImmutableVaultEarlyDeletion(detail=f"{len(unexpired)} recovery point(s) of item '{item_name}' "
                                                     f"have not expired (the last is kept {until}); stop "
                                                     "protection retaining the data instead")
    request = {"soft_delete_days": vault.security.soft_delete_days} if vault.security.soft_delete_on else {}
    return start_job(ctx, vault, JobOperation.DELETE_BACKUP_DATA, _subject(vault, source), request=request,
                     op_kind=OperationKind.VAULT, follows_job=True)


def is_configured(ctx: ServiceContext, vault: Vault, container_name: str, item_name: str) -> bool:
    """Whether the vault already holds this item (protected, stopped or soft-deleted): a PUT
    on it changes existing protection rather than enabling new protection."""
    source = resolve_source(ctx, vault, container_name, item_name)
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(item_key(vault.key, source.resource_group, source.name))
    return item is not None and not item.deleted
