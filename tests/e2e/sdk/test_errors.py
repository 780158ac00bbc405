"""Errors as the official SDK surfaces them: the CloudError body parsed into ``e.error``,
the HTTP status mapped to azure-core's exception classes. (The 409 for a second backup
while one runs is exercised in the lifecycle flow, where a backup is really running.)"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservices.models import Sku, Vault, VaultProperties
from azure.mgmt.recoveryservicesbackup.models import (
    AzureIaaSVMProtectionPolicy,
    DailyRetentionSchedule,
    LongTermRetentionPolicy,
    ProtectionPolicyResource,
    RetentionDuration,
    SimpleSchedulePolicy,
)

from tests.e2e.sdk.env import API_VERSIONS, RG, tag


@pytest.fixture(scope="module")
def error_vault(vault_client: RecoveryServicesClient) -> str:
    name = "vault-errors"
    vault_client.vaults.begin_create_or_update(
        resource_group_name=RG, vault_name=name,
        vault=Vault(location="westeurope", sku=Sku(name="Standard"),
                    properties=VaultProperties(public_network_access="Enabled"))).result(timeout=30)
    return name


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_unknown_job_is_resource_not_found_with_the_cloud_error_code(api_version: str, error_vault: str,
                                                                     backup_client_for: Any) -> None:
    bc = backup_client_for(api_version)
    missing = str(uuid.uuid4())
    with pytest.raises(ResourceNotFoundError) as exc:
        bc.job_details.get(vault_name=error_vault, resource_group_name=RG, job_name=missing)
    assert exc.value.status_code == 404
    assert exc.value.error is not None and exc.value.error.code == "BMSUserErrorJobNotFound"
    assert missing in exc.value.error.message


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_unknown_vault_is_resource_not_found(api_version: str, vault_client: RecoveryServicesClient,
                                             backup_client_for: Any) -> None:
    bc = backup_client_for(api_version)
    with pytest.raises(ResourceNotFoundError) as exc:
        list(bc.backup_jobs.list(vault_name="no-such-vault", resource_group_name=RG))
    assert exc.value.error is not None and exc.value.error.code == "ResourceNotFound"


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_invalid_policy_is_bms_user_error_invalid_policy_input(api_version: str, error_vault: str,
                                                               backup_client_for: Any) -> None:
    bc = backup_client_for(api_version)
    run = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)
    bad = AzureIaaSVMProtectionPolicy(
        schedule_policy=SimpleSchedulePolicy(schedule_run_frequency="Daily", schedule_run_times=[]),
        retention_policy=LongTermRetentionPolicy(daily_schedule=DailyRetentionSchedule(
            retention_times=[run], retention_duration=RetentionDuration(count=7, duration_type="Days"))),
        time_zone="UTC")
    with pytest.raises(HttpResponseError) as exc:
        bc.protection_policies.create_or_update(vault_name=error_vault, resource_group_name=RG,
                                                policy_name=f"bad-{tag(api_version)}",
                                                parameters=ProtectionPolicyResource(properties=bad))
    assert exc.value.status_code == 400
    assert exc.value.error is not None and exc.value.error.code == "BMSUserErrorInvalidPolicyInput"
    assert "scheduleRunTimes" in exc.value.error.message
    with pytest.raises(ResourceNotFoundError):
        bc.protection_policies.get(vault_name=error_vault, resource_group_name=RG,
                                   policy_name=f"bad-{tag(api_version)}")
