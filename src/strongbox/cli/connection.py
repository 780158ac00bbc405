"""Where the server is, who we are, and which certificate to trust, for the commands that
talk to a running server (``job``, ``item``, ``point``, ``backup``, ``restore``).

Each setting is taken from the first place that has it:

``server``  ``--server``, ``$STRONGBOX_URL``, the profile's ``server``
``token``   ``--token``, ``$STRONGBOX_TOKEN``, the profile's ``token``
``ca``      ``--ca``, ``$STRONGBOX_CA``, the profile's ``ca``, then, for an ``https`` server on
            this host (``localhost``, ``127.0.0.1``, ``::1``), the CA a local ``strongbox serve``
            generated: ``<data dir>/tls/ca.pem`` with the data dir ``$STRONGBOX_DATA_DIR`` or
            ``./strongbox-data``, as ``serve`` picks it; otherwise the system's trust store.

The profile file is ``$XDG_CONFIG_HOME/strongbox/profile.toml`` (``~/.config`` without
``XDG_CONFIG_HOME``), one table per profile; ``--profile``/``$STRONGBOX_PROFILE`` picks one,
``default`` otherwise. A relative ``ca`` there is relative to the file. The token is never
checked here (the server does that); its payload is only read for the subscription (``sub``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from strongbox.domain.errors import ConfigError, StrongboxError

# The same defaults as strongbox.config (not imported: it costs the CLI 100 ms at start).
DATA_DIR_ENV = "STRONGBOX_DATA_DIR"
DEFAULT_DATA_DIR = Path("strongbox-data")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
PROFILE_KEYS = ("server", "token", "ca")


class ServerNotConfigured(StrongboxError):
    """No server to talk to: give --server URL, set STRONGBOX_URL, or write server = "https://..." in {profile}."""

    code = "ServerNotConfigured"
    http_status = 400
    exit_code = 2


class TokenNotConfigured(StrongboxError):
    """No token: give --token, set STRONGBOX_TOKEN (strongbox token issue prints one), or write token = "..." in {profile}."""

    code = "TokenNotConfigured"
    http_status = 400
    exit_code = 2


ServerOption = Annotated[str | None, typer.Option(
    "--server", envvar="STRONGBOX_URL", show_envvar=True,
    help="The server's URL, e.g. https://127.0.0.1:8443.")]
TokenOption = Annotated[str | None, typer.Option(
    "--token", envvar="STRONGBOX_TOKEN", show_envvar=True, show_default=False,
    help="A bearer token (strongbox token issue).")]
CaOption = Annotated[Path | None, typer.Option(
    "--ca", envvar="STRONGBOX_CA", show_envvar=True, dir_okay=False,
    help="The CA certificate (PEM) to trust for the server; found by itself for a local server.")]
ProfileOption = Annotated[str | None, typer.Option(
    "--profile", envvar="STRONGBOX_PROFILE", show_envvar=True,
    help="The table of the profile file to read (default: default).")]


@dataclass(frozen=True)
class Connection:
    server: str            # the base URL, without a trailing slash
    token: str
    ca: Path | None        # None: the system's trust store (or plain http)
    subscription: str      # the token's ``sub``


def profile_path() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "strongbox" / "profile.toml"


def resolve(server: str | None, token: str | None, ca: Path | None, profile: str | None) -> Connection:
    """Settings from flags or environment (Typer has merged those), then the profile file."""
    path = profile_path()
    saved = _profile(path, profile)
    server = server or _str(saved, "server", path)
    token = token or _str(saved, "token", path)
    if not server:
        raise ServerNotConfigured(profile=path)
    if not token:
        raise TokenNotConfigured(profile=path)
    if ca is None and saved.get("ca"):
        ca = (path.parent / Path(_str(saved, "ca", path) or "").expanduser())
    base = server.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the server URL must be http(s)://HOST[:PORT], got {server!r}")
    if ca is None and parts.scheme == "https" and parts.hostname in LOCAL_HOSTS:
        local = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR) / "tls" / "ca.pem"
        ca = local if local.is_file() else None
    if ca is not None and not ca.is_file():
        raise ConfigError(f"the CA file {ca} does not exist")
    return Connection(base, token.strip(), ca, subscription_of(token))


def subscription_of(token: str) -> str:
    """The ``sub`` claim, read without verifying the signature (the server verifies)."""
    parts = token.strip().split(".")
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        subscription = claims["sub"]
    except (IndexError, ValueError, binascii.Error, KeyError, TypeError):
        raise ConfigError("the token is not a strongbox token (a JWT whose payload names a subscription)") \
            from None
    if not isinstance(subscription, str) or not subscription:
        raise ConfigError("the token's payload names no subscription (claim 'sub')")
    return subscription


def _profile(path: Path, name: str | None) -> dict[str, object]:
    if not path.is_file():
        if name not in (None, "default"):
            raise ConfigError(f"profile {name!r} was asked for, but there is no profile file {path}")
        return {}
    try:
        tables = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from None
    chosen = name or "default"
    table = tables.get(chosen)
    if table is None:
        if name is not None:
            raise ConfigError(f"{path} has no [{chosen}] table")
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {chosen} must be a table, [{chosen}]")
    unknown = sorted(set(table) - set(PROFILE_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {chosen}.{unknown[0]} (known: {', '.join(PROFILE_KEYS)})")
    if table.get("token") and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        typer.echo(f"warning: {path} holds a token and others can read it (chmod 600 {path})", err=True)
    return table


def _str(table: dict[str, object], key: str, path: Path) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string")
    return value
