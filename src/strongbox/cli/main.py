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


def _mount() -> None:
    # Imported here, not at module top, so `strongbox --help` stays cheap and nothing
    # wires itself at import time.
    from strongbox.cli import serve, token, vault

    app.add_typer(vault.app, name="vault", help="Work with a vault directly, without the server.")
    app.add_typer(token.app, name="token", help="Issue bearer tokens signed by the server's key.")
    serve.register(app)


def main() -> None:
    _mount()
    try:
        app()
    except StrongboxError as err:
        typer.echo(f"error: {err.code}: {err.message}", err=True)
        sys.exit(err.exit_code)
