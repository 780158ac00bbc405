"""Job counts for the metrics, read from the database at each scrape."""

from __future__ import annotations

from dataclasses import dataclass

from strongbox.services.context import ServiceContext


@dataclass(frozen=True)
class JobCounts:
    by_operation_and_status: dict[tuple[str, str], int]   # every job record kept
    waiting: int                                          # queued, not claimed by a worker yet


def job_counts(ctx: ServiceContext) -> JobCounts:
    with ctx.db.reading() as uow:
        return JobCounts(uow.job_stats.by_operation_and_status(), uow.job_stats.waiting())
