"""`strongbox token`: issue and inspect bearer tokens signed with the server's key.

The key is found through :func:`strongbox.config.load_settings`, exactly as the server
finds it, so ``--config``/``--data-dir`` must point where the server's do. ``issue``
prints the token alone on stdout (scripts capture it); everything else goes to stderr.
Errors are :class:`StrongboxError` subclasses, which ``cli/main.py`` prints on one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from strongbox.cli.options import ConfigOption, DataDirOption, server_database
from strongbox.config import load_settings
from strongbox.services.tokens import DEFAULT_TTL, TokenService, canonical_role, parse_ttl

app = typer.Typer(no_args_is_help=True, help="Issue bearer tokens signed by the server's key.")



def _service(config: Path | None, data_dir: Path | None) -> TokenService:
    settings = load_settings(config, data_dir=data_dir)
    return TokenService(settings.keys_dir, settings.server.tenant_id)


@app.command()
def issue(
    subscription: Annotated[str, typer.Option("--subscription", "-s", help="Subscription id (a GUID).")],
    role: Annotated[str, typer.Option(help="Owner, Backup Contributor, Backup Operator or Backup Reader.")] = "Owner",
    ttl: Annotated[str, typer.Option(help="Lifetime, e.g. 30m, 12h, 7d, 1h30m.")] = f"{DEFAULT_TTL.days * 24}h",
    resource_group: Annotated[
        str | None, typer.Option("--resource-group", "-g", help="Scope the token to this resource group.")
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print a new bearer token for SUBSCRIPTION, and nothing else, on stdout (its id on stderr)."""
    # Check the cheap arguments first: a typo should not create keys in a data dir.
    canonical = canonical_role(role)
    lifetime = parse_ttl(ttl)
    service = _service(config, data_dir)
    token = service.issue(subscription, role=canonical, ttl=lifetime, resource_group=resource_group)
    typer.echo(f"token id: {service.verify(token).token_id} (revoke with: strongbox token revoke ID)", err=True)
    typer.echo(token)


@app.command()
def revoke(
    token: Annotated[str, typer.Argument(help="The token id (as 'token verify' shows it), or the token itself.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke one token: every server sharing this data's database refuses it from now on (401)."""
    from strongbox.services.tokens import revoke as revoke_token

    settings = load_settings(config, data_dir=data_dir)
    with server_database(settings) as db:
        token_id, added = revoke_token(db, token, tokens=TokenService(settings.keys_dir, settings.server.tenant_id))
    typer.echo(f"token {token_id} {'revoked' if added else 'was already revoked'}", err=True)


@app.command()
def verify(
    token: Annotated[str, typer.Argument(help="The token, or '-' to read it from stdin.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check a token against the server's key and print what it grants, as JSON."""
    if token == "-":
        token = typer.get_text_stream("stdin").read().strip()
    principal = _service(config, data_dir).verify(token)
    typer.echo(
        json.dumps(
            {
                "tokenId": principal.token_id,
                "subscription": principal.subscription,
                "role": principal.role,
                "resourceGroup": principal.resource_group,
                "expiresAt": principal.expires_at.isoformat(),
            },
            indent=2,
        )
    )
