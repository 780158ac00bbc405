"""Asynchronous operations: what a 202 points at.

An operation record is created with every 202 and outlives its operation (clients poll
it long after). Its status is either fixed at creation (the operation's work was only to
create a job: backup and restore triggers succeed as soon as their job exists, as in Azure)
or follows its job (``follows_job``: configure, stop and delete protection, cancel) and is
then derived from the job's status when read: Completed/CompletedWithWarnings -> Succeeded,
Failed -> Failed, Cancelled -> Canceled (one L: operations spell it that way, jobs do not).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strongbox.domain.jobs import JobStatus


class OperationStatus(str, enum.Enum):
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"


class OperationKind(str, enum.Enum):
    ITEM = "item"          # PUT item, backup, restore: {PI}/operationsStatus|operationResults
    VAULT = "vault"        # DELETE item: {V}/backupOperations|backupOperationResults
    FABRIC = "fabric"      # refreshContainers: {V}/backupFabrics/{f}/operationResults|operationsStatus
    CANCEL = "cancel"      # {V}/backupJobs/{job}/operationResults
    EXPORT = "export"      # {V}/backupJobs/operationResults
    POLICY = "policy"      # DELETE policy: {V}/backupPolicies/{p}/operationResults|operations


@dataclass
class Operation:
    id: str
    vault_key: str
    kind: OperationKind
    start_time: datetime
    status: OperationStatus = OperationStatus.IN_PROGRESS
    job_id: str | None = None
    follows_job: bool = False
    end_time: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


def status_from_job(job_status: JobStatus) -> OperationStatus:
    if job_status in (JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_WARNINGS):
        return OperationStatus.SUCCEEDED
    if job_status is JobStatus.FAILED:
        return OperationStatus.FAILED
    if job_status is JobStatus.CANCELLED:
        return OperationStatus.CANCELED
    return OperationStatus.IN_PROGRESS
