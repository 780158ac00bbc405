"""Vaults: one row per vault, keyed by the domain's lower-cased ``subscription/rg/name``.

A vault's names keep the client's spelling; ``subscription_lc``/``resource_group_lc`` hold
the lower-cased copies that listing matches on (ARM names are case-insensitive). Deleting a
vault deletes everything it owns: policies, items, recovery points, operations and jobs.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from strongbox.domain.errors import Conflict
from strongbox.domain.softdelete import ImmutabilityState, SecuritySettings, SoftDeleteState
from strongbox.domain.vaults import Vault
from strongbox.persistence.schema import vaults


class VaultRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, vault: Vault) -> None:
        """Insert a new vault; :class:`Conflict` when its key exists (the transaction survives)."""
        try:
            with self._c.begin_nested():
                self._c.execute(vaults.insert().values(key=vault.key, **_row(vault)))
        except IntegrityError:
            raise Conflict(f"vault '{vault.name}' already exists in resource group '{vault.resource_group}'") from None

    def update(self, vault: Vault) -> None:
        self._c.execute(vaults.update().where(vaults.c.key == vault.key).values(**_row(vault)))

    def get(self, key: str) -> Vault | None:
        row = self._c.execute(sa.select(vaults).where(vaults.c.key == key.lower())).one_or_none()
        return None if row is None else _vault(row)

    def list(self, subscription: str, resource_group: str | None = None) -> list[Vault]:
        """The subscription's (or the resource group's) vaults, sorted by name."""
        query = sa.select(vaults).where(vaults.c.subscription_lc == subscription.lower())
        if resource_group is not None:
            query = query.where(vaults.c.resource_group_lc == resource_group.lower())
        rows = self._c.execute(query.order_by(sa.func.lower(vaults.c.name), vaults.c.key))
        return [_vault(row) for row in rows]

    def delete(self, key: str) -> None:
        self._c.execute(vaults.delete().where(vaults.c.key == key.lower()))


def _row(vault: Vault) -> dict[str, Any]:
    return {
        "subscription": vault.subscription, "resource_group": vault.resource_group, "name": vault.name,
        "subscription_lc": vault.subscription.lower(), "resource_group_lc": vault.resource_group.lower(),
        "location": vault.location, "storage_id": vault.storage_id, "created": vault.created,
        "tags": dict(vault.tags), "sku_name": vault.sku_name, "etag": vault.etag,
        "soft_delete_state": vault.security.soft_delete.value, "soft_delete_days": vault.security.soft_delete_days,
        "immutability_state": vault.security.immutability.value,
    }


def _vault(row: sa.Row[Any]) -> Vault:
    return Vault(subscription=row.subscription, resource_group=row.resource_group, name=row.name,
                 location=row.location, storage_id=row.storage_id, created=row.created,
                 tags=dict(row.tags), sku_name=row.sku_name, etag=row.etag,
                 security=SecuritySettings(soft_delete=SoftDeleteState(row.soft_delete_state),
                                           soft_delete_days=int(row.soft_delete_days),
                                           immutability=ImmutabilityState(row.immutability_state)))
