"""Vault operations: create or update, get, list, delete.

A vault is a row in the database plus a repository in vault storage. Create writes the
repository first and the row second, so a row never points at a repository that does not
exist; delete removes the row first and the repository second (an orphaned repository is
harmless and invisible).

A vault's security settings (soft delete, immutability) change only as
:func:`strongbox.domain.softdelete.change_settings` allows; a PUT that leaves them out keeps
them. A vault that still holds items, soft-deleted ones included, cannot be deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from strongbox.domain.errors import VaultHasSoftDeletedItems, VaultNotEmpty, VaultNotFound
from strongbox.domain.jobs import JobQuery
from strongbox.domain.softdelete import ImmutabilityState, SecuritySettings, SoftDeleteState, change_settings
from strongbox.domain.vaults import Vault, vault_key
from strongbox.services.context import ServiceContext
from strongbox.services.names import check_name


@dataclass(frozen=True)
class SecurityChange:
    """The security settings a request asks for; None: as they are (or the default)."""

    soft_delete: SoftDeleteState | None = None
    soft_delete_days: int | None = None
    immutability: ImmutabilityState | None = None

    def applied_to(self, current: SecuritySettings) -> SecuritySettings:
        return change_settings(current, soft_delete=self.soft_delete, soft_delete_days=self.soft_delete_days,
                               immutability=self.immutability)


def create_or_update_vault(ctx: ServiceContext, subscription: str, resource_group: str, name: str, *,
                           location: str, tags: dict[str, str], sku_name: str,
                           security: SecurityChange = SecurityChange()) -> tuple[Vault, bool]:
    """Returns the vault and whether it was created."""
    check_name(resource_group, "resource group")
    check_name(name, "vault", max_len=50)
    key = vault_key(subscription, resource_group, name)
    with ctx.db.unit_of_work() as uow:
        existing = uow.vaults.get(key)
        if existing is not None:
            existing.security = security.applied_to(existing.security)
            existing.location, existing.tags, existing.sku_name = location, tags, sku_name
            existing.etag = uuid.uuid4().hex
            uow.vaults.update(existing)
            return existing, False
    settings = security.applied_to(SecuritySettings())   # Azure's defaults: soft delete on, 14 days
    storage_id = uuid.uuid4().hex
    ctx.vault_storage.create(storage_id)
    vault = Vault(subscription=subscription, resource_group=resource_group, name=name, location=location,
                  storage_id=storage_id, created=ctx.clock(), tags=tags, sku_name=sku_name,
                  etag=uuid.uuid4().hex, security=settings)
    with ctx.db.unit_of_work() as uow:
        if uow.vaults.get(key) is not None:     # a racing create won: keep theirs
            ctx.vault_storage.destroy(storage_id)
            winner = uow.vaults.get(key)
            assert winner is not None
            return winner, False
        uow.vaults.add(vault)
    return vault, True


def get_vault(ctx: ServiceContext, subscription: str, resource_group: str, name: str) -> Vault:
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(vault_key(subscription, resource_group, name))
    if vault is None:
        raise VaultNotFound(name=name, resource_group=resource_group)
    return vault


def list_vaults(ctx: ServiceContext, subscription: str, resource_group: str | None = None) -> list[Vault]:
    with ctx.db.unit_of_work() as uow:
        return uow.vaults.list(subscription, resource_group)


def delete_vault(ctx: ServiceContext, subscription: str, resource_group: str, name: str) -> bool:
    """Returns False when there was no such vault (ARM answers 204 then)."""
    key = vault_key(subscription, resource_group, name)
    with ctx.db.unit_of_work() as uow:
        vault = uow.vaults.get(key)
        if vault is None:
            return False
        items = [i for i in uow.items.list(key) if not i.deleted and not i.soft_deleted]
        if items:
            raise VaultNotEmpty(name=name, detail=f"{len(items)} protected item(s); delete their backup data first")
        soft = uow.items.soft_deleted(key)
        if soft:
            last = max(i.deferred_delete_at for i in soft if i.deferred_delete_at is not None)
            raise VaultHasSoftDeletedItems(name=name, detail=f"{len(soft)} item(s): {', '.join(i.vm_name for i in soft)}; "
                                                             f"the last is permanently deleted at {last:%Y-%m-%dT%H:%M:%SZ}")
        running = [j for status in ("InProgress", "Cancelling")
                   for j in uow.jobs.list(key, JobQuery(status=status), limit=1)]
        if running:
            raise VaultNotEmpty(name=name, detail=f"job {running[0].id} is still running")
        uow.vaults.delete(key)
    ctx.vault_storage.destroy(vault.storage_id)
    return True

