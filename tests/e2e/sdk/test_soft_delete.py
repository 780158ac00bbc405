"""Soft delete and Undelete through Azure's official SDKs (unmodified): a vault with Azure's
default soft delete, delete-backup-data that keeps the item, the undelete Azure CLI sends
(``isRehydrate``), and a restore of the undeleted point, byte for byte."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

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
    config = write_config(root / "strongbox.toml", {"data_dir": str(root / "data"), "retry_after": 0},
                          None, [{"subscription": SUB, "resource_group": RG, "name": VM, "paths": [str(root / "src" / VM)]}],
                          [{"subscription": SUB, "resource_group": RG, "name": RESTORE_ACCOUNT,
                            "path": str(root / "restores")}])
    with serving(config, root / "data") as srv:
        srv.sources = root / "src"  # type: ignore[attr-defined]
        yield srv
        gc.collect()    # release the refused restore's connection, or the server waits for it on exit


def test_delete_and_undelete_through_the_sdk(server: RunningServer) -> None:
    token = StaticToken(server.token(SUB))
    opts = {"base_url": server.base_url, "connection_verify": str(server.ca), "polling_interval": POLLING_INTERVAL}
    with RecoveryServicesClient(token, SUB, **opts) as vc, RecoveryServicesBackupClient(token, SUB, **opts) as bc:
        vault = vc.vaults.begin_create_or_update(RG, VAULT, Vault(location="westeurope", sku=Sku(name="Standard"))
                                                 ).result(timeout=LRO_TIMEOUT_S)
        soft = vault.properties.security_settings.soft_delete_settings
        assert (soft.soft_delete_state, soft.soft_delete_retention_period_in_days) == ("Enabled", 14)
        v = {"vault_name": VAULT, "resource_group_name": RG}
        item = {**v, "fabric_name": "Azure", "container_name": Names.container(VM), "protected_item_name": Names.item(VM)}
        policy = bc.protection_policies.create_or_update(**v, policy_name="daily", parameters=ProtectionPolicyResource(
            properties=policy_properties()))
        bc.protected_items.begin_create_or_update(**item, parameters=ProtectedItemResource(
            properties=AzureIaaSComputeVMProtectedItem(policy_id=policy.id, source_resource_id=Names.vm_id(VM)))
        ).result(timeout=LRO_TIMEOUT_S)
        r = bc.backups.trigger(**item, parameters=BackupRequestResource(properties=IaasVMBackupRequest()), cls=raw)
        backup = wait_operation(bc, VAULT, last_segment(r.headers["Azure-AsyncOperation"]))
        assert wait_job(bc, VAULT, backup.properties.job_id).properties.status == "Completed"
        [point] = list(bc.recovery_points.list(**item))

        # delete backup data: the item stays, soft deleted, with its recovery point
        r = bc.protected_items.delete(**item, cls=raw)
        assert r.status_code == 202
        status = wait_operation(bc, VAULT, last_segment(r.headers["Azure-AsyncOperation"]))
        job = wait_job(bc, VAULT, status.properties.job_id).properties
        assert (job.operation, job.status) == ("DeleteBackupData", "Completed")
        deleted = bc.protected_items.get(**item).properties
        assert deleted["isScheduledForDeferredDelete"] is True and deleted["protectionState"] == "ProtectionStopped"
        assert deleted["deferredDeleteTimeInUTC"] and deleted["deferredDeleteTimeRemaining"].startswith("13.23:")
        assert [p.name for p in bc.recovery_points.list(**item)] == [point.name]
        restore = RestoreRequestResource(properties=IaasVMRestoreRequest(
            recovery_type="RestoreDisks", storage_account_id=Names.storage_account_id()))
        with pytest.raises(HttpResponseError) as refused:
            bc.restores.begin_trigger(**item, recovery_point_id=point.name, parameters=restore)
        assert refused.value.status_code == 400 and refused.value.error.code == "ItemSoftDeleted"

        # undelete, the way `az backup protection undelete` does it: a PUT with isRehydrate
        poller = bc.protected_items.begin_create_or_update(**item, parameters=ProtectedItemResource(
            properties=AzureIaaSComputeVMProtectedItem(protection_state="ProtectionStopped", policy_id="",
                                                       source_resource_id=Names.vm_id(VM), is_rehydrate=True)))
        back = poller.result(timeout=LRO_TIMEOUT_S).properties
        assert back["isScheduledForDeferredDelete"] is False and back["protectionState"] == "ProtectionStopped"
        [undelete] = list(bc.backup_jobs.list(**v, filter="operation eq 'Undelete'"))
        assert undelete.properties.status == "Completed" and undelete.properties.entity_friendly_name == VM

        # and the point restores
        bc.restores.begin_trigger(**item, recovery_point_id=point.name, parameters=restore).result(LRO_TIMEOUT_S)
        [restore_job] = list(bc.backup_jobs.list(**v, filter="operation eq 'Restore'"))
        props = wait_job(bc, VAULT, restore_job.name).properties
        assert (props.operation, props.status) == ("Restore", "Completed")
        target = Path(props.extended_info.property_bag["Restore Location"]) / VM
        assert describe(target) == describe(server.sources / VM)  # type: ignore[attr-defined]