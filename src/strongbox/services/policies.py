"""Backup policies (AzureIaasVM): create or update, get, list, delete.

The settings were validated at the edge; a policy that protects items cannot be deleted.
Changing a policy recomputes the expiry of every recovery point of the items it protects,
in the same transaction (Azure applies retention changes to existing points too).
"""

from __future__ import annotations

import uuid
from typing import Any

from strongbox.domain.errors import PolicyInUse, PolicyNotFound
from strongbox.domain.vaults import Policy, Vault
from strongbox.services.context import ServiceContext
from strongbox.services.names import check_name
from strongbox.services.retention import recompute_policy


def create_or_update_policy(ctx: ServiceContext, vault: Vault, name: str, settings: dict[str, Any]) -> tuple[Policy, int]:
    check_name(name, "policy", max_len=150)
    with ctx.db.unit_of_work() as uow:
        existing = uow.policies.get(vault.key, name)
        policy = Policy(vault_key=vault.key, name=existing.name if existing else name, settings=settings,
                        created=existing.created if existing else ctx.clock(), etag=uuid.uuid4().hex)
        uow.policies.upsert(policy)
        if existing is not None:
            recompute_policy(uow, vault.key, policy.name)
        return policy, uow.items.count_with_policy(vault.key, policy.name)


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
