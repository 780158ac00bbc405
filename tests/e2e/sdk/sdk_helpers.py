"""Small helpers over the official SDK: read raw responses through the documented ``cls=``
hook, take operation ids from async headers, and wait for operations and jobs."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
from azure.mgmt.recoveryservicesbackup.models import JobResource, OperationStatus

from tests.e2e.sdk.env import RG

RUNNING = ("InProgress", "Cancelling")
AZURE_CLI_TIME = "%Y-%m-%d %I:%M:%S %p"      # how Azure CLI writes job filter datetimes


def raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """``cls=raw``: hand back the HTTP response (status code and headers)."""
    return pipeline_response.http_response


def last_segment(url: str) -> str:
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def container_and_item(protectable_id: str) -> tuple[str, str]:
    """As Azure CLI does: the names from a protectable item's id."""
    container = re.search(r"/protectionContainers/([^/]+)", protectable_id, re.IGNORECASE)
    item = re.search(r"/protectableItems/([^/]+)", protectable_id, re.IGNORECASE)
    assert container and item, protectable_id
    return container.group(1), item.group(1)


def wait_operation(bc: RecoveryServicesBackupClient, vault: str, op_id: str,
                   timeout: float = 30.0) -> OperationStatus:
    """Poll the vault-level operation status (Azure CLI's way) until it is no longer InProgress."""
    deadline = time.monotonic() + timeout
    while True:
        status = bc.backup_operation_statuses.get(vault_name=vault, resource_group_name=RG,
                                                  operation_id=op_id)
        if status.status != "InProgress":
            return status
        assert time.monotonic() < deadline, f"operation {op_id} still InProgress after {timeout}s"
        time.sleep(0.05)


def wait_job(bc: RecoveryServicesBackupClient, vault: str, job_id: str, timeout: float = 60.0) -> JobResource:
    deadline = time.monotonic() + timeout
    while True:
        job = bc.job_details.get(vault_name=vault, resource_group_name=RG, job_name=job_id)
        if job.properties.status not in RUNNING:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.properties.status} after {timeout}s"
        time.sleep(0.1)


def job_filter_time(t: datetime) -> str:
    return t.strftime(AZURE_CLI_TIME)
