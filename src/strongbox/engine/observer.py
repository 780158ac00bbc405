"""What the engine tells whoever watches it (the metrics, wired by bootstrap): a job this
process ran is over, a worker is alive. Observers must be quick and must not raise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from strongbox.domain.jobs import Job


class EngineObserver(Protocol):
    def job_finished(self, job: Job, seconds: float, tallies: Mapping[str, int]) -> None:
        """``job`` reached its final status after ``seconds`` of work on a worker here;
        ``tallies``: bytes_read, bytes_written, bytes_deduplicated (those the job moved)."""

    def worker_alive(self, worker_id: str, *, heartbeat: bool) -> None:
        """A worker looked for work (``heartbeat=False``) or extended its job's lease."""


class NoObserver:
    def job_finished(self, job: Job, seconds: float, tallies: Mapping[str, int]) -> None:
        pass

    def worker_alive(self, worker_id: str, *, heartbeat: bool) -> None:
        pass
