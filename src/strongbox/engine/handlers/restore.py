"""The Restore job: write a recovery point back, bit for bit.

OriginalLocation writes each snapshot root over the source path it came from, and only
when that path is still one of the source's declared paths. AlternateLocation and
RestoreDisks write into the new folder the trigger chose inside a declared restore
location (named in the job's propertyBag), never anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from strongbox.dataplane.repository import Repository
from strongbox.domain.errors import InvalidParameter
from strongbox.dataplane.errors import PathEscape
from strongbox.domain.jobs import Job, JobStatus, TaskStatus
from strongbox.engine.handlers.common import human_size, load_subjects
from strongbox.engine.reporter import JobReporter
from strongbox.engine.worker import error_detail
from strongbox.services.context import ServiceContext

READ, TRANSFER = "Read recovery point", "Transfer data to target"


def run_restore(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
    subjects = load_subjects(ctx, job)
    source = subjects.source
    repo = cast(Repository, ctx.vault_storage.open(subjects.vault.storage_id))
    rep.start_task(READ)
    snapshot = repo.snapshot(str(job.request["snapshot_id"]))
    rep.finish_task(READ, details=f"{snapshot.files} files, {snapshot.bytes_total} bytes in recovery point")
    rep.start_task(TRANSFER)
    progress = rep.data_progress(TRANSFER, ctx.limits.io_limit_mbps)
    if job.request["recovery_type"] == "OriginalLocation":
        declared = {str(p) for p in source.paths}
        roots = {name: Path(original) for name, original in snapshot.roots.items() if original in declared}
        if not roots:
            raise InvalidParameter("none of the recovery point's paths is still a declared path of "
                                   f"'{source.name}'; restore to a restore location instead")
        # Over the original location the source is recreated as it was, symlinks pointing
        # anywhere included; nothing is ever written through a link (directory fds, O_NOFOLLOW).
        result = repo.restore(snapshot.id, roots=roots, progress=progress, cancel=rep.cancel,
                              allow_external_symlinks=True)
    else:
        target = Path(str(job.request["target_folder"]))
        target.mkdir(parents=True, exist_ok=False)
        rep.set_bag("Restore Location", str(target))
        try:
            result = repo.restore(snapshot.id, target, progress=progress, cancel=rep.cancel)
        except PathEscape as refused:
            # Everything else was restored; entries that would point out of the target were not.
            rep.add_error(error_detail(refused, "These entries were refused to keep the restore inside its "
                                                "target. Symlinks that point outside it are recreated only by a "
                                                "restore to the original location."))
            rep.finish_task(TRANSFER, TaskStatus.COMPLETED_WITH_WARNINGS, details=refused.message[:500])
            return JobStatus.COMPLETED_WITH_WARNINGS
    rep.tally(bytes_written=result.bytes_written)
    rep.finish_task(TRANSFER, details=f"{result.files} files, {result.bytes_written} bytes written")
    rep.bag(**{"Restored Files": str(result.files), "Restored Size": human_size(result.bytes_written)})
    return JobStatus.COMPLETED
