"""The Backup job: snapshot the source's declared paths into the vault.

Stages (the job's tasksList): "Take Snapshot" is the pre-scan that fixes what the backup
will read and how much; "Transfer data to vault" chunks, deduplicates, compresses,
encrypts and stores it. The recovery point is recorded only after the vault holds the
snapshot, so a point listed by the API is always restorable. Its expiry comes from the
request (``recoveryPointExpiryTimeInUTC``, pinned) or from the item's policy retention,
computed in the transaction that records it (:mod:`strongbox.services.retention`).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from strongbox.dataplane.progress import Progress
from strongbox.dataplane.repository import Repository
from strongbox.domain.errors import StrongboxError
from strongbox.domain.jobs import ErrorDetail, Job, JobStatus, TaskStatus
from strongbox.domain.vaults import LastBackupStatus, ProtectionState, RecoveryPoint
from strongbox.engine.handlers.common import human_size, load_subjects, when_vault_free
from strongbox.engine.reporter import JobReporter
from strongbox.engine.worker import numeric_code
from strongbox.services.context import ServiceContext
from strongbox.services.retention import recompute_item

SNAPSHOT, TRANSFER = "Take Snapshot", "Transfer data to vault"
MAX_WARNINGS_LISTED = 20


def run_backup(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    subjects = load_subjects(ctx, job)
    item, source = subjects.item, subjects.source
    assert item is not None
    rep.bag(**{"VM Name": source.name})
    rep.start_task(SNAPSHOT, details="scanning " + ", ".join(str(p) for p in source.paths))
    transfer_progress = rep.data_progress(TRANSFER, ctx.limits.io_limit_mbps)

    def on_progress(p: Progress) -> None:
        if p.phase == "scan":
            rep.task_progress(SNAPSHOT, 50.0, f"{p.files_total} files, {p.bytes_total} bytes found")
            return
        if rep.task(SNAPSHOT).status is TaskStatus.IN_PROGRESS:
            rep.finish_task(SNAPSHOT, details=f"{p.files_total} files, {p.bytes_total} bytes to protect")
            rep.start_task(TRANSFER)
        transfer_progress(p)

    try:
        repo = cast(Repository, ctx.vault_storage.open(subjects.vault.storage_id))
        result = when_vault_free(
            lambda: repo.backup(list(source.paths), progress=on_progress, cancel=rep.cancel, time=ctx.clock(),
                                meta={"vault": subjects.vault.name, "item": item.key, "vm": source.name,
                                      "job": job.id}),
            rep, SNAPSHOT)
    except StrongboxError:
        _record_health(ctx, item.key, LastBackupStatus.UNHEALTHY, None)
        raise
    if rep.task(SNAPSHOT).status is not TaskStatus.COMPLETED:
        rep.finish_task(SNAPSHOT)
    point = RecoveryPoint(vault_key=subjects.vault.key, item_key=item.key, id=_point_id(result.time),
                          snapshot_id=result.snapshot_id, time=result.time, bytes_total=result.bytes_total,
                          files=result.files, expiry=_expiry(job), scheduled=not job.is_user_triggered,
                          expiry_pinned=_expiry(job) is not None)
    with ctx.db.unit_of_work() as uow:
        uow.points.add(point)
        recompute_item(uow, item.key)
    status = JobStatus.COMPLETED_WITH_WARNINGS if result.warnings else JobStatus.COMPLETED
    _record_health(ctx, item.key, LastBackupStatus.HEALTHY if not result.warnings else LastBackupStatus.UNHEALTHY,
                   result.time)
    rep.tally(bytes_read=result.bytes_read, bytes_written=result.bytes_stored,
              bytes_deduplicated=max(result.bytes_read - result.bytes_new, 0))
    for w in result.warnings:   # the job's log has every one; errorDetails the first few
        rep.warning(f"{w.path}: {w.reason}")
    for w in result.warnings[:MAX_WARNINGS_LISTED]:
        code = "UserErrorFileChangedDuringBackup" if "changed" in w.reason else "UserErrorFileNotReadable"
        rep.add_error(ErrorDetail(code=code, message=f"{w.path}: {w.reason}", error_code=numeric_code(code),
                                  recommendations=["Check the file and run the backup again."]))
    rep.finish_task(TRANSFER, TaskStatus.COMPLETED_WITH_WARNINGS if result.warnings else TaskStatus.COMPLETED,
                    details=f"{result.bytes_read} bytes read, {result.bytes_new} new, {result.bytes_stored} stored")
    rep.bag(**{
        "Backup Size": human_size(result.bytes_new),
        "Data Transferred": human_size(result.bytes_stored),
        "Protected Data Size": human_size(result.bytes_total),
        "Files": str(result.files),
        "Recovery Point Id": point.id,
        "Recovery Point Time": point.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    if result.warnings:
        rep.bag(**{"Files With Warnings": str(len(result.warnings))})
    return status


def _point_id(time: datetime) -> str:
    """Azure names recovery points with numeric strings; ours are the point's time in µs."""
    return str(int(time.timestamp() * 1_000_000))


def _expiry(job: Job) -> datetime | None:
    raw = job.request.get("expiry")
    return datetime.fromisoformat(raw) if raw else None


def _record_health(ctx: ServiceContext, item_key: str, status: LastBackupStatus, when: datetime | None) -> None:
    with ctx.db.unit_of_work() as uow:
        item = uow.items.get(item_key)
        if item is None:
            return
        item.last_backup_status = status
        item.health_status = "Passed" if status is LastBackupStatus.HEALTHY else "ActionRequired"
        if when is not None:
            item.last_backup_time = when
            if item.protection_state is ProtectionState.IR_PENDING:   # the first point exists now
                item.protection_state = ProtectionState.PROTECTED
        uow.items.upsert(item)
