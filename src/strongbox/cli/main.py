"""The ``strongbox`` command: one Typer app that mounts each face's sub-commands."""

from __future__ import annotations

import sys

import typer

from strongbox.domain.errors import StrongboxError

app = typer.Typer(
    name="strongbox",
    help="A self-hosted backup service that speaks the Azure Backup REST API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """A self-hosted backup service that speaks the Azure Backup REST API."""
    # A callback keeps `strongbox` a command group even when only one sub-command is
    # mounted (Typer would otherwise run a lone command as the whole program).


def _mount_vault() -> None:
    from strongbox.cli import vault

    app.add_typer(vault.app, name="vault", help="Work with a vault directly, without the server.")


def _mount_token() -> None:
    from strongbox.cli import token

    app.add_typer(token.app, name="token", help="Issue bearer tokens signed by the server's key.")


def _mount_audit() -> None:
    from strongbox.cli import audit

    app.add_typer(audit.app, name="audit", help="List and verify the log of every mutating API request.")


def _mount_key() -> None:
    from strongbox.cli import key

    app.add_typer(key.app, name="key", help="Rotate the master secret that unlocks the vaults.")


def _mount_serve() -> None:
    from strongbox.cli import serve

    serve.register(app)


def _mount_job() -> None:
    from strongbox.cli import jobs

    app.add_typer(jobs.app, name="job", help="List, show, wait for, cancel and read the logs of a server's jobs.")


def _mount_item() -> None:
    from strongbox.cli import items

    app.add_typer(items.items_app, name="item", help="The virtual machines a server's vaults protect.")


def _mount_point() -> None:
    from strongbox.cli import items

    app.add_typer(items.points_app, name="point", help="The recovery points of a protected virtual machine.")


def _mount_backup() -> None:
    from strongbox.cli import backup

    app.add_typer(backup.backup_app, name="backup", help="Back up a protected virtual machine now.")


def _mount_restore() -> None:
    from strongbox.cli import backup
    from strongbox.cli.job_wait import EXIT_CODES_HELP

    app.command("restore", epilog=EXIT_CODES_HELP + " Without --wait: 0 once the job is started.")(backup.restore)


def _mount_webhook() -> None:
    from strongbox.cli import webhook

    app.add_typer(webhook.app, name="webhook", help="The delivery log of the job-event webhooks.")


_COMMANDS = {"vault": _mount_vault, "token": _mount_token, "key": _mount_key, "audit": _mount_audit,
             "serve": _mount_serve, "job": _mount_job, "item": _mount_item, "point": _mount_point,
             "backup": _mount_backup, "restore": _mount_restore, "webhook": _mount_webhook}


def _mount(argv: list[str] | None = None) -> None:
    """Mount the sub-command being run, or all of them (for help and unknown commands).

    Imported here, not at module top, so nothing wires itself at import time and a
    `strongbox vault ...` run does not pay for the server's imports."""
    first = next((a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("-")), None)
    for name, mount in _COMMANDS.items():
        if first is None or first not in _COMMANDS or first == name:
            mount()


def main() -> None:
    from strongbox.runtime import limit_malloc_arenas

    limit_malloc_arenas()   # before any thread allocates
    _mount()
    try:
        app()
    except StrongboxError as err:
        typer.echo(f"error: {err.code}: {err.message}", err=True)
        sys.exit(err.exit_code)
