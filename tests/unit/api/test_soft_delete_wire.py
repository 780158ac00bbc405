"""Soft delete on the wire: a soft-deleted item's deferred-delete fields, a vault's security
settings (both read by the real SDK models), and the bodies that change them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from azure.mgmt.recoveryservices.models import PatchVault as SdkPatchVault
from azure.mgmt.recoveryservices.models import Vault as SdkVault
from azure.mgmt.recoveryservicesbackup.models import AzureIaaSComputeVMProtectedItem, ProtectedItemResource

from strongbox.api import bodies, wire
from strongbox.domain.errors import StrongboxError
from strongbox.domain.softdelete import ImmutabilityState, SecuritySettings, SoftDeleteState
from strongbox.domain.sources import Source
from strongbox.domain.vaults import ProtectedItem, ProtectionState, Vault

from .conftest import NOW, definition_properties

VM = "/subscriptions/s/resourceGroups/rg-vms/providers/Microsoft.Compute/virtualMachines/vm-a"


def soft_deleted_item(vault: Vault, purge_in: timedelta) -> ProtectedItem:
    return ProtectedItem(vault_key=vault.key, subscription=vault.subscription, resource_group="rg-vms",
                         vm_name="vm-a", policy_name=None,
                         protection_state=ProtectionState.PROTECTION_STOPPED,
                         created=NOW - timedelta(days=30), data_id="1", deferred_delete_at=NOW + purge_in)


def test_a_soft_deleted_item(vault: Vault, source: Source) -> None:
    item = soft_deleted_item(vault, timedelta(days=13, hours=2))
    body = wire.protected_item_resource(item, source, vault, last_point=None, oldest_point=None,
                                        point_count=0, now=NOW)
    props = body["properties"]
    assert set(props) <= definition_properties("AzureIaaSComputeVMProtectedItem")
    assert props["isScheduledForDeferredDelete"] is True
    assert props["deferredDeleteTimeInUTC"] == "2026-12-12T10:30:00.0000000Z"
    assert props["deferredDeleteTimeRemaining"] == "13.02:00:00"
    assert props["isDeferredDeleteScheduleUpcoming"] is False
    assert props["protectionState"] == "ProtectionStopped" and props["policyId"] == ""
    model = ProtectedItemResource(body)   # 11.x keeps the base class: read by mapping access
    assert model.properties["isScheduledForDeferredDelete"] is True
    typed = AzureIaaSComputeVMProtectedItem(props)
    assert typed.deferred_delete_time_in_utc.isoformat() == "2026-12-12T10:30:00+00:00"
    soon = wire.protected_item_resource(soft_deleted_item(vault, timedelta(hours=30)), source, vault,
                                        last_point=None, oldest_point=None, point_count=0, now=NOW)
    assert soon["properties"]["isDeferredDeleteScheduleUpcoming"] is True


def test_a_kept_item_says_it_is_not_scheduled_for_deletion(vault: Vault, source: Source) -> None:
    item = soft_deleted_item(vault, timedelta(days=1))
    item.deferred_delete_at = None
    props = wire.protected_item_resource(item, source, vault, last_point=None, oldest_point=None,
                                         point_count=0, now=NOW)["properties"]
    assert props["isScheduledForDeferredDelete"] is False
    assert not {"deferredDeleteTimeInUTC", "deferredDeleteTimeRemaining"} & set(props)


def test_vault_security_settings_deserialize(vault: Vault) -> None:
    vault.security = SecuritySettings(soft_delete=SoftDeleteState.ALWAYS_ON, soft_delete_days=30,
                                      immutability=ImmutabilityState.LOCKED)
    security = SdkVault(wire.vault_resource(vault)).properties.security_settings
    assert security.soft_delete_settings.soft_delete_state == "AlwaysON"
    assert security.soft_delete_settings.soft_delete_retention_period_in_days == 30
    assert security.immutability_settings.state == "Locked"


def test_vault_bodies_as_clients_send_them() -> None:
    # Azure CLI's `az backup vault create`
    cli = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {
        "publicNetworkAccess": "Enabled", "securitySettings": {"softDeleteSettings": {
            "softDeleteState": "AlwaysOn", "softDeleteRetentionPeriodInDays": 14,
            "enhancedSecurityState": "AlwaysOn"}}}}
    req = bodies.parse_vault_body(cli)
    assert (req.soft_delete, req.soft_delete_days, req.immutability) == (SoftDeleteState.ALWAYS_ON, 14, None)
    # the SDK's PatchVault shape, as `az backup vault update --immutability-state` fills it
    patch: dict[str, Any] = SdkPatchVault(properties={"securitySettings": {"immutabilitySettings": {
        "state": "Unlocked"}}}).as_dict()
    req = bodies.parse_vault_body({"location": "westeurope", **patch})
    assert (req.soft_delete, req.soft_delete_days) == (None, None)
    assert req.immutability is ImmutabilityState.UNLOCKED
    assert bodies.parse_vault_body({"location": "x"}) == bodies.VaultRequest("x", {}, "Standard")


@pytest.mark.parametrize(("security", "code"), [
    ({"softDeleteSettings": {"softDeleteState": "Invalid"}}, "InvalidSecuritySettings"),
    ({"softDeleteSettings": {"softDeleteRetentionPeriodInDays": 13}}, "InvalidSecuritySettings"),
    ({"softDeleteSettings": {"softDeleteRetentionPeriodInDays": 181}}, "InvalidSecuritySettings"),
    ({"softDeleteSettings": {"softDeleteRetentionPeriodInDays": True}}, "InvalidSecuritySettings"),
    ({"immutabilitySettings": {"state": 1}}, "InvalidRequestContent"),
    ({"immutabilitySettings": []}, "InvalidRequestContent"),
    ("on", "InvalidRequestContent"),
])
def test_vault_security_rejected(security: Any, code: str) -> None:
    with pytest.raises(StrongboxError) as caught:
        bodies.parse_vault_body({"location": "x", "properties": {"securitySettings": security}})
    assert caught.value.code == code and caught.value.http_status == 400


def test_undelete_bodies() -> None:
    # Azure CLI (`az backup protection undelete`) and Terraform's recovery of a soft-deleted VM
    cli = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "policyId": "",
                          "protectionState": "ProtectionStopped", "sourceResourceId": VM,
                          "isRehydrate": True}}
    terraform = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                                "isRehydrate": True}}
    assert bodies.parse_protected_item_body(cli).is_rehydrate is True
    assert bodies.parse_protected_item_body(terraform) == bodies.ItemRequest(
        "Microsoft.Compute/virtualMachines", None, None, None, is_rehydrate=True)
    sdk = ProtectedItemResource(properties=AzureIaaSComputeVMProtectedItem(is_rehydrate=True)).as_dict()
    assert bodies.parse_protected_item_body(sdk).is_rehydrate is True
    unset = {"properties": {**terraform["properties"], "isRehydrate": None}}
    assert bodies.parse_protected_item_body(unset).is_rehydrate is False
    with pytest.raises(StrongboxError) as caught:
        bodies.parse_protected_item_body({"properties": {**terraform["properties"], "isRehydrate": "yes"}})
    assert caught.value.code == "InvalidRequestContent"
