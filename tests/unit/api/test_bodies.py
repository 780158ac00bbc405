"""bodies: request bodies are validated into values or rejected with a specific 400 code."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongbox.api import bodies
from strongbox.domain.errors import StrongboxError

from .conftest import example

UTC = timezone.utc
VM = "/subscriptions/s/resourceGroups/rg-vms/providers/Microsoft.Compute/virtualMachines/vm-a"
POLICY = {"properties": {
    "backupManagementType": "AzureIaasVM",
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                       "scheduleRunTimes": ["2024-01-01T02:00:00Z"]},
    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                        "dailySchedule": {"retentionTimes": ["2024-01-01T02:00:00Z"],
                                          "retentionDuration": {"count": 7, "durationType": "Days"}}},
    "timeZone": "UTC", "instantRpRetentionRangeInDays": 2, "protectedItemsCount": 5}}
POLICY_V2_HOURLY = {"properties": {
    "backupManagementType": "AzureIaasVM", "policyType": "V2",
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
                       "hourlySchedule": {"interval": 4, "scheduleWindowStartTime": "2024-01-01T08:00:00Z",
                                          "scheduleWindowDuration": 12}},
    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                        "dailySchedule": {"retentionTimes": ["2024-01-01T08:00:00Z"],
                                          "retentionDuration": {"count": 30, "durationType": "Days"}}}}}
POLICY_WEEKLY_SIMPLE_RETENTION = {"properties": {
    "backupManagementType": "AzureIaasVM",
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Weekly",
                       "scheduleRunDays": ["Sunday"], "scheduleRunTimes": ["2024-01-01T02:00:00Z"]},
    "retentionPolicy": {"retentionPolicyType": "SimpleRetentionPolicy",
                        "retentionDuration": {"count": 4, "durationType": "Weeks"}}}}


def with_change(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    *parents, leaf = path.split(".")
    node = body
    for key in parents:
        node = node[key]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return body


def assert_rejected(parse: Any, body: Any, code: str, fragment: str = "") -> None:
    with pytest.raises(StrongboxError) as caught:
        parse(body)
    assert caught.value.code == code, caught.value.message
    assert caught.value.http_status == 400
    assert fragment in caught.value.message


# --- vault --------------------------------------------------------------------------------

def test_vault_body_as_the_sdk_sends_it() -> None:
    body = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicNetworkAccess": "Enabled"}}
    assert bodies.parse_vault_body(body) == bodies.VaultRequest("westeurope", {}, "Standard")
    assert bodies.parse_vault_body({"location": "x", "tags": {"a": "b"}, "sku": {"name": "rs0"}}) == \
        bodies.VaultRequest("x", {"a": "b"}, "RS0")
    assert bodies.parse_vault_body({"location": "x"}).sku_name == "Standard"


@pytest.mark.parametrize(("body", "code"), [
    ([], "InvalidRequestContent"), ("x", "InvalidRequestContent"), (None, "InvalidRequestContent"),
    ({}, "LocationRequired"), ({"location": ""}, "LocationRequired"), ({"location": 3}, "LocationRequired"),
    ({"location": "x", "sku": {"name": "Premium"}}, "InvalidVaultSku"),
    ({"location": "x", "sku": "Standard"}, "InvalidRequestContent"),
    ({"location": "x", "sku": {"name": 1}}, "InvalidRequestContent"),
    ({"location": "x", "tags": ["a"]}, "InvalidRequestContent"),
    ({"location": "x", "tags": {"a": 1}}, "InvalidRequestContent"),
])
def test_vault_body_rejected(body: Any, code: str) -> None:
    assert_rejected(bodies.parse_vault_body, body, code)


# --- policy -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [POLICY, POLICY_V2_HOURLY, POLICY_WEEKLY_SIMPLE_RETENTION])
def test_policy_body_accepted(body: dict[str, Any]) -> None:
    settings = bodies.parse_policy_body(body)
    assert settings["schedulePolicy"] == body["properties"]["schedulePolicy"]
    assert settings["retentionPolicy"] == body["properties"]["retentionPolicy"]
    assert "backupManagementType" not in settings and "protectedItemsCount" not in settings
    settings["schedulePolicy"]["x"] = 1
    assert "x" not in body["properties"]["schedulePolicy"]  # a copy, not the request


@pytest.mark.parametrize(("body", "code", "fragment"), [
    (None, "InvalidRequestContent", "body"),
    ({}, "InvalidRequestContent", "properties"),
    ({"properties": []}, "InvalidRequestContent", "properties"),
    (with_change(POLICY, "properties.backupManagementType", "AzureStorage"), "InvalidPolicyType", "AzureStorage"),
    (with_change(POLICY, "properties.backupManagementType", ...), "InvalidPolicyType", ""),
    (with_change(POLICY, "properties.schedulePolicy", ...), "BMSUserErrorInvalidPolicyInput", "schedulePolicy"),
    (with_change(POLICY, "properties.schedulePolicy.schedulePolicyType", "LogSchedulePolicy"),
     "BMSUserErrorInvalidPolicyInput", "schedulePolicyType"),
    (with_change(POLICY, "properties.schedulePolicy.scheduleRunFrequency", "Hourly"),
     "BMSUserErrorInvalidPolicyInput", "scheduleRunFrequency"),
    (with_change(POLICY, "properties.schedulePolicy.scheduleRunTimes", []),
     "BMSUserErrorInvalidPolicyInput", "scheduleRunTimes"),
    (with_change(POLICY, "properties.schedulePolicy.scheduleRunTimes", ["2am"]),
     "BMSUserErrorInvalidPolicyInput", "scheduleRunTimes"),
    (with_change(POLICY, "properties.schedulePolicy.scheduleRunTimes", "2024-01-01T02:00:00Z"),
     "BMSUserErrorInvalidPolicyInput", "scheduleRunTimes"),
    (with_change(POLICY, "properties.retentionPolicy", ...), "BMSUserErrorInvalidPolicyInput", "retentionPolicy"),
    (with_change(POLICY, "properties.retentionPolicy.retentionPolicyType", "Forever"),
     "BMSUserErrorInvalidPolicyInput", "retentionPolicyType"),
    (with_change(POLICY, "properties.retentionPolicy.dailySchedule", ...),
     "BMSUserErrorInvalidPolicyInput", "dailySchedule is required"),
    (with_change(POLICY, "properties.retentionPolicy.dailySchedule.retentionDuration.count", 0),
     "BMSUserErrorInvalidPolicyInput", "count"),
    (with_change(POLICY, "properties.retentionPolicy.dailySchedule.retentionDuration.count", "7"),
     "BMSUserErrorInvalidPolicyInput", "count"),
    (with_change(POLICY, "properties.retentionPolicy.dailySchedule.retentionDuration.count", True),
     "BMSUserErrorInvalidPolicyInput", "count"),
    (with_change(POLICY, "properties.retentionPolicy.dailySchedule.retentionDuration.durationType", "Eons"),
     "BMSUserErrorInvalidPolicyInput", "durationType"),
    (with_change(POLICY, "properties.instantRpRetentionRangeInDays", 0), "BMSUserErrorInvalidPolicyInput",
     "instantRpRetentionRangeInDays"),
    (with_change(POLICY, "properties.timeZone", 5), "BMSUserErrorInvalidPolicyInput", "timeZone"),
    (with_change(POLICY, "properties.policyType", "V2"), "BMSUserErrorInvalidPolicyInput", "V2"),
    (with_change(POLICY_V2_HOURLY, "properties.policyType", "V1"), "BMSUserErrorInvalidPolicyInput", "V1"),
    (with_change(POLICY_V2_HOURLY, "properties.schedulePolicy.hourlySchedule.interval", 5),
     "BMSUserErrorInvalidPolicyInput", "interval"),
    (with_change(POLICY_V2_HOURLY, "properties.schedulePolicy.hourlySchedule.scheduleWindowStartTime", None),
     "BMSUserErrorInvalidPolicyInput", "scheduleWindowStartTime"),
    (with_change(POLICY_V2_HOURLY, "properties.schedulePolicy.hourlySchedule", ...),
     "BMSUserErrorInvalidPolicyInput", "hourlySchedule"),
    (with_change(POLICY_WEEKLY_SIMPLE_RETENTION, "properties.schedulePolicy.scheduleRunDays", ["Caturday"]),
     "BMSUserErrorInvalidPolicyInput", "scheduleRunDays"),
    (with_change(POLICY_WEEKLY_SIMPLE_RETENTION, "properties.retentionPolicy.retentionDuration", ...),
     "BMSUserErrorInvalidPolicyInput", "retentionDuration"),
])
def test_policy_body_rejected(body: Any, code: str, fragment: str) -> None:
    assert_rejected(bodies.parse_policy_body, body, code, fragment)


# --- protected item -----------------------------------------------------------------------

def test_protected_item_bodies_as_the_sdk_sends_them() -> None:
    enable = {"properties": {"policyId": "/x/backupPolicies/daily", "sourceResourceId": VM,
                             "protectedItemType": "Microsoft.Compute/virtualMachines"}}
    assert bodies.parse_protected_item_body(enable) == bodies.ItemRequest(
        "Microsoft.Compute/virtualMachines", VM, "/x/backupPolicies/daily", None)
    stop = {"properties": {"protectionState": "ProtectionStopped", "sourceResourceId": VM, "policyId": "",
                           "protectedItemType": "Microsoft.Compute/virtualMachines"}}
    assert bodies.parse_protected_item_body(stop) == bodies.ItemRequest(
        "Microsoft.Compute/virtualMachines", VM, "", "ProtectionStopped")


def test_stop_protection_example_parses() -> None:
    body = example("2026-10-01", "AzureIaasVm", "StopProtection.json")["parameters"]["parameters"]
    request = bodies.parse_protected_item_body(body)
    assert request.protection_state == "ProtectionStopped"


@pytest.mark.parametrize(("body", "code"), [
    ("x", "InvalidRequestContent"), ({"properties": None}, "InvalidRequestContent"),
    ({"properties": {}}, "InvalidProtectedItemType"),
    ({"properties": {"protectedItemType": "AzureFileShareProtectedItem"}}, "InvalidProtectedItemType"),
    ({"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "protectionState": "Sleeping"}},
     "InvalidProtectedItemType"),
    ({"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "policyId": 7}},
     "InvalidRequestContent"),
    ({"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "sourceResourceId": ["a"]}},
     "InvalidRequestContent"),
])
def test_protected_item_body_rejected(body: Any, code: str) -> None:
    assert_rejected(bodies.parse_protected_item_body, body, code)


def test_policy_name_from_id() -> None:
    assert bodies.policy_name_from_id("/subscriptions/s/resourceGroups/r/providers/Microsoft.RecoveryServices/"
                                    "vaults/v/BackupPolicies/daily") == "daily"
    assert_rejected(bodies.policy_name_from_id, "/x/y/daily", "InvalidRequestContent")


# --- backup -------------------------------------------------------------------------------

def test_backup_bodies() -> None:
    sent = {"properties": {"recoveryPointExpiryTimeInUTC": "2026-12-29T08:28:28.988300Z",
                           "objectType": "IaasVMBackupRequest"}}
    assert bodies.parse_backup_body(sent) == bodies.BackupRequest(datetime(2026, 12, 29, 8, 28, 28, 988300, tzinfo=UTC))
    assert bodies.parse_backup_body({"properties": {"objectType": "IaasVMBackupRequest"}}).expiry is None
    assert bodies.parse_backup_body(None).expiry is None
    assert bodies.parse_backup_body({}).expiry is None
    ex = example("2026-10-01", "Common", "TriggerBackup_Post.json")["parameters"]["parameters"]
    assert bodies.parse_backup_body(ex) == bodies.BackupRequest(None)


@pytest.mark.parametrize(("body", "code"), [
    ([], "InvalidRequestContent"), ({"properties": 1}, "InvalidRequestContent"),
    ({"properties": {}}, "InvalidBackupRequest"),
    ({"properties": {"objectType": "AzureFileShareBackupRequest"}}, "InvalidBackupRequest"),
    ({"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": "soon"}},
     "InvalidBackupRequest"),
    ({"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": 5}},
     "InvalidRequestContent"),
])
def test_backup_body_rejected(body: Any, code: str) -> None:
    assert_rejected(bodies.parse_backup_body, body, code)


# --- restore ------------------------------------------------------------------------------

OL = {"properties": {"recoveryPointId": "123", "recoveryType": "OriginalLocation", "sourceResourceId": VM,
                     "originalStorageAccountOption": False, "region": "westeurope", "objectType": "IaasVMRestoreRequest"}}
AL = {"properties": {**OL["properties"], "recoveryType": "AlternateLocation",
                     "storageAccountId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/x",
                     "targetResourceGroupId": "/subscriptions/s/resourceGroups/rg2",
                     "targetVirtualMachineId": "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Compute/"
                                               "virtualMachines/vm-restored",
                     "createNewCloudService": False}}


def test_restore_bodies_as_the_sdk_sends_them() -> None:
    original = bodies.parse_restore_body(OL)
    assert (original.recovery_type, original.recovery_point_id, original.source_resource_id, original.region) == \
        ("OriginalLocation", "123", VM, "westeurope")
    assert original.storage_account_id is None
    assert original.raw == OL["properties"] and original.raw is not OL["properties"]
    alternate = bodies.parse_restore_body(AL)
    assert alternate.storage_account_id == AL["properties"]["storageAccountId"]
    assert alternate.target_virtual_machine_id.endswith("/vm-restored")  # type: ignore[union-attr]
    assert alternate.target_resource_group_id == "/subscriptions/s/resourceGroups/rg2"


@pytest.mark.parametrize(("version", "group", "name"), [
    ("2026-10-01", "AzureIaasVm", "TriggerRestore_ALR_IaasVMRestoreRequest.json"),
    ("2026-08-01", "AzureIaasVm", "TriggerRestore_RestoreDisks_IaasVMRestoreRequest.json"),
])
def test_restore_examples_parse(version: str, group: str, name: str) -> None:
    body = example(version, group, name)["parameters"]["parameters"]
    request = bodies.parse_restore_body(body)
    assert request.recovery_type == body["properties"]["recoveryType"]
    assert request.storage_account_id == body["properties"]["storageAccountId"]


@pytest.mark.parametrize(("body", "code", "fragment"), [
    (None, "InvalidRequestContent", ""),
    (with_change(OL, "properties.objectType", "AzureFileShareRestoreRequest"), "InvalidRestoreRequest", "objectType"),
    (with_change(OL, "properties.recoveryType", "Offline"), "RecoveryTypeNotSupported", "Offline"),
    (with_change(OL, "properties.recoveryType", "Invalid"), "InvalidRestoreRequest", "recoveryType"),
    (with_change(OL, "properties.recoveryType", ...), "InvalidRestoreRequest", "recoveryType"),
    (with_change(OL, "properties.recoveryPointId", 123), "InvalidRequestContent", "recoveryPointId"),
    (with_change(AL, "properties.storageAccountId", ...), "InvalidRestoreRequest", "storageAccountId"),
    (with_change(AL, "properties.targetVirtualMachineId", ""), "InvalidRestoreRequest", "targetVirtualMachineId"),
    (with_change(OL, "properties.recoveryType", "RestoreDisks"), "InvalidRestoreRequest", "storageAccountId"),
])
def test_restore_body_rejected(body: Any, code: str, fragment: str) -> None:
    assert_rejected(bodies.parse_restore_body, body, code, fragment)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=12)
_KEYS = st.sampled_from(["properties", "objectType", "recoveryType", "location", "sku", "name", "schedulePolicy",
                         "retentionPolicy", "backupManagementType", "protectedItemType", "dailySchedule"])
_SHAPED = st.recursive(_JSON, lambda inner: st.dictionaries(_KEYS, inner, max_size=4), max_leaves=20)


@given(st.one_of(_JSON, _SHAPED))
def test_parsers_raise_only_strongbox_errors(body: Any) -> None:
    for parse in (bodies.parse_vault_body, bodies.parse_policy_body, bodies.parse_protected_item_body,
                  bodies.parse_backup_body, bodies.parse_restore_body):
        try:
            parse(body)
        except StrongboxError as exc:
            assert exc.http_status == 400
