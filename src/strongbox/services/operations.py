"""Reading operation records, with the status of operations that follow their job
derived from that job at read time (so the two can never disagree)."""

from __future__ import annotations

from dataclasses import dataclass

from strongbox.domain.errors import OperationNotFound
from strongbox.domain.jobs import Job
from strongbox.domain.operations import Operation, OperationKind, OperationStatus, status_from_job
from strongbox.domain.vaults import Vault
from strongbox.services.context import ServiceContext


@dataclass
class OperationView:
    operation: Operation
    status: OperationStatus
    job: Job | None
    error_code: str | None
    error_message: str | None

    @property
    def done(self) -> bool:
        return self.status is not OperationStatus.IN_PROGRESS


def get_operation(ctx: ServiceContext, vault: Vault, operation_id: str,
                  kinds: tuple[OperationKind, ...] | None = None) -> OperationView:
    with ctx.db.unit_of_work() as uow:
        op = uow.operations.get(vault.key, operation_id)
        job = uow.jobs.get(op.job_id) if op is not None and op.job_id else None
    if op is None or (kinds is not None and op.kind not in kinds):
        raise OperationNotFound(operation_id=operation_id)
    status, code, message = op.status, op.error_code, op.error_message
    if op.follows_job and job is not None:
        status = status_from_job(job.status)
        if status in (OperationStatus.FAILED, OperationStatus.CANCELED) and job.error_details:
            code, message = job.error_details[0].code, job.error_details[0].message
        elif status is OperationStatus.CANCELED:
            code, message = "OperationCancelled", f"Job {job.id} was cancelled."
    return OperationView(operation=op, status=status, job=job, error_code=code, error_message=message)
