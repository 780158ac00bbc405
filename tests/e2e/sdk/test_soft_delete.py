"""Soft delete and Undelete through Azure's official SDKs (unmodified): a vault with Azure's
default soft delete, delete-backup-data that keeps the item, the undelete Azure CLI sends
(``isRehydrate``), and a restore of the undeleted point, byte for byte."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservices.models import Sku, Vault
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
from azure.mgmt.recoveryservicesbackup.models import (
    AzureIaaSComputeVMProtectedItem,
    BackupRequestResource,
    IaasVMBackupRequest,
    IaasVMRestoreRequest,
    ProtectedItemResource,
    ProtectionPolicyResource,
    RestoreRequestResource,
)

from tests.e2e.sdk.env import POLLING_INTERVAL, RESTORE_ACCOUNT, RG, SUB, Names, StaticToken
from tests.e2e.sdk.sdk_helpers import last_segment, raw, wait_job, wait_operation
from tests.e2e.sdk.test_lifecycle import LRO_TIMEOUT_S, policy_properties
from tests.support.servers import RunningServer, serving, write_config
from tests.support.trees import describe, make_tree

VM, VAULT = "vm-soft", "vault-soft"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("sdk-soft")
    make_tree(root / "src" / VM)
    sources = [{"subscription": SUB, "resource_group": RG, "name": VM, "paths": [str(root / "src" / VM)]}]
    locations = [{"subscription": SUB, "resource_group": RG, "name": RESTORE_ACCOUNT,
                  "path": str(root / "restores")}]
    config = write_config(root / "strongbox.toml", {"data_dir": str(root / "data"), "retry_after": 0},
                          None, sources, locations)
    with serving(config, root / "data") as srv:
        srv.sources = root / "src"  # type: ignore[attr-defined]
        yield srv
        gc.collect()    # release the refused restore's connection, or the server waits for it on exit


@pytest.fixture
def clients(server: RunningServer) -> Iterator[tuple[RecoveryServicesClient, RecoveryServicesBackupClient]]:
    token = StaticToken(server.token(SUB))
    opts: dict[str, Any] = {"base_url": server.base_url, "connection_verify": str(server.ca),
                            "polling_interval": POLLING_INTERVAL}
    with RecoveryServicesClient(token, SUB, **opts) as vc, \
            RecoveryServicesBackupClient(token, SUB, **opts) as bc:
        yield vc, bc


V = {"vault_name": VAULT, "resource_group_name": RG}
ITEM = {**V, "fabric_name": "Azure", "container_name": Names.container(VM),
        "protected_item_name": Names.item(VM)}


def protected_with_a_point(bc: RecoveryServicesBackupClient) -> str:
    policy = bc.protection_policies.create_or_update(
        **V, policy_name="daily", parameters=ProtectionPolicyResource(properties=policy_properties()))
    item = AzureIaaSComputeVMProtectedItem(policy_id=policy.id, source_resource_id=Names.vm_id(VM))
    bc.protected_items.begin_create_or_update(**ITEM, parameters=ProtectedItemResource(properties=item)
                                              ).result(timeout=LRO_TIMEOUT_S)
    request = BackupRequestResource(properties=IaasVMBackupRequest())
    r = bc.backups.trigger(**ITEM, parameters=request, cls=raw)
    backup = wait_operation(bc, VAULT, last_segment(r.headers["Azure-AsyncOperation"]))
    assert wait_job(bc, VAULT, backup.properties.job_id).properties.status == "Completed"
    [point] = list(bc.recovery_points.list(**ITEM))
    return str(point.name)


def test_delete_and_undelete_through_the_sdk(
        server: RunningServer, clients: tuple[RecoveryServicesClient, RecoveryServicesBackupClient]) -> None:
    vc, bc = clients
    vault = vc.vaults.begin_create_or_update(RG, VAULT, Vault(location="westeurope", sku=Sku(name="Standard"))
                                             ).result(timeout=LRO_TIMEOUT_S)
    soft = vault.properties.security_settings.soft_delete_settings
    assert (soft.soft_delete_state, soft.soft_delete_retention_period_in_days) == ("Enabled", 14)
    point = protected_with_a_point(bc)

    # delete backup data: the item stays, soft deleted, with its recovery point
    r = bc.protected_items.delete(**ITEM, cls=raw)
    assert r.status_code == 202
    status = wait_operation(bc, VAULT, last_segment(r.headers["Azure-AsyncOperation"]))
    job = wait_job(bc, VAULT, status.properties.job_id).properties
    assert (job.operation, job.status) == ("DeleteBackupData", "Completed")
    deleted = bc.protected_items.get(**ITEM).properties
    assert deleted["isScheduledForDeferredDelete"] is True
    assert deleted["protectionState"] == "ProtectionStopped" and deleted["deferredDeleteTimeInUTC"]
    assert deleted["deferredDeleteTimeRemaining"].startswith("13.23:")
    assert [p.name for p in bc.recovery_points.list(**ITEM)] == [point]
    restore = RestoreRequestResource(properties=IaasVMRestoreRequest(
        recovery_type="RestoreDisks", storage_account_id=Names.storage_account_id()))
    with pytest.raises(HttpResponseError) as refused:
        bc.restores.begin_trigger(**ITEM, recovery_point_id=point, parameters=restore)
    assert refused.value.status_code == 400 and refused.value.error.code == "ItemSoftDeleted"

    # undelete, the way `az backup protection undelete` does it: a PUT with isRehydrate
    undelete = AzureIaaSComputeVMProtectedItem(protection_state="ProtectionStopped", policy_id="",
                                               source_resource_id=Names.vm_id(VM), is_rehydrate=True)
    poller = bc.protected_items.begin_create_or_update(**ITEM,
                                                       parameters=ProtectedItemResource(properties=undelete))
    back = poller.result(timeout=LRO_TIMEOUT_S).properties
    assert back["isScheduledForDeferredDelete"] is False and back["protectionState"] == "ProtectionStopped"
    [undeleted] = list(bc.backup_jobs.list(**V, filter="operation eq 'Undelete'"))
    assert undeleted.properties.status == "Completed" and undeleted.properties.entity_friendly_name == VM

    # and the point restores
    bc.restores.begin_trigger(**ITEM, recovery_point_id=point, parameters=restore).result(LRO_TIMEOUT_S)
    [restore_job] = list(bc.backup_jobs.list(**V, filter="operation eq 'Restore'"))
    props = wait_job(bc, VAULT, restore_job.name).properties
    assert (props.operation, props.status) == ("Restore", "Completed")
    target = Path(props.extended_info.property_bag["Restore Location"]) / VM
    assert describe(target) == describe(server.sources / VM)  # type: ignore[attr-defined]
