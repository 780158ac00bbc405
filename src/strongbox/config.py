"""Settings: the TOML config file, read once into frozen dataclasses.

Invariants, all checked by :func:`load_settings` before a :class:`Settings` exists:

* Every key is known. An unknown key anywhere (a top-level table, inside ``[server]``,
  inside one ``[[sources]]`` item ...) is refused with a :class:`ConfigError` naming it
  with its location, e.g. ``unknown key 'sources[1].pathz'``. Array items are counted
  from 0, in file order.
* Every value has the right type and range; the error names the key
  (``server.port must be an integer from 1 to 65535``). Booleans are not integers.
* Precedence, highest first: command-line overrides, the config file, the environment
  (``$STRONGBOX_DATA_DIR``, only for the data dir), built-in defaults.
* Every path is absolute and resolved. Relative paths in a config file resolve against
  the config file's folder; relative command-line or environment paths against the
  current directory. Source paths need not exist yet (the backup job reports them);
  restore location paths are created on demand by the restore, never here.
* ``subscription`` and ``tenant_id`` are GUIDs (``8-4-4-4-12`` hex digits), as in Azure,
  kept in lowercase.
  Source and resource-group names are ARM-style names: letters, digits, ``-``, ``_``,
  ``.`` (resource groups also ``(``, ``)``), no ``..``, not ``.`` alone, 1..64 chars
  (resource groups 1..90, not ending in ``.``). Restore location names are Azure storage
  account names: 3..24 lowercase letters and digits, since clients address them as one.
* (subscription, resource_group, name) is unique among sources, and among restore
  locations; the comparison ignores case, as ARM does.
* With no config file at all the embedded defaults apply: the data dir as above and the
  demo source and restore location from :mod:`strongbox.demo`. Loading never writes: the
  demo files are created by ``ensure_demo`` (called by ``strongbox serve`` when
  :attr:`Settings.is_demo`). A config file with no ``[[sources]]`` has no sources.

``[database] url`` defaults to the SQLite file ``strongbox.db`` in the data dir; a relative
SQLite path in the file resolves against the config file's folder like any other path.

``[keys] kek_file`` names the key-encryption key that seals ``keys/master.key`` (default: a
per-data-dir file under ``$XDG_CONFIG_HOME/strongbox/kek/``); it is refused inside the data
dir. :func:`master_key` returns the master secret every vault is unlocked with, unsealed;
:mod:`strongbox.masterkey` owns its sealed format and the KEK rules. Losing it (or its KEK)
loses the vaults.

``[metrics] public = true`` serves ``GET /metrics`` without a token (default: any valid token
reads it); see :mod:`strongbox.api.metrics`.

``[[webhooks]]`` (see :mod:`strongbox.services.webhooks`): each has a ``url`` (``https://``;
``http://`` only for a loopback host, or with ``allow_http = true``; no user or password in
it; unique among webhooks), exactly one of ``secret`` (16+ characters) and ``secret_file``
(read when the server starts, not here), ``events`` (``"all"``, the default, or
``"problems"``: jobs that ended Failed, CompletedWithWarnings or Cancelled),
``timeout_seconds`` (default 10), ``max_attempts`` (default 8) and ``retry_base_seconds``
(the first retry's delay, doubling after each failure up to 10 minutes; default 1).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strongbox.domain.errors import ConfigError
from strongbox.masterkey import KeyPaths, load_master_secret, refuse_inside_data_dir

#: The tenant every token and ARM response names unless ``server.tenant_id`` says
#: otherwise. A fixed, made-up GUID of our own ("5770" ~ "STrOngbox"); no Azure tenant.
DEFAULT_TENANT_ID = "57700b0c-5b0c-4b0c-8b0c-57700b0c0001"
DEFAULT_DATA_DIR = Path("strongbox-data")
DATA_DIR_ENV = "STRONGBOX_DATA_DIR"

GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_RESOURCE_GROUP = re.compile(r"^[A-Za-z0-9_.()-]{1,90}$")
_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    tls: bool = True
    retry_after: int = 1
    workers: int = 2
    job_retention_days: int = 30
    lease_seconds: int = 30
    page_size: int = 200
    tenant_id: str = DEFAULT_TENANT_ID
    io_limit_mbps: int = 0          # cap on backup/restore throughput per job in MB/s; 0: no cap
    virtual_clock: bool = False     # serve a clock an Owner can move forward (POST /admin/clock); tests only
    reads_per_hour: int = 12_000    # per-subscription budget of GETs (ARM's); past it: 429 with Retry-After
    writes_per_hour: int = 1_200    # per-subscription budget of PUT/POST/PATCH/DELETE (ARM's)
    tls_cert: Path | None = None    # the operator's certificate chain (PEM); default: a generated one
    tls_key: Path | None = None     # its private key (PEM); required with tls_cert
    hsts_seconds: int = 31_536_000  # Strict-Transport-Security max-age on HTTPS answers; 0: no header


@dataclass(frozen=True)
class DatabaseSettings:
    url: str


@dataclass(frozen=True)
class SourceSpec:
    """A folder-and-file set the API shows as one virtual machine."""

    subscription: str
    resource_group: str
    name: str
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class RestoreLocationSpec:
    """A folder the API shows as a storage account restores can target."""

    subscription: str
    resource_group: str
    name: str
    path: Path


@dataclass(frozen=True)
class KeySettings:
    kek_file: Path | None = None    # seals keys/master.key; None: $XDG_CONFIG_HOME/strongbox/kek/<data-dir id>.key


@dataclass(frozen=True)
class MetricsSettings:
    public: bool = False            # GET /metrics without a token (for a Prometheus with no credentials)


WEBHOOK_EVENTS = ("all", "problems")
MIN_WEBHOOK_SECRET = 16


@dataclass(frozen=True)
class WebhookSettings:
    """Where job events are POSTed, and how they are signed and retried."""

    url: str
    secret: str | None = None       # the HMAC key, given inline ...
    secret_file: Path | None = None  # ... or read from this file (one of the two), when the server starts
    events: str = "all"             # "all", or "problems": Failed, CompletedWithWarnings, Cancelled
    timeout_seconds: int = 10
    max_attempts: int = 8
    retry_base_seconds: float = 1.0  # the first retry's delay; doubles per failure, at most 10 minutes
    allow_http: bool = False        # http:// to a host that is not loopback

    def secret_bytes(self) -> bytes:
        """The HMAC key; :class:`ConfigError` when the secret file cannot be read or is too short."""
        if self.secret is not None:
            return self.secret.encode("utf-8")
        assert self.secret_file is not None
        try:
            text = self.secret_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read the secret_file of webhook {self.url}: {err}") from None
        if len(text) < MIN_WEBHOOK_SECRET:
            raise ConfigError(f"the secret_file of webhook {self.url} must hold at least "
                              f"{MIN_WEBHOOK_SECRET} characters")
        return text.encode("utf-8")


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    database: DatabaseSettings
    sources: tuple[SourceSpec, ...]
    restore_locations: tuple[RestoreLocationSpec, ...]
    config_path: Path | None
    keys: KeySettings = KeySettings()
    metrics: MetricsSettings = MetricsSettings()
    webhooks: tuple[WebhookSettings, ...] = ()

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    @property
    def vaults_dir(self) -> Path:
        return self.data_dir / "vaults"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def audit_dir(self) -> Path:
        """The audit log and its anchor (:mod:`strongbox.services.audit`); its key is in keys_dir."""
        return self.data_dir / "audit"

    @property
    def database_url(self) -> str:
        return self.database.url

    @property
    def is_demo(self) -> bool:
        """True when no config file was given: the sources are the embedded demo."""
        return self.config_path is None


# --- the schema ------------------------------------------------------------------------

Check = Callable[[Any, str], Any]


def _integer(low: int, high: int) -> Check:
    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{where} must be an integer from {low} to {high}")
        return value

    return check


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or not value.isprintable():
        raise ConfigError(f"{where} must be a non-empty string of printable characters")
    return value


def _choice(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return str(value)


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{where} must be a number from {low:g} to {high:g}")
    return float(value)


def _guid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not GUID.match(value):
        raise ConfigError(f"{where} must be a GUID like 00000000-0000-0000-0000-000000000000")
    return value.lower()


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or ".." in value or value == ".":
        raise ConfigError(
            f"{where} must be 1 to 64 letters, digits, '-', '_' or '.' (not '..'), got {value!r}"
        )
    return value


def _resource_group(value: Any, where: str) -> str:
    if (
        not isinstance(value, str)
        or not _RESOURCE_GROUP.match(value)
        or ".." in value
        or value.endswith(".")
    ):
        raise ConfigError(
            f"{where} must be 1 to 90 letters, digits, '-', '_', '.', '(' or ')', "
            f"not ending in '.', got {value!r}"
        )
    return value


def _storage_account(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _STORAGE_ACCOUNT.match(value):
        raise ConfigError(f"{where} must be 3 to 24 lowercase letters and digits, got {value!r}")
    return value


_SERVER: dict[str, Check] = {
    "data_dir": _text,
    "host": _text,
    "port": _integer(1, 65535),
    "tls": _boolean,
    "retry_after": _integer(0, 3600),
    "workers": _integer(0, 64),
    "job_retention_days": _integer(1, 3650),
    "lease_seconds": _integer(5, 3600),
    "page_size": _integer(1, 1000),
    "tenant_id": _guid,
    "io_limit_mbps": _integer(0, 100000),
    "virtual_clock": _boolean,
    "reads_per_hour": _integer(1, 10_000_000),
    "writes_per_hour": _integer(1, 10_000_000),
    "tls_cert": _text,
    "tls_key": _text,
    "hsts_seconds": _integer(0, 100_000_000),
}
_DATABASE: dict[str, Check] = {"url": _text}
_KEYS: dict[str, Check] = {"kek_file": _text}
_METRICS: dict[str, Check] = {"public": _boolean}
_WEBHOOK: dict[str, Check] = {
    "url": _text,
    "secret": _text,
    "secret_file": _text,
    "events": lambda value, where: _choice(value, where, WEBHOOK_EVENTS),
    "timeout_seconds": _integer(1, 300),
    "max_attempts": _integer(1, 100),
    "retry_base_seconds": lambda value, where: _number(value, where, 0.01, 3600.0),
    "allow_http": _boolean,
}
_SOURCE: dict[str, Check] = {
    "subscription": _guid,
    "resource_group": _resource_group,
    "name": _name,
    "paths": lambda value, where: value,  # checked with the base folder in _source
}
_RESTORE_LOCATION: dict[str, Check] = {
    "subscription": _guid,
    "resource_group": _resource_group,
    "name": _storage_account,
    "path": _text,
}
_TOP_LEVEL = ("server", "database", "keys", "metrics", "sources", "restore_locations", "webhooks")


def _table(raw: Any, where: str, schema: Mapping[str, Check], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    for key in raw:
        if key not in schema:
            raise ConfigError(f"unknown key '{where}.{key}'")
    for key in required:
        if key not in raw:
            raise ConfigError(f"{where}.{key} is required")
    return {key: schema[key](value, f"{where}.{key}") for key, value in raw.items()}


def _items(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where} must be an array of tables ([[{where}]])")
    return raw


# --- paths -------------------------------------------------------------------------------

def _path(text: str, base: Path, where: str) -> Path:
    if "\x00" in text:
        raise ConfigError(f"{where} must not contain NUL characters")
    return (base / Path(text).expanduser()).resolve()  # resolve() always makes it absolute


def _default_data_dir() -> Path:
    from_env = os.environ.get(DATA_DIR_ENV)
    return _path(from_env, Path.cwd(), f"${DATA_DIR_ENV}") if from_env else DEFAULT_DATA_DIR.resolve()


def _database_url(raw: str | None, base: Path, data_dir: Path) -> str:
    if raw is None:
        return f"sqlite:///{data_dir / 'strongbox.db'}"
    prefix, sep, rest = raw.partition(":///")
    if sep and prefix.split("+")[0] == "sqlite" and rest and not rest.startswith("/") and rest != ":memory:":
        return f"{prefix}:///{_path(rest, base, 'database.url')}"
    return raw


# --- loading -----------------------------------------------------------------------------

def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:  # its message carries "(at line L, column C)"
        raise ConfigError(f"{path}: invalid TOML: {err}") from None


def _source(raw: Any, where: str, base: Path) -> SourceSpec:
    fields = _table(raw, where, _SOURCE, required=("subscription", "resource_group", "name", "paths"))
    paths = fields["paths"]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise ConfigError(f"{where}.paths must be a non-empty array of path strings")
    return SourceSpec(
        subscription=fields["subscription"],
        resource_group=fields["resource_group"],
        name=fields["name"],
        paths=tuple(_path(p, base, f"{where}.paths[{i}]") for i, p in enumerate(paths)),
    )


def _restore_location(raw: Any, where: str, base: Path) -> RestoreLocationSpec:
    fields = _table(raw, where, _RESTORE_LOCATION, required=("subscription", "resource_group", "name", "path"))
    return RestoreLocationSpec(
        subscription=fields["subscription"],
        resource_group=fields["resource_group"],
        name=fields["name"],
        path=_path(fields["path"], base, f"{where}.path"),
    )


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook(raw: Any, where: str, base: Path) -> WebhookSettings:
    fields = _table(raw, where, _WEBHOOK, required=("url",))
    url = fields["url"]
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{where}.url is not a valid URL: {url!r}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"{where}.url must be an https:// URL with a host, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}.url must not carry a user name or password")
    if parts.scheme == "http" and not _loopback(host) and not fields.get("allow_http", False):
        raise ConfigError(f"{where}.url is http:// to a host that is not loopback: use https://, "
                          f"or set {where}.allow_http = true")
    if ("secret" in fields) == ("secret_file" in fields):
        raise ConfigError(f"{where} needs exactly one of secret and secret_file")
    if "secret" in fields and len(fields["secret"]) < MIN_WEBHOOK_SECRET:
        raise ConfigError(f"{where}.secret must be at least {MIN_WEBHOOK_SECRET} characters")
    if "secret_file" in fields:
        fields["secret_file"] = _path(fields["secret_file"], base, f"{where}.secret_file")
    return WebhookSettings(**fields)


def _refuse_duplicates(specs: Sequence[SourceSpec | RestoreLocationSpec], what: str) -> None:
    seen: set[tuple[str, str, str]] = set()
    for index, spec in enumerate(specs):
        key = (spec.subscription.lower(), spec.resource_group.lower(), spec.name.lower())
        if key in seen:
            raise ConfigError(
                f"{what}[{index}] duplicates subscription {spec.subscription}, "
                f"resource group {spec.resource_group!r}, name {spec.name!r}"
            )
        seen.add(key)


def load_settings(
    config: Path | None = None,
    *,
    data_dir: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    tls: bool | None = None,
    virtual_clock: bool | None = None,
) -> Settings:
    """Read and check the config (or the embedded defaults); the keyword overrides win."""
    if config is not None:
        config_path = Path(config).expanduser().resolve()
        raw = _read_toml(config_path)
        base = config_path.parent
    else:
        config_path, raw, base = None, {}, Path.cwd()
    for key in raw:
        if key not in _TOP_LEVEL:
            raise ConfigError(f"unknown key '{key}'")

    server = _table(raw.get("server", {}), "server", _SERVER)
    database = _table(raw.get("database", {}), "database", _DATABASE)
    keys = _table(raw.get("keys", {}), "keys", _KEYS)
    metrics = _table(raw.get("metrics", {}), "metrics", _METRICS)
    if data_dir is not None:
        server["data_dir"] = _path(str(data_dir), Path.cwd(), "--data-dir")
    elif "data_dir" in server:
        server["data_dir"] = _path(server["data_dir"], base, "server.data_dir")
    else:
        server["data_dir"] = _default_data_dir()
    for key in ("tls_cert", "tls_key"):
        if key in server:
            server[key] = _path(server[key], base, f"server.{key}")
    if ("tls_cert" in server) != ("tls_key" in server):
        raise ConfigError("server.tls_cert and server.tls_key go together: give both or neither")
    if host is not None:
        server["host"] = _text(host, "--host")
    if port is not None:
        server["port"] = _SERVER["port"](port, "--port")
    if tls is not None:
        server["tls"] = _boolean(tls, "--tls")
    if virtual_clock is not None:
        server["virtual_clock"] = _boolean(virtual_clock, "--virtual-clock")
    server_settings = ServerSettings(**server)
    kek_file = _path(keys["kek_file"], base, "keys.kek_file") if "kek_file" in keys else None
    if kek_file is not None:
        refuse_inside_data_dir(kek_file, server_settings.data_dir)

    if config_path is None:
        from strongbox.demo import demo_specs  # demo.py builds on this module's types

        demo_source, demo_restores = demo_specs(server_settings.data_dir)
        sources: tuple[SourceSpec, ...] = (demo_source,)
        restore_locations: tuple[RestoreLocationSpec, ...] = (demo_restores,)
    else:
        sources = tuple(
            _source(item, f"sources[{i}]", base) for i, item in enumerate(_items(raw.get("sources", []), "sources"))
        )
        restore_locations = tuple(
            _restore_location(item, f"restore_locations[{i}]", base)
            for i, item in enumerate(_items(raw.get("restore_locations", []), "restore_locations"))
        )
    _refuse_duplicates(sources, "sources")
    _refuse_duplicates(restore_locations, "restore_locations")
    webhooks = tuple(_webhook(item, f"webhooks[{i}]", base)
                     for i, item in enumerate(_items(raw.get("webhooks", []), "webhooks")))
    urls = [hook.url for hook in webhooks]
    for index, url in enumerate(urls):
        if url in urls[:index]:
            raise ConfigError(f"webhooks[{index}] duplicates the url {url!r}")

    return Settings(
        server=server_settings,
        database=DatabaseSettings(_database_url(database.get("url"), base, server_settings.data_dir)),
        sources=sources,
        restore_locations=restore_locations,
        config_path=config_path,
        keys=KeySettings(kek_file=kek_file),
        metrics=MetricsSettings(**metrics),
        webhooks=webhooks,
    )


# --- secrets in the data dir -------------------------------------------------------------

def key_paths(settings: Settings) -> KeyPaths:
    return KeyPaths(settings.data_dir, settings.keys_dir, settings.keys.kek_file)


def master_key(settings: Settings) -> bytes:
    """The 32-byte secret that unlocks every vault: unsealed, created and sealed on first use."""
    return load_master_secret(key_paths(settings))
