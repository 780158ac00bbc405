"""Handlers for vaults and backup policies, named after Azure's operations."""

from __future__ import annotations

from strongbox.api import bodies, wire
from strongbox.api.call import Call, Reply
from strongbox.api.filters import simple_filter
from strongbox.domain.vaults import Vault
from strongbox.services import policies, vaults


def vault_of(call: Call) -> Vault:
    p = call.params
    return vaults.get_vault(call.ctx, p["subscriptionId"], p["resourceGroupName"], p["vaultName"])


def vaults_create_or_update(call: Call) -> Reply:
    req = bodies.parse_vault_body(call.json())
    p = call.params
    security = vaults.SecurityChange(soft_delete=req.soft_delete, soft_delete_days=req.soft_delete_days,
                                     immutability=req.immutability)
    vault, created = vaults.create_or_update_vault(call.ctx, p["subscriptionId"], p["resourceGroupName"],
                                                   p["vaultName"], location=req.location, tags=req.tags,
                                                   sku_name=req.sku_name, security=security)
    return Reply(201 if created else 200, wire.vault_resource(vault))


def vaults_update(call: Call) -> Reply:
    """PATCH a vault (PatchVault): only what the body names changes; tags, sku and each security
    setting it leaves out are kept, and the vault must exist."""
    vault = vault_of(call)
    body = call.json()
    if isinstance(body, dict):
        body = {"location": vault.location, "tags": vault.tags, "sku": {"name": vault.sku_name},
                **{k: v for k, v in body.items() if k in ("tags", "sku", "properties")}}
    req = bodies.parse_vault_body(body)
    security = vaults.SecurityChange(soft_delete=req.soft_delete, soft_delete_days=req.soft_delete_days,
                                     immutability=req.immutability)
    updated, _ = vaults.create_or_update_vault(call.ctx, vault.subscription, vault.resource_group, vault.name,
                                               location=vault.location, tags=req.tags, sku_name=req.sku_name,
                                               security=security)
    return Reply(200, wire.vault_resource(updated))


def vaults_get(call: Call) -> Reply:
    return Reply(200, wire.vault_resource(vault_of(call)))


def vaults_list_by_subscription(call: Call) -> Reply:
    found = vaults.list_vaults(call.ctx, call.params["subscriptionId"])
    return Reply(200, wire.page([wire.vault_resource(v) for v in found if call.visible(v.resource_group)], None))


def vaults_list_by_resource_group(call: Call) -> Reply:
    found = vaults.list_vaults(call.ctx, call.params["subscriptionId"], call.params["resourceGroupName"])
    return Reply(200, wire.page([wire.vault_resource(v) for v in found], None))


def vaults_delete(call: Call) -> Reply:
    p = call.params
    existed = vaults.delete_vault(call.ctx, p["subscriptionId"], p["resourceGroupName"], p["vaultName"])
    return Reply(200 if existed else 204)


def protection_policies_create_or_update(call: Call) -> Reply:
    vault = vault_of(call)
    settings = bodies.parse_policy_body(call.json())
    policy, count = policies.create_or_update_policy(call.ctx, vault, call.params["policyName"], settings)
    return Reply(200, wire.policy_resource(policy, vault, count))


def protection_policies_get(call: Call) -> Reply:
    vault = vault_of(call)
    policy, count = policies.get_policy(call.ctx, vault, call.params["policyName"])
    return Reply(200, wire.policy_resource(policy, vault, count))


def backup_policies_list(call: Call) -> Reply:
    vault = vault_of(call)
    wanted = simple_filter(call.filter, ("backupManagementType", "fabricName", "workloadType"))
    kind = wanted.get("backupManagementType")
    found = [] if kind and kind.lower() != wire.IAAS_VM.lower() else policies.list_policies(call.ctx, vault)
    return Reply(200, wire.page([wire.policy_resource(p, vault, n) for p, n in found], None))


def protection_policies_delete(call: Call) -> Reply:
    vault = vault_of(call)
    existed = policies.delete_policy(call.ctx, vault, call.params["policyName"])
    return Reply(200 if existed else 204)
