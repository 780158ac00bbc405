"""A job's log: the lines the engine wrote while it ran the job, kept with the job.

Each line has a ``seq`` (1, 2, 3 ... per job, in the order written, no gaps), a time (service
time, like the job's own times), a level and a message. A job keeps at most
:data:`MAX_LINES` lines; past that the rest are counted and one last line says how many were
dropped. Lines go when their job goes (vault deleted, or history older than
``job_retention_days`` purged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

INFO, WARNING, ERROR = "INFO", "WARNING", "ERROR"
LEVELS = (INFO, WARNING, ERROR)
MAX_LINES = 10_000          # lines kept per job; then one "... N more lines dropped" line
MAX_MESSAGE = 8_000         # characters kept of one message (a traceback fits)


@dataclass(frozen=True)
class LogLine:
    seq: int
    time: datetime
    level: str              # one of LEVELS
    message: str


def dropped_note(count: int) -> str:
    return f"… {count} more lines dropped (a job keeps at most {MAX_LINES} lines)"
