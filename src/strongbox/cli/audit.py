"""`strongbox audit`: read and verify the server's audit log (:mod:`strongbox.services.audit`).

The log is found through :func:`strongbox.config.load_settings`, as ``strongbox token``
finds the keys, so ``--config``/``--data-dir`` must point where the server's do. Neither
command writes anything. ``verify`` exits 0 when the chain is intact and 8
(``AuditLogTampered``) naming the first bad line otherwise; like every error, that is one
line on stderr (``cli/main.py``).
"""

from __future__ import annotations

import json
import sys
from collections import deque
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from strongbox.cli.options import ConfigOption, DataDirOption
from strongbox.config import load_settings
from strongbox.domain.errors import InvalidParameter, NotFound
from strongbox.services.audit import AuditLog, AuditLogTampered
from strongbox.services.audit_verify import verify as verify_log

app = typer.Typer(no_args_is_help=True, help="List and verify the log of every mutating API request.")



class AuditLogNotFound(NotFound):
    """There is no audit log in {path}: --config or --data-dir must name the server's."""

    code = "AuditLogNotFound"


class Output(str, Enum):
    table = "table"
    json = "json"


def _log(config: Path | None, data_dir: Path | None) -> AuditLog:
    settings = load_settings(config, data_dir=data_dir)
    if not settings.audit_dir.is_dir():   # the server makes it at start: a wrong data dir, not an empty log
        raise AuditLogNotFound(path=str(settings.audit_dir))
    return AuditLog(settings.audit_dir, settings.keys_dir)


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidParameter(f"{option} must be an ISO-8601 date or time, e.g. 2026-05-01 or "
                               f"2026-05-01T12:00:00Z; got {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _within(time: object, start: datetime | None, end: datetime | None) -> bool:
    try:
        when = datetime.fromisoformat(time) if isinstance(time, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return False   # a record without a readable time matches no time filter
    return (start is None or when >= start) and (end is None or when < end)


@app.command("list")
def list_(
    since: Annotated[str | None, typer.Option(help="Only records at or after this time (ISO-8601; UTC unless it says).")] = None,
    until: Annotated[str | None, typer.Option(help="Only records before this time.")] = None,
    token_id: Annotated[str | None, typer.Option("--token-id", help="Only this token's requests.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N records that match.")] = None,
    output: Annotated[Output, typer.Option("--output", "-o", help="table or json.")] = Output.table,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show the recorded requests, oldest first (without verifying them: see `verify`)."""
    start, end = _instant(since, "--since"), _instant(until, "--until")
    chosen: deque[dict[str, Any]] = deque(maxlen=limit)   # the newest N, in constant memory
    for record in _log(config, data_dir).records():
        if (start or end) and not _within(record.get("time"), start, end):
            continue
        if token_id is not None and record.get("token_id") != token_id:
            continue
        chosen.append(record)
    if output is Output.json:
        typer.echo(json.dumps(list(chosen), indent=2))
    else:
        _table(list(chosen))


_COLUMNS = ("seq", "time", "status", "result", "error", "method", "operation", "role", "token_id", "resource")


def _table(records: list[dict[str, Any]]) -> None:
    rows = [["" if r.get(c) is None else str(r.get(c)) for c in _COLUMNS] for r in records]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*_COLUMNS)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(_COLUMNS)]
    for row in [list(_COLUMNS)] + rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@app.command()
def verify(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Check every record's hash, the chain and its anchor; name the first bad line."""
    log = _log(config, data_dir)
    verdict = verify_log(log)
    if verdict.problem is not None:
        problem = verdict.problem
        where = f"line {problem.line} of {log.log_path}" if problem.line else str(log.log_path)
        raise AuditLogTampered(where=where, detail=f"{problem.detail} [{problem.kind}]")
    if verdict.warning:
        typer.echo(f"warning: {verdict.warning}", err=True)
    typer.echo(f"audit log {log.log_path}: intact, {verdict.records} records; newest hash {verdict.head}")
