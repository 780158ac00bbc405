"""Reading a job's log (:mod:`strongbox.domain.joblogs`), a page at a time, while the job
runs or after."""

from __future__ import annotations

from strongbox.domain.errors import JobNotFound
from strongbox.domain.joblogs import LogLine
from strongbox.domain.vaults import Vault
from strongbox.services.context import ServiceContext

PAGE = 1000     # lines per call at most


def read_job_log(ctx: ServiceContext, vault: Vault, job_id: str, *, since: int = 0,
                 limit: int = PAGE) -> tuple[list[LogLine], int]:
    """The lines with seq > ``since`` (at most ``limit``), and the seq to ask after next time
    (the last line's, or ``since`` when there is none yet). JobNotFound for a job not in the vault."""
    with ctx.db.reading() as uow:
        job = uow.jobs.get_in_vault(vault.key, job_id)
        if job is None:
            raise JobNotFound(job_id=job_id, vault=vault.name)
        lines = uow.job_logs.read(job.id, since=since, limit=limit)
    return lines, lines[-1].seq if lines else since
