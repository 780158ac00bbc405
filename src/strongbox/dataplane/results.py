"""Results the data plane returns: plain dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class FileWarning:
    path: str
    reason: str


@dataclass
class BackupResult:
    snapshot_id: str
    time: datetime
    files: int
    dirs: int
    bytes_total: int
    bytes_read: int
    bytes_new: int
    bytes_stored: int
    warnings: list[FileWarning]
    duration: float


@dataclass
class RestoreResult:
    files: int
    dirs: int
    bytes_written: int
    duration: float
    target_paths: list[str]


@dataclass
class Problem:
    kind: str      # "index" | "pack" | "chunk" | "snapshot" | "tree"
    object: str    # the storage key or chunk id concerned
    message: str
    snapshots: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    ok: bool
    problems: list[Problem]


@dataclass
class PruneResult:
    packs_deleted: int
    packs_rewritten: int
    bytes_freed: int
