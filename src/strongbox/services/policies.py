"""Backup policies (AzureIaasVM): create or update, get, list, delete.

The settings were validated at the edge; a policy that protects items cannot be deleted.
Changing a policy recomputes the expiry of every recovery point of the items it protects,
in the same transaction (Azure applies retention changes to existing points too). In an
immutable vault a change that shortens or drops a retention tier, or would move any
existing point's expiry earlier, is refused (:mod:`strongbox.domain.softdelete`).
"""

from __future__ import annotations

import uuid
from typing import Any

from strongbox.domain.errors import ImmutableVaultRetentionReduction, PolicyInUse, PolicyNotFound
from strongbox.domain.softdelete import retention_reductions
from strongbox.domain.vaults import Policy, Vault
from strongbox.persistence.database import UnitOfWork
from strongbox.services.context import ServiceContext
from strongbox.services.names import check_name
from strongbox.services.retention import recompute_policy, shortened_points


def create_or_update_policy(ctx: ServiceContext, vault: Vault, name: str, settings: dict[str, Any]) -> tuple[Policy, int]:
    check_name(name, "policy", max_len=150)
    with ctx.db.unit_of_work() as uow:
        existing = uow.policies.get(vault.key, name)
        if existing is not None and vault.security.immutable:
            check_no_reduction(uow, vault, existing, settings)
        policy = Policy(vault_key=vault.key, name=existing.name if existing else name, settings=settings,
                        created=existing.created if existing else ctx.clock(), etag=uuid.uuid4().hex)
        uow.policies.upsert(policy)
        if existing is not None:
            recompute_policy(uow, vault.key, policy.name)
        return policy, uow.items.count_with_policy(vault.key, policy.name)


def check_no_reduction(uow: UnitOfWork, vault: Vault, current: Policy | None, settings: dict[str, Any], *,
                       item_keys: list[str] | None = None) -> None:
    """Immutable vault: refuse ``settings`` in place of ``current`` (a policy update, or the
    policy an item moves from) if they keep points less long. ``item_keys``: the items to
    check (default: the items ``current`` protects)."""
    what = f"policy '{current.name}'" if current is not None else "the new policy"
    if current is not None:
        reduced = retention_reductions(current.settings.get("retentionPolicy") or {},
                                       settings.get("retentionPolicy") or {})
        if reduced:
            raise ImmutableVaultRetentionReduction(detail=f"{what}: {'; '.join(reduced)}")
    if item_keys is None:
        item_keys = [] if current is None else [i.key for i in uow.items.with_policy(current.name, vault.key)]
    for key in item_keys:
        cut = shortened_points(uow, key, settings)
        if cut:
            first = cut[0]
            now = f"{first.expiry:%Y-%m-%dT%H:%M:%SZ}" if first.expiry else "never"
            raise ImmutableVaultRetentionReduction(
                detail=f"{what} would make {len(cut)} recovery point(s) of item '{key.rsplit('/', 1)[-1]}' "
                       f"expire earlier (point {first.id} now expires {now})")


def get_policy(ctx: ServiceContext, vault: Vault, name: str) -> tuple[Policy, int]:
    with ctx.db.unit_of_work() as uow:
        policy = uow.policies.get(vault.key, name)
        if policy is None:
            raise PolicyNotFound(name=name, vault=vault.name)
        return policy, uow.items.count_with_policy(vault.key, policy.name)


def list_policies(ctx: ServiceContext, vault: Vault) -> list[tuple[Policy, int]]:
    with ctx.db.unit_of_work() as uow:
        return [(p, uow.items.count_with_policy(vault.key, p.name)) for p in uow.policies.list(vault.key)]


def delete_policy(ctx: ServiceContext, vault: Vault, name: str) -> bool:
    with ctx.db.unit_of_work() as uow:
        policy = uow.policies.get(vault.key, name)
        if policy is None:
            return False
        count = uow.items.count_with_policy(vault.key, policy.name)
        if count:
            raise PolicyInUse(name=policy.name, count=count)
        uow.policies.delete(vault.key, policy.name)
        return True
