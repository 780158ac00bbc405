"""Counts over the job table, for the metrics: computed by the database at each scrape,
so every server process sharing it reports the same numbers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.persistence.schema import jobs


class JobStatsRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def by_operation_and_status(self) -> dict[tuple[str, str], int]:
        """(operation, status) -> how many job records there are."""
        rows = self._c.execute(sa.select(jobs.c.operation, jobs.c.status, sa.func.count())
                               .group_by(jobs.c.operation, jobs.c.status))
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def waiting(self) -> int:
        """Jobs no worker has claimed yet: the queue depth."""
        query = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.is_final.is_(False), jobs.c.attempts == 0)
        return int(self._c.execute(query).scalar() or 0)
