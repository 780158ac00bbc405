"""`strongbox webhook`: read the webhook delivery log (:mod:`strongbox.services.webhooks`).

The database is found through :func:`strongbox.config.load_settings`, as ``strongbox token
revoke`` finds it, so ``--config``/``--data-dir`` must point where the server's do. ``log``
prints the newest attempts first, one a line: time, event type, job id, attempt number, the
answer (an HTTP status, or the error), how long it took, the delivery's status now, and the URL.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from strongbox.cli.options import ConfigOption, DataDirOption, server_database
from strongbox.config import load_settings

app = typer.Typer(no_args_is_help=True, help="The delivery log of the job-event webhooks.")



class Output(str, Enum):
    table = "table"
    json = "json"


@app.command("log")
def log_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many attempts to show.")] = 50,
    output: Annotated[Output, typer.Option("--output", "-o", help="table or json (one object per line).")] = Output.table,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print the newest webhook delivery attempts, newest first."""
    settings = load_settings(config, data_dir=data_dir)
    with server_database(settings) as db, db.unit_of_work() as uow:
        lines = uow.webhooks.log(limit)
    if output is Output.json:
        for line in lines:
            typer.echo(json.dumps({
                "time": line.time.isoformat(), "deliveryId": line.delivery_id, "attempt": line.attempt,
                "event": line.event_type, "jobId": line.job_id, "url": line.url, "statusCode": line.status_code,
                "error": line.error, "durationMs": line.duration_ms, "deliveryStatus": line.delivery_status,
            }))
        return
    if not lines:
        typer.echo("no webhook deliveries yet", err=True)
        return
    for line in lines:
        answer = str(line.status_code) if line.status_code is not None else (line.error or "error")
        typer.echo(f"{line.time.strftime('%Y-%m-%dT%H:%M:%SZ')}  {line.event_type:<28} {line.job_id}  "
                   f"#{line.attempt:<2} {answer:<10} {line.duration_ms:>6} ms  {line.delivery_status:<9} {line.url}")
