"""`strongbox job`: list, show, wait for, cancel and read the logs of jobs on a running server.

A job id is unique across vaults, so every command takes it alone and finds its vault among
the vaults the token can see; ``--vault`` names the vault (and saves the search). ``list``
reads every visible vault unless ``--vault`` narrows it, following ``nextLink`` pages, and
prints the jobs oldest first. ``wait`` exits with a code per final status
(:mod:`strongbox.cli.job_wait`).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from strongbox.cli.client import ArmClient, VaultRef, connect
from strongbox.cli.connection import CaOption, ProfileOption, ServerOption, TokenOption
from strongbox.cli.job_wait import EXIT_CODES_HELP, Snapshot, wait
from strongbox.cli.output import Output, OutputOption, print_fields, print_json, print_table, span, when

app = typer.Typer(no_args_is_help=True, help="List, show, wait for, cancel and read the logs of jobs.")

VaultOption = Annotated[str | None, typer.Option(
    "--vault", help="The vault (VAULT or RG/VAULT); default: every vault the token can see.")]
IntervalOption = Annotated[float, typer.Option(min=0.1, help="Seconds between polls of the job.")]
TimeoutOption = Annotated[float | None, typer.Option(
    min=0, help="Give up waiting after this many seconds (exit 13); the job goes on.")]
JobArgument = Annotated[str, typer.Argument(
    help="The job id (as `strongbox job list` shows it).", show_default=False)]

_RELATIVE = re.compile(r"^(?:\d+[dhms])+$")
_PART = re.compile(r"(\d+)([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(
        help="InProgress, Completed, CompletedWithWarnings, Failed, Cancelling or Cancelled.")] = None,
    operation: Annotated[str | None, typer.Option(
        help="Backup, Restore, ConfigureBackup, DisableBackup, DeleteBackupData, ExpireRecoveryPoints, ...")]
    = None,
    since: Annotated[str | None, typer.Option(
        help="Jobs started at or after this time: ISO-8601 (2026-05-01, 2026-05-01T12:00:00Z) "
             "or an age (30m, 2h, 7d).")] = None,
    until: Annotated[str | None, typer.Option(
        help="Jobs started at or before this time (as --since).")] = None,
    vault: VaultOption = None,
    output: OutputOption = Output.table,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Jobs of every vault the token can see (or of --vault), oldest first, filtered as the API filters."""
    flt = job_filter(status, operation, since, until)
    with connect(server, token, ca, profile) as client:
        found = [job for ref in client.vaults_named(vault) for job in client.jobs(ref, flt)]
    found.sort(key=lambda j: str((j.get("properties") or {}).get("startTime") or ""))
    if output is Output.json:
        print_json(found)
        return
    rows = []
    for job in found:
        p = job.get("properties") or {}
        progress = (p.get("extendedInfo") or {}).get("progressPercentage")
        rows.append([str(job.get("name")), str(p.get("operation", "")), str(p.get("status", "")),
                     "" if progress is None else f"{progress:.0f}%", str(p.get("entityFriendlyName", "")),
                     _vault_name(job), when(p.get("startTime")), span(p.get("duration"))])
    print_table(("JOB ID", "OPERATION", "STATUS", "PROGRESS", "VM", "VAULT", "START (UTC)", "DURATION"), rows)


@app.command()
def show(
    job_id: JobArgument,
    vault: VaultOption = None,
    output: OutputOption = Output.table,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """One job: status, progress, tasks, property bag and errors."""
    with connect(server, token, ca, profile) as client:
        ref, job = client.find_job(job_id, vault)
    if output is Output.json:
        print_json(job)
        return
    _describe(job, ref)


@app.command("wait", epilog=EXIT_CODES_HELP)
def wait_(
    job_id: JobArgument,
    vault: VaultOption = None,
    interval: IntervalOption = 1.0,
    timeout: TimeoutOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, only the final line.")] = False,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Wait for a job to end, showing its progress (percent, bytes, rate, ETA); exit with a code
    per final status: 0 Completed, 10 CompletedWithWarnings, 11 Failed, 12 Cancelled."""
    with connect(server, token, ca, profile) as client:
        ref, _ = client.find_job(job_id, vault)
        code = wait(client, ref, job_id, interval=interval, timeout=timeout, quiet=quiet)
    raise typer.Exit(code)


@app.command(epilog="With --wait, the exit codes of `strongbox job wait`.")
def cancel(
    job_id: JobArgument,
    vault: VaultOption = None,
    wait_for_it: Annotated[bool, typer.Option(
        "--wait", help="Then wait for the job to end, as `job wait`.")] = False,
    interval: IntervalOption = 1.0,
    timeout: TimeoutOption = None,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Ask a running job to stop; it ends Cancelled at its next chunk."""
    with connect(server, token, ca, profile) as client:
        ref, _ = client.find_job(job_id, vault)
        client.request("POST", f"{ref.id}/backupJobs/{job_id}/cancel")
        typer.echo(f"cancel requested for job {job_id}", err=True)
        if wait_for_it:
            raise typer.Exit(wait(client, ref, job_id, interval=interval, timeout=timeout))


@app.command()
def logs(
    job_id: JobArgument,
    follow: Annotated[bool, typer.Option(
        "--follow", "-f", help="Keep printing new lines until the job ends.")] = False,
    vault: VaultOption = None,
    interval: IntervalOption = 1.0,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """The job's log lines (time, level, message); --follow prints new ones until the job ends."""
    with connect(server, token, ca, profile) as client:
        ref, job = client.find_job(job_id, vault)
        since = _print_logs(client, ref, job_id, 0)
        while follow and not Snapshot.of(job).final:
            time.sleep(interval)
            job = client.job(ref, job_id)       # the status first, then the lines: none written
            since = _print_logs(client, ref, job_id, since)   # before the job ended is missed


def _print_logs(client: ArmClient, vault: VaultRef, job_id: str, since: int) -> int:
    """Print every line after ``since`` (all pages); return the highest ``seq`` printed.

    The position is taken from the lines themselves (``seq > since`` is the contract), so a
    page size or the meaning of ``nextSeq`` cannot make a line be skipped or printed twice."""
    while True:
        page = client.get(f"{vault.id}/backupJobs/{job_id}/logs", params={"since": str(since)})
        lines = [x for x in page.get("value") or [] if isinstance(x.get("seq"), int) and x["seq"] > since]
        if not lines:
            return since
        for line in sorted(lines, key=lambda x: int(x["seq"])):
            typer.echo(f"{when(line.get('time'))}  {line.get('level', '')!s:<7}  {line.get('message', '')}")
        since = max(int(x["seq"]) for x in lines)


def job_filter(status: str | None, operation: str | None, since: str | None, until: str | None) -> str | None:
    """The backupJobs ``$filter`` (the server checks the values and names what it accepts)."""
    clauses = [f"{field} eq '{value.replace(chr(39), chr(39) * 2)}'" for field, value in (
        ("status", status), ("operation", operation),
        ("startTime", _moment(since)), ("endTime", _moment(until))) if value]
    return " and ".join(clauses) or None


def _moment(text: str | None) -> str | None:
    """An age (``2h``, ``1d12h``) as the UTC time that long ago; anything else as given."""
    if text is None or not _RELATIVE.match(text.strip()):
        return text
    ago = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text))
    return (datetime.now(UTC) - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _vault_name(job: dict[str, Any]) -> str:
    parts = str(job.get("id", "")).split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("vaults") + 1] if "vaults" in lowered else ""


def _describe(job: dict[str, Any], vault: VaultRef) -> None:
    p = job.get("properties") or {}
    info = p.get("extendedInfo") or {}
    snap = Snapshot.of(job)
    progress = "  ".join(x for x in snap.figures() if x)
    print_fields([
        ("Job", str(job.get("name"))),
        ("Vault", f"{vault.name} (resource group {vault.resource_group})"),
        ("Operation", f"{p.get('operation', '')} of {p.get('entityFriendlyName', '')}"
                      + ("" if p.get("isUserTriggered", True) else " (scheduled)")),
        ("Status", str(p.get("status", "")) + (f"  {progress}" if progress and not snap.final else "")),
        ("Start (UTC)", when(p.get("startTime"))),
        ("End (UTC)", when(p.get("endTime"))),
        ("Duration", span(p.get("duration"))),
    ])
    tasks = info.get("tasksList") or []
    if tasks:
        typer.echo("\nTasks")
        print_table(("TASK", "STATUS", "PROGRESS", "DURATION", "DETAILS"), [
            [str(t.get("taskId", "")), str(t.get("status", "")),
             "" if t.get("progressPercentage") is None else f"{t['progressPercentage']:.0f}%",
             span(t.get("duration")), str(t.get("taskExecutionDetails") or "")] for t in tasks])
    bag = info.get("propertyBag") or {}
    if bag:
        typer.echo("\nProperties")
        print_fields([(str(k), str(v)) for k, v in bag.items()], indent="  ")
    errors = p.get("errorDetails") or []
    if errors:
        typer.echo("\nErrors")
        for error in errors:
            title = error.get("errorTitle") or ""
            typer.echo(f"  {title} ({error.get('errorCode')}): {error.get('errorString')}")
            for hint in error.get("recommendations") or []:
                typer.echo(f"    {hint}")

