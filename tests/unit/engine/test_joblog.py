"""Capturing a job's log: lines buffered in memory and written in batches, numbered without
gaps, capped with one note of what was dropped, records of the job's own thread captured and
no one else's; and a real worker run on SQLite, whose lines are readable while it runs and
written in a handful of transactions however many lines it says."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from strongbox.domain.joblogs import LogLine
from strongbox.domain.jobs import Job, JobOperation, JobStatus, Task
from strongbox.engine.joblog import JobLog, JobLogHandler, bound, capture_job_logs
from strongbox.engine.reaper import reap
from strongbox.engine.reporter import JobReporter
from strongbox.engine.worker import run_job
from strongbox.persistence.database import Database
from strongbox.services.catalog import SourceCatalog
from strongbox.services.context import Limits, ServiceContext
from tests.contract.persistence import examples

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


class Sink:
    """Records each batch written; fails the first ``failures`` writes."""

    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[LogLine]] = []
        self.failures = failures

    def __call__(self, job_id: str, lines: Sequence[LogLine]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")
        self.batches.append(list(lines))

    @property
    def lines(self) -> list[LogLine]:
        return [line for batch in self.batches for line in batch]


def clock() -> datetime:
    return T0


@pytest.fixture
def handler() -> Iterator[None]:
    capture_job_logs()
    capture_job_logs()   # idempotent: one handler however often the workers start
    root = logging.getLogger("strongbox")
    assert sum(isinstance(h, JobLogHandler) for h in root.handlers) == 1
    yield
    for h in [h for h in root.handlers if isinstance(h, JobLogHandler)]:
        root.removeHandler(h)


def test_lines_wait_in_memory_and_go_out_in_one_batch_per_flush_numbered_without_gaps() -> None:
    sink = Sink()
    joblog = JobLog("job-1", sink, clock)
    for i in range(25):
        joblog.add("INFO", f"line {i}")
    assert sink.batches == []
    joblog.flush()
    joblog.flush()                      # nothing new: no empty write
    joblog.add("ERROR", "late")
    joblog.close()
    assert [len(b) for b in sink.batches] == [25, 1]
    assert [line.seq for line in sink.lines] == list(range(1, 27))
    assert sink.lines[-1] == LogLine(26, T0, "ERROR", "late")


def test_past_the_cap_lines_are_counted_and_close_notes_them_then_the_outcome() -> None:
    sink = Sink()
    joblog = JobLog("job-1", sink, clock, max_lines=5)
    for i in range(8):
        joblog.add("INFO", f"line {i}")
    assert (joblog.lines_kept, joblog.dropped) == (5, 3)
    joblog.close(("WARNING", "Backup Cancelled after 1.0 s"))
    joblog.add("INFO", "after the end")
    joblog.close()
    assert [line.message for line in sink.lines] == [
        "line 0", "line 1", "line 2", "line 3", "line 4",
        "… 3 more lines dropped (a job keeps at most 10000 lines)", "Backup Cancelled after 1.0 s"]
    assert [line.seq for line in sink.lines] == [1, 2, 3, 4, 5, 6, 7]
    assert sink.lines[5].level == "WARNING"


def test_a_failed_write_keeps_its_lines_for_the_next_flush_in_order() -> None:
    sink = Sink(failures=1)
    joblog = JobLog("job-1", sink, clock)
    joblog.add("INFO", "one")
    joblog.flush()
    joblog.add("INFO", "two")
    joblog.flush()
    assert [[line.message for line in batch] for batch in sink.batches] == [["one", "two"]]


def test_an_abandoned_log_writes_nothing_more() -> None:
    sink = Sink()
    joblog = JobLog("job-1", sink, clock)
    joblog.add("INFO", "one")
    joblog.abandon()
    joblog.add("INFO", "two")
    joblog.flush()
    joblog.close()
    assert sink.batches == []


def test_records_of_the_bound_thread_are_captured_and_others_are_not(handler: None) -> None:
    sink = Sink()
    joblog = JobLog("job-1", sink, clock)
    lower = logging.getLogger("strongbox.dataplane.somewhere")
    lower.warning("outside the job")
    with bound(joblog):
        lower.warning("a file vanished: %s", "/srv/a")
        lower.debug("too chatty to keep")
        logging.getLogger("elsewhere").error("not strongbox's")
        other = threading.Thread(target=lambda: lower.error("another thread"))
        other.start()
        other.join()
        try:
            raise ValueError("boom")
        except ValueError:
            lower.exception("it broke")
    lower.error("after the job")
    joblog.close()
    assert [(line.level, line.message.splitlines()[0]) for line in sink.lines] == [
        ("WARNING", "a file vanished: /srv/a"), ("ERROR", "it broke")]
    assert "ValueError: boom" in sink.lines[1].message and "Traceback" in sink.lines[1].message


def test_the_reporter_logs_task_changes_each_tenth_of_progress_and_a_cancel_once() -> None:
    sink = Sink()
    job = examples.job("v")
    job.tasks = [Task("Take Snapshot")]
    cancel_requested = examples.job("v", job_id=job.id)
    cancel_requested.cancel_requested = True
    rep = JobReporter(job, save=lambda j: True, reload=lambda: cancel_requested, clock=clock,
                      joblog=JobLog(job.id, sink, clock))
    rep.start_task("Take Snapshot", details="scanning /srv")
    for percent in range(0, 101, 3):
        rep.task_progress("Take Snapshot", float(percent))
    rep.finish_task("Take Snapshot")
    rep.observe_record()
    rep.observe_record()
    rep.log.close()
    messages = [line.message for line in sink.lines]
    assert messages == (["Take Snapshot: started (scanning /srv)"]
                        + [f"Take Snapshot: {p}% (scanning /srv)" for p in range(10, 100, 10)]
                        + ["Take Snapshot: Completed (scanning /srv)", "cancel requested: stopping at the next chunk"])
    assert rep.cancel.cancelled


# --- a real worker run on SQLite ------------------------------------------------------------

class NoVaults:
    """The vault port of a context whose jobs never touch a vault: any use fails the test."""

    def create(self, storage_id: str) -> None:
        raise AssertionError("these jobs must not create a vault")

    def destroy(self, storage_id: str) -> None:
        raise AssertionError("these jobs must not destroy a vault")

    def open(self, storage_id: str) -> object:
        raise AssertionError("these jobs must not open a vault")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    db = Database(f"sqlite:///{tmp_path / 'strongbox.db'}")
    db.migrate()
    yield ServiceContext(db=db, catalog=SourceCatalog([], []), vault_storage=NoVaults(), exports_dir=tmp_path,
                         limits=Limits(lease_seconds=30.0))
    db.dispose()


def claimed_job(ctx: ServiceContext) -> Job:
    vault = examples.vault()
    with ctx.db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.jobs.add(examples.job(vault.key, start=datetime.now(timezone.utc) - timedelta(seconds=1)))
        job = uow.jobs.claim("host:1:0:abcd", 30.0, ctx.lease_clock())
    assert job is not None
    return job


def stored(ctx: ServiceContext, job_id: str) -> list[LogLine]:
    with ctx.db.unit_of_work() as uow:
        return uow.job_logs.read(job_id, limit=20_000)


def test_a_running_jobs_lines_are_stored_while_it_runs_in_few_transactions(ctx: ServiceContext,
                                                                           handler: None) -> None:
    job = claimed_job(ctx)
    inserts: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO JOB_LOGS"):
            inserts.append(len(params) if executemany else 1)

    sa.event.listen(ctx.db.engine, "before_cursor_execute", count)
    seen_while_running = threading.Event()

    def handler_fn(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
        rep.info("first line")
        deadline = time.monotonic() + 10
        while not seen_while_running.is_set() and time.monotonic() < deadline:
            if any(line.message == "first line" for line in stored(ctx, job.id)):
                seen_while_running.set()
            time.sleep(0.05)
        for i in range(12_000):
            rep.info(f"chatty line {i}")
        logging.getLogger("strongbox.dataplane.test").warning("never kept: past the cap")
        return JobStatus.COMPLETED

    run_job(ctx, job, "host:1:0:abcd", {JobOperation.BACKUP: handler_fn})
    lines = stored(ctx, job.id)
    assert seen_while_running.is_set()
    assert [line.seq for line in lines] == list(range(1, 10_003))
    assert lines[0].message.startswith("Backup of vm-1 started on worker host:1:0:abcd")
    assert lines[1].message == "first line"
    assert lines[-2].message == "… 2003 more lines dropped (a job keeps at most 10000 lines)"
    assert lines[-1].message.startswith("Backup Completed after ") and lines[-1].level == "INFO"
    assert sum(inserts) == len(lines)
    assert len(inserts) < 20          # batches, not a transaction per line
    with ctx.db.unit_of_work() as uow:
        assert uow.jobs.get(job.id).status is JobStatus.COMPLETED   # type: ignore[union-attr]


def test_a_failing_job_logs_its_error_and_a_crash_its_traceback(ctx: ServiceContext, handler: None) -> None:
    job = claimed_job(ctx)

    def crash(job: Job, rep: JobReporter, ctx: ServiceContext) -> JobStatus:
        raise KeyError("no such thing")

    run_job(ctx, job, "host:1:0:abcd", {JobOperation.BACKUP: crash})
    lines = stored(ctx, job.id)
    assert [line.level for line in lines] == ["INFO", "ERROR", "ERROR"]
    assert "Traceback" in lines[1].message and "KeyError: 'no such thing'" in lines[1].message
    assert lines[2].message.startswith("Backup Failed after ")


def test_the_reaper_says_why_it_failed_a_job_after_its_last_line(ctx: ServiceContext) -> None:
    vault = examples.vault()
    with ctx.db.unit_of_work() as uow:
        uow.vaults.add(vault)
        uow.jobs.add(examples.job(vault.key))
        job = uow.jobs.claim("host:1:0:abcd", 5.0, ctx.lease_clock() - timedelta(minutes=1))   # long expired
        assert job is not None
        uow.job_logs.append(job.id, [LogLine(1, T0, "INFO", "Backup of vm-1 started")])
    assert reap(ctx) == [job.id]
    lines = stored(ctx, job.id)
    assert [(line.seq, line.level) for line in lines] == [(1, "INFO"), (2, "ERROR")]
    assert lines[1].message.startswith("UserErrorJobInterrupted: The process running this job stopped")
