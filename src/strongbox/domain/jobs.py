"""Jobs: the durable record of one operation, and the one status enum it moves through.

A job is an immutable request (``operation``, ``request``, the item it acts on) plus
explicit attempt state (``lease_owner``, ``lease_expires``, ``attempts``) and the progress a
worker reports (``tasks``, ``progress_percentage``, ``property_bag``...).

Invariants:
- ``status`` starts ``InProgress`` (Azure shows a queued job as InProgress) and ends in one
  of :data:`FINAL_STATUSES`; a final job never changes again.
- ``Cancelling`` is only entered from ``InProgress`` and only leads to ``Cancelled`` (or to
  another final status when the work finished before it saw the request).
- A job is claimable when it is not final and its lease is absent or expired; the claim is
  a compare-and-set on the lease, so exactly one worker runs an attempt.
- ``end_time`` is set exactly when the status becomes final.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class JobStatus(str, enum.Enum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    COMPLETED_WITH_WARNINGS = "CompletedWithWarnings"
    FAILED = "Failed"
    CANCELLING = "Cancelling"
    CANCELLED = "Cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_WARNINGS, JobStatus.FAILED, JobStatus.CANCELLED}
)


class JobOperation(str, enum.Enum):
    CONFIGURE_BACKUP = "ConfigureBackup"
    BACKUP = "Backup"
    RESTORE = "Restore"
    DISABLE_BACKUP = "DisableBackup"
    DELETE_BACKUP_DATA = "DeleteBackupData"
    UNDELETE = "Undelete"
    # Not an Azure JobOperationType (Azure removes expired points silently); strongbox does
    # real work to expire points (forget + prune), so it is a tracked job with its own name.
    EXPIRE_RECOVERY_POINTS = "ExpireRecoveryPoints"
    # Not an Azure JobOperationType either (Azure purges soft-deleted data silently): the end
    # of a soft-deleted item's retention period, when its data is deleted for good.
    PURGE_DELETED_DATA = "PurgeDeletedData"


class TaskStatus(str, enum.Enum):
    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    COMPLETED_WITH_WARNINGS = "CompletedWithWarnings"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


@dataclass
class Task:
    """One real stage of a job ("Take Snapshot", "Transfer data to vault", ...)."""

    name: str
    status: TaskStatus = TaskStatus.NOT_STARTED
    start_time: datetime | None = None
    end_time: datetime | None = None
    progress_percentage: float | None = None
    details: str = ""


@dataclass
class ErrorDetail:
    """What went wrong, as Azure's AzureIaaSVMErrorInfo reports it."""

    code: str
    message: str
    recommendations: list[str] = field(default_factory=list)
    error_code: int = 0  # Azure's numeric errorCode; ours is stable per code


# The stages each operation runs, in order; handlers report against these names.
TASKS_BY_OPERATION: dict[JobOperation, tuple[str, ...]] = {
    JobOperation.BACKUP: ("Take Snapshot", "Transfer data to vault"),
    JobOperation.RESTORE: ("Read recovery point", "Transfer data to target"),
    JobOperation.CONFIGURE_BACKUP: ("Configure protection",),
    JobOperation.DISABLE_BACKUP: ("Stop protection",),
    JobOperation.DELETE_BACKUP_DATA: ("Stop protection", "Delete backup data"),
    JobOperation.UNDELETE: ("Undelete backup item",),
    JobOperation.EXPIRE_RECOVERY_POINTS: ("Remove expired recovery points", "Prune vault data"),
    JobOperation.PURGE_DELETED_DATA: ("Delete backup data",),
}


@dataclass
class Job:
    id: str
    vault_key: str
    operation: JobOperation
    status: JobStatus
    entity_friendly_name: str
    start_time: datetime
    activity_id: str
    item_key: str | None = None
    container_name: str = ""
    is_user_triggered: bool = True
    request: dict[str, Any] = field(default_factory=dict)
    end_time: datetime | None = None
    tasks: list[Task] = field(default_factory=list)
    property_bag: dict[str, str] = field(default_factory=dict)
    error_details: list[ErrorDetail] = field(default_factory=list)
    progress_percentage: float | None = None
    eta_seconds: float | None = None
    cancel_requested: bool = False
    lease_owner: str | None = None
    lease_expires: datetime | None = None
    attempts: int = 0
    seq: int = 0

    @property
    def cancellable(self) -> bool:
        return self.status is JobStatus.IN_PROGRESS and self.operation in CANCELLABLE_OPERATIONS


CANCELLABLE_OPERATIONS = frozenset({JobOperation.BACKUP, JobOperation.RESTORE})


@dataclass(frozen=True)
class JobQuery:
    """Which jobs to list or export; every field given must match. ``start_from`` and
    ``start_to`` bound the job's start time, inclusive (Azure's startTime/endTime window)."""

    status: str | None = None
    operation: str | None = None
    backup_management_type: str | None = None
    job_id: str | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
