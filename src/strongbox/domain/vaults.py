"""Vaults, policies, protected items and recovery points: the backup management model.

Resource names are matched case-insensitively, as ARM does: every aggregate has a ``key``
built from lower-cased names, while the names as the client first wrote them are kept for
display. A vault's ``storage_id`` names its repository on disk and never changes, so that a
vault deleted and created again under the same name never meets the old data.

An item's data is in one of three states: kept (``deleted`` false, ``deferred_delete_at``
None), *soft deleted* (``deferred_delete_at`` set: protection stopped, points kept, purged
for good at that time; see :mod:`strongbox.domain.softdelete`) or gone (``deleted``: the row
stays so that its jobs still resolve).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strongbox.domain.softdelete import SecuritySettings


def vault_key(subscription: str, resource_group: str, name: str) -> str:
    return f"{subscription}/{resource_group}/{name}".lower()


@dataclass
class Vault:
    subscription: str
    resource_group: str
    name: str
    location: str
    storage_id: str
    created: datetime
    tags: dict[str, str] = field(default_factory=dict)
    sku_name: str = "Standard"
    etag: str = ""
    security: SecuritySettings = field(default_factory=SecuritySettings)

    @property
    def key(self) -> str:
        return vault_key(self.subscription, self.resource_group, self.name)


@dataclass
class Policy:
    """An AzureIaasVM protection policy.

    ``settings`` holds the schedule and retention exactly as the client sent them
    (``schedulePolicy``, ``retentionPolicy``, ``timeZone``, ``instantRpRetentionRangeInDays``,
    ``policyType``): validated on the way in, interpreted by :mod:`strongbox.domain.schedule`
    (when backups run) and :mod:`strongbox.domain.retention` (how long points are kept).
    """

    vault_key: str
    name: str
    settings: dict[str, Any]
    created: datetime
    etag: str = ""

    @property
    def key(self) -> str:
        return f"{self.vault_key}/{self.name.lower()}"


class ProtectionState(str, enum.Enum):
    IR_PENDING = "IRPending"
    PROTECTED = "Protected"
    PROTECTION_ERROR = "ProtectionError"
    PROTECTION_STOPPED = "ProtectionStopped"
    PROTECTION_PAUSED = "ProtectionPaused"


class LastBackupStatus(str, enum.Enum):
    INVALID = "Invalid"
    HEALTHY = "Healthy"
    UNHEALTHY = "Unhealthy"
    IR_PENDING = "IRPending"


@dataclass
class ProtectedItem:
    vault_key: str
    subscription: str
    resource_group: str          # the VM's (source's) resource group
    vm_name: str                 # the source's name
    policy_name: str | None
    protection_state: ProtectionState
    created: datetime
    data_id: str                 # protectedItemDataId: stable numeric string
    last_backup_status: LastBackupStatus = LastBackupStatus.IR_PENDING
    last_backup_time: datetime | None = None
    health_status: str = "Passed"
    deleted: bool = False
    deferred_delete_at: datetime | None = None  # soft deleted: the data is purged at this time
    purge_job_id: str | None = None             # the purge job that claimed it (exactly one per item)

    @property
    def key(self) -> str:
        return item_key(self.vault_key, self.resource_group, self.vm_name)

    @property
    def soft_deleted(self) -> bool:
        return self.deferred_delete_at is not None and not self.deleted


def item_key(vault_key_: str, vm_resource_group: str, vm_name: str) -> str:
    return f"{vault_key_}/{vm_resource_group}/{vm_name}".lower()


@dataclass
class RecoveryPoint:
    vault_key: str
    item_key: str
    id: str                      # numeric string, as Azure names recovery points
    snapshot_id: str             # the vault's snapshot that holds the data
    time: datetime
    bytes_total: int
    files: int
    expiry: datetime | None = None
    scheduled: bool = False      # taken by the policy's schedule, not on demand
    expiry_pinned: bool = False  # the client set the expiry (recoveryPointExpiryTimeInUTC): retention leaves it
