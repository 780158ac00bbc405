"""Waiting for a job: progress while it runs, and an exit code per final status.

=====================  =====
final status           exit
=====================  =====
Completed              0
CompletedWithWarnings  10
Failed                 11
Cancelled              12
still running at       13 (``--timeout``; the job goes on)
the timeout
=====================  =====

These stay clear of the error exit codes (1-9, see ``docs/errors.md``), so a script can
tell "the job failed" (11) from "the job was not found" (3) or "the server is down" (9).

Progress comes from the job record, polled: ``extendedInfo.progressPercentage`` and
``estimatedRemainingDuration``, and the running task's ``taskExecutionDetails``
(``1/4 files, 21670631/33554432 bytes, 148.9 MB/s``) for bytes and rate. On a terminal it
is a Rich progress bar on stderr; otherwise a plain line on stderr whenever the status or
the task changes, and at most every ``REPORT_SECONDS`` while it only advances. The final
status goes to stdout as one line; a failed or warned job's errors follow on stderr.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import typer

from strongbox.cli.client import ArmClient, VaultRef
from strongbox.cli.output import seconds, size, span
from strongbox.domain.errors import StrongboxError

OUTCOMES = {"Completed": 0, "CompletedWithWarnings": 10, "Failed": 11, "Cancelled": 12}
TIMED_OUT = 13
REPORT_SECONDS = 5.0
EXIT_CODES_HELP = ("Exit codes: 0 Completed, 10 CompletedWithWarnings, 11 Failed, 12 Cancelled, "
                   "13 still running when --timeout passed; errors exit 1-9 (2 bad input, 3 not found, "
                   "4 conflict, 5 token refused or not allowed, 6 throttled, 9 server unreachable or "
                   "its certificate not trusted).")


class JobWaitTimeout(StrongboxError):
    """Job '{job_id}' is still {status} after {timeout} s; it goes on running (strongbox job wait {job_id} to wait again)."""

    code = "JobWaitTimeout"
    http_status = 408
    exit_code = TIMED_OUT


_BYTES = re.compile(r"(\d+)/(\d+) bytes")
_RATE = re.compile(r"([\d.]+) MB/s")


@dataclass(frozen=True)
class Snapshot:
    """What one poll of the job says about its progress."""

    status: str
    operation: str
    vm: str
    task: str
    percent: float | None
    eta: float | None
    bytes_done: int | None
    bytes_total: int | None
    rate: float | None        # bytes per second

    @classmethod
    def of(cls, job: dict[str, Any]) -> Snapshot:
        props = job.get("properties") or {}
        info = props.get("extendedInfo") or {}
        tasks = info.get("tasksList") or []
        running = next((t for t in tasks if t.get("status") == "InProgress"), None)
        details = str((running or {}).get("taskExecutionDetails") or "")
        counted, rate = _BYTES.search(details), _RATE.search(details)
        percent = info.get("progressPercentage")
        return cls(
            status=str(props.get("status") or "?"), operation=str(props.get("operation") or ""),
            vm=str(props.get("entityFriendlyName") or ""), task=str((running or {}).get("taskId") or ""),
            percent=float(percent) if isinstance(percent, (int, float)) else None,
            eta=seconds(info.get("estimatedRemainingDuration")),
            bytes_done=int(counted[1]) if counted else None, bytes_total=int(counted[2]) if counted else None,
            rate=float(rate[1]) * 1e6 if rate else None)

    @property
    def final(self) -> bool:
        return self.status in OUTCOMES

    @property
    def headline(self) -> str:
        return f"{self.operation} {self.vm}".strip() + (f": {self.task}" if self.task else "")

    def figures(self) -> tuple[str, str, str, str]:
        """percent, bytes, rate, ETA as shown (empty when unknown)."""
        percent = f"{self.percent:5.1f}%" if self.percent is not None else ""
        counted = f"{size(self.bytes_done)}/{size(self.bytes_total)}" \
            if self.bytes_done is not None and self.bytes_total is not None else ""
        rate = f"{size(self.rate)}/s" if self.rate is not None else ""
        eta = f"ETA {span(self.eta)}" if self.eta is not None else ""
        return percent, counted, rate, eta


class Display(Protocol):
    def show(self, snap: Snapshot) -> None: ...
    def close(self, snap: Snapshot) -> None: ...


class PlainLines:
    """One line on stderr per change of status or task, and every REPORT_SECONDS otherwise."""

    def __init__(self) -> None:
        self._last: tuple[str, str] | None = None
        self._last_time = 0.0
        self._last_body = ""

    def show(self, snap: Snapshot) -> None:
        now = time.monotonic()
        body = "  ".join(p for p in (snap.status, *snap.figures(), snap.headline) if p)
        key = (snap.status, snap.task)
        if key != self._last or (now - self._last_time >= REPORT_SECONDS and body != self._last_body):
            typer.echo(f"{datetime.now().strftime('%H:%M:%S')}  {body}", err=True)
            self._last, self._last_time, self._last_body = key, now, body

    def close(self, snap: Snapshot) -> None:
        pass


class ProgressBar:
    """A Rich progress bar on stderr: operation and VM, bar, percent, bytes, rate, ETA, stage."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=24), TextColumn("{task.fields[percent]}"),
            TextColumn("{task.fields[counted]}"), TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[eta]}"), TextColumn("{task.fields[stage]}"),
            console=Console(stderr=True), transient=False)
        self._task = self._progress.add_task("", total=100.0, percent="", counted="", rate="", eta="",
                                             stage="")
        self._progress.start()

    def show(self, snap: Snapshot) -> None:
        percent, counted, rate, eta = snap.figures()
        done = 100.0 if snap.status == "Completed" else (snap.percent or 0.0)
        stage = snap.task if snap.status == "InProgress" and snap.task else snap.status
        self._progress.update(self._task, description=f"{snap.operation} {snap.vm}".strip(), completed=done,
                              percent=percent, counted=counted, rate=rate, eta=eta, stage=stage)

    def close(self, snap: Snapshot) -> None:
        self.show(snap)
        self._progress.stop()


def wait(client: ArmClient, vault: VaultRef, job_id: str, *, interval: float, timeout: float | None,
         quiet: bool = False) -> int:
    """Poll until the job is final; return its exit code (the table above)."""
    deadline = None if not timeout else time.monotonic() + timeout
    display: Display | None = None
    if not quiet:
        display = ProgressBar() if sys.stderr.isatty() else PlainLines()
    job = client.job(vault, job_id)
    snap = Snapshot.of(job)
    try:
        while not snap.final:
            if display:
                display.show(snap)
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(job_id=job_id, status=snap.status, timeout=f"{timeout:g}")
            time.sleep(interval)
            job = client.job(vault, job_id)
            snap = Snapshot.of(job)
    finally:
        if display:
            display.close(snap)
    report(job)
    return OUTCOMES[snap.status]


def report(job: dict[str, Any]) -> None:
    """The final status on stdout; error details (failures, warnings) on stderr."""
    props = job.get("properties") or {}
    took = span(props.get("duration"))
    what = f"{props.get('operation', '')} of {props.get('entityFriendlyName', '')}".strip()
    typer.echo(f"job {job.get('name')}: {props.get('status')} ({what}{', ' + took if took else ''})")
    for error in props.get("errorDetails") or []:
        title = error.get("errorTitle") or error.get("errorCode")
        typer.echo(f"  {title}: {error.get('errorString')}", err=True)
        for hint in error.get("recommendations") or []:
            typer.echo(f"    {hint}", err=True)
