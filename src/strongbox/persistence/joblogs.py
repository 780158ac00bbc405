"""Job logs: the lines of each job's log (:mod:`strongbox.domain.joblogs`), one row per line.

While a job runs, its worker is the only writer and numbers the lines itself, appending
them in batches (:meth:`JobLogRepository.append`, one statement per batch). After a job is
final, :meth:`JobLogRepository.add` appends a line numbered after the last one (the reaper
says why it failed a job); a line racing for the same number loses with an
``IntegrityError``, never overwrites. Rows go with their job (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.domain.joblogs import MAX_MESSAGE, LogLine
from strongbox.persistence.schema import job_logs


class JobLogRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def append(self, job_id: str, lines: Sequence[LogLine]) -> None:
        """Insert lines numbered by the caller (seq unique per job)."""
        if lines:
            self._c.execute(job_logs.insert(), [_row(job_id, line) for line in lines])

    def add(self, job_id: str, time: datetime, level: str, message: str) -> int:
        """Append one line after the last; returns its seq."""
        seq = self.last_seq(job_id) + 1
        self._c.execute(job_logs.insert().values(_row(job_id, LogLine(seq, time, level, message))))
        return seq

    def last_seq(self, job_id: str) -> int:
        """The seq of the job's last line; 0 when it has none."""
        found = self._c.execute(sa.select(sa.func.max(job_logs.c.seq)).where(job_logs.c.job_id == job_id)).scalar()
        return int(found or 0)

    def read(self, job_id: str, *, since: int = 0, limit: int = 1000) -> list[LogLine]:
        """At most ``limit`` lines with seq > ``since``, in order."""
        rows = self._c.execute(sa.select(job_logs).where(job_logs.c.job_id == job_id, job_logs.c.seq > since)
                               .order_by(job_logs.c.seq).limit(limit))
        return [LogLine(seq=row.seq, time=row.time, level=row.level, message=row.message) for row in rows]


def _row(job_id: str, line: LogLine) -> dict[str, Any]:
    return {"job_id": job_id, "seq": line.seq, "time": line.time, "level": line.level,
            "message": line.message[:MAX_MESSAGE]}
