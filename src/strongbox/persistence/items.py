"""Protected items: one row per item, keyed by the domain's ``vault/vm-rg/vm`` key.

``deleted`` marks an item whose backup data was deleted (kept so its jobs still resolve);
lists leave such items out unless asked. Policy names match case-insensitively. Deleting
an item deletes its recovery points. A soft-deleted item (``deferred_delete_at`` set) is an
ordinary row until its purge: :meth:`ItemRepository.claim_purge` lets exactly one purge job
take it.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.domain.vaults import LastBackupStatus, ProtectedItem, ProtectionState
from strongbox.persistence.schema import items, upsert_row


class ItemRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def upsert(self, item: ProtectedItem) -> None:
        values = {
            "vault_key": item.vault_key, "subscription": item.subscription,
            "resource_group": item.resource_group, "vm_name": item.vm_name, "policy_name": item.policy_name,
            "protection_state": item.protection_state.value, "created": item.created, "data_id": item.data_id,
            "last_backup_status": item.last_backup_status.value, "last_backup_time": item.last_backup_time,
            "health_status": item.health_status, "deleted": item.deleted,
            "deferred_delete_at": item.deferred_delete_at, "purge_job_id": item.purge_job_id,
        }
        upsert_row(self._c, items, item.key, values)

    def get(self, key: str) -> ProtectedItem | None:
        row = self._c.execute(sa.select(items).where(items.c.key == key.lower())).one_or_none()
        return None if row is None else _item(row)

    def list(self, vault_key: str, *, include_deleted: bool = False) -> list[ProtectedItem]:
        """The vault's items, sorted by key (VM resource group, then VM name)."""
        query = sa.select(items).where(items.c.vault_key == vault_key)
        if not include_deleted:
            query = query.where(items.c.deleted.is_(False))
        return [_item(row) for row in self._c.execute(query.order_by(items.c.key))]

    def with_policy(self, policy_name: str | None = None, vault_key: str | None = None
                    ) -> builtins.list[ProtectedItem]:
        """Items (not deleted) that have a policy (or the given one in the given vault), by key;
        whatever their protection state."""
        query = sa.select(items).where(items.c.deleted.is_(False), items.c.policy_name.is_not(None))
        if vault_key is not None:
            query = query.where(items.c.vault_key == vault_key)
        if policy_name is not None:
            query = query.where(sa.func.lower(items.c.policy_name) == policy_name.lower())
        return [_item(row) for row in self._c.execute(query.order_by(items.c.key))]

    def count_with_policy(self, vault_key: str, policy_name: str) -> int:
        """How many items (not deleted) the policy protects."""
        query = (sa.select(sa.func.count()).select_from(items)
                 .where(items.c.vault_key == vault_key, items.c.deleted.is_(False),
                        sa.func.lower(items.c.policy_name) == policy_name.lower()))
        return int(self._c.execute(query).scalar_one())

    def delete(self, key: str) -> None:
        self._c.execute(items.delete().where(items.c.key == key.lower()))

    def due_for_purge(self, now: datetime) -> builtins.list[ProtectedItem]:
        """Soft-deleted items whose purge time is at or before ``now``, soonest first."""
        query = (sa.select(items).where(items.c.deleted.is_(False), items.c.deferred_delete_at.is_not(None),
                                        items.c.deferred_delete_at <= now)
                 .order_by(items.c.deferred_delete_at, items.c.key))
        return [_item(row) for row in self._c.execute(query)]

    def soft_deleted(self, vault_key: str) -> builtins.list[ProtectedItem]:
        """The vault's soft-deleted items, by key."""
        query = (sa.select(items).where(items.c.vault_key == vault_key, items.c.deleted.is_(False),
                                        items.c.deferred_delete_at.is_not(None)).order_by(items.c.key))
        return [_item(row) for row in self._c.execute(query)]

    def claim_purge(self, key: str, job_id: str, *, previous: str | None) -> bool:
        """Compare-and-set: record ``job_id`` as the item's purge job if the item is still soft
        deleted and its purge job is still ``previous`` (None, or a failed attempt). False when
        another process claimed it first or the item was undeleted or purged meanwhile."""
        current = items.c.purge_job_id.is_(None) if previous is None else items.c.purge_job_id == previous
        result = self._c.execute(items.update().where(items.c.key == key.lower(), items.c.deleted.is_(False),
                                                      items.c.deferred_delete_at.is_not(None), current)
                                 .values(purge_job_id=job_id))
        return bool(result.rowcount)


def _item(row: sa.Row[Any]) -> ProtectedItem:
    return ProtectedItem(
        vault_key=row.vault_key, subscription=row.subscription, resource_group=row.resource_group,
        vm_name=row.vm_name, policy_name=row.policy_name, protection_state=ProtectionState(row.protection_state),
        created=row.created, data_id=row.data_id, last_backup_status=LastBackupStatus(row.last_backup_status),
        last_backup_time=row.last_backup_time, health_status=row.health_status, deleted=bool(row.deleted),
        deferred_delete_at=row.deferred_delete_at, purge_job_id=row.purge_job_id,
    )
