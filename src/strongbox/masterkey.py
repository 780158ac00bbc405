"""The server's master secret, sealed at rest in ``<data_dir>/keys/master.key``.

Key hierarchy (``docs/architecture.md`` draws it)::

    KEK: Argon2id($STRONGBOX_MASTER_PASSPHRASE)  or  a 32-byte KEK file outside the data dir
     └─ seals the master secret (32 random bytes)          keys/master.key
         ├─ vault passphrase = BLAKE2b(storage id, key=secret)   (:func:`vault_passphrase`)
         │    └─ wraps the vault's own random keys          vaults/<id>/keys/<32 hex>
         └─ export-link signing key = SHA-256("exports" || secret)

The secret never touches the disk in the clear. ``master.key`` is UTF-8 JSON, version 1::

    {"format": "strongbox-master-key", "version": 1,
     "kek": "file" | "passphrase",
     "kdf": {"name": "argon2id", "time_cost": 3, "memory_cost_kib": 65536,
             "parallelism": 2, "salt": b64(16 bytes)},           # "passphrase" only
     "nonce": b64(12 bytes),
     "sealed": b64(AES-256-GCM(KEK, nonce, secret, AD = "strongbox-master-key-v1:" + kek))}

Where the KEK comes from is decided when the file is first written: the passphrase if
``$STRONGBOX_MASTER_PASSPHRASE`` is set, otherwise the KEK file (``[keys] kek_file``, by
default ``$XDG_CONFIG_HOME/strongbox/kek/<data-dir id>.key``, ``~/.config`` without
``XDG_CONFIG_HOME``; the id is 32 random hex digits in ``keys/data-dir.id``). After that the
file's ``kek`` field decides, and a mismatch with the environment is a :class:`ConfigError`,
never a silent fallback. A KEK file holds 32 raw bytes or 64 hex digits, is private to its
owner (no group/other access) and never lies inside the data dir. A KEK file is only ever
created together with a new ``master.key``: an existing ``master.key`` whose KEK file is
missing is an error, not a reason to make a new one.

Older data dirs hold the secret in the clear (exactly 32 bytes); the first load seals it in
place (temp file, fsync, rename). Replacing the KEK (:func:`rewrap`) writes a file KEK to
``<kek>.next`` first, then replaces ``master.key``, then renames ``<kek>.next`` over
``<kek>``; a load that finds ``master.key`` sealed by ``<kek>.next`` finishes that rename.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongbox.domain.errors import ConfigError
from strongbox.keyfiles import create_private_file, private_dir, replace_private_file

SECRET_BYTES = 32
KEK_BYTES = 32
FORMAT = "strongbox-master-key"
VERSION = 1
PASSPHRASE_ENV = "STRONGBOX_MASTER_PASSPHRASE"
MASTER_FILE = "master.key"
DATA_DIR_ID_FILE = "data-dir.id"
KDF_TIME = 3
KDF_MEMORY_KIB = 64 * 1024
KDF_PARALLELISM = 2
_AD = "strongbox-master-key-v1:"


@dataclass(frozen=True)
class Kek:
    """A key-encryption key and where it came from (for messages and the file's ``kek``)."""

    kind: str                      # "file" or "passphrase"
    key: bytes
    kdf: dict[str, Any] | None     # the stored KDF parameters ("passphrase" only)
    origin: str                    # the KEK file's path, or the variable's name


@dataclass(frozen=True)
class KeyPaths:
    """Where one data dir's master key and KEK live; built from settings by ``config``."""

    data_dir: Path
    keys_dir: Path
    kek_file: Path | None          # ``[keys] kek_file``; None: the per-data-dir default

    @property
    def master(self) -> Path:
        return self.keys_dir / MASTER_FILE


def vault_passphrase(secret: bytes, storage_id: str) -> bytes:
    """The passphrase that wraps one vault's keys: a keyed hash of its storage id."""
    return hashlib.blake2b(storage_id.encode(), key=secret, digest_size=32).hexdigest().encode()


# --- KEK sources ---------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _argon2(passphrase: bytes, kdf: Mapping[str, Any]) -> bytes:
    return hash_secret_raw(passphrase, base64.b64decode(kdf["salt"], validate=True),
                           time_cost=int(kdf["time_cost"]), memory_cost=int(kdf["memory_cost_kib"]),
                           parallelism=int(kdf["parallelism"]), hash_len=32, type=Type.ID)


def passphrase_kek(passphrase: str, origin: str, kdf: Mapping[str, Any] | None = None) -> Kek:
    """The KEK from a passphrase: the stored KDF parameters, or fresh ones (a new salt)."""
    if not passphrase:
        raise ConfigError(f"{origin} is empty: a master passphrase cannot be empty")
    params = dict(kdf) if kdf is not None else {
        "name": "argon2id", "time_cost": KDF_TIME, "memory_cost_kib": KDF_MEMORY_KIB,
        "parallelism": KDF_PARALLELISM, "salt": _b64(secrets.token_bytes(16))}
    if params.get("name") != "argon2id":
        raise ConfigError(f"unsupported master key KDF {params.get('name')!r}")
    try:
        key = _argon2(passphrase.encode(), params)
    except (KeyError, TypeError, ValueError, binascii.Error) as err:
        raise ConfigError(f"the master key's KDF parameters are damaged: {err}") from None
    return Kek("passphrase", key, params, origin)


def data_dir_id(paths: KeyPaths, *, create: bool = False) -> str:
    """The data dir's random id (names its default KEK file); made only with a new KEK file."""
    path = paths.keys_dir / DATA_DIR_ID_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise ConfigError(f"{path} is missing: it names the KEK file that seals {MASTER_FILE}; "
                              "restore it, or set [keys] kek_file") from None
        raw = create_private_file(path, (secrets.token_hex(16) + "\n").encode())
    text = raw.decode("ascii", "replace").strip()
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise ConfigError(f"{path} is damaged: it must hold 32 lowercase hex digits")
    return text


def default_kek_file(paths: KeyPaths, *, create: bool = False) -> Path:
    """``$XDG_CONFIG_HOME/strongbox/kek/<data-dir id>.key`` (``~/.config`` by default)."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        try:
            base = Path.home() / ".config"
        except RuntimeError:
            raise ConfigError("no home folder to keep the KEK file in: set [keys] kek_file, "
                              f"XDG_CONFIG_HOME or {PASSPHRASE_ENV}") from None
    return base / "strongbox" / "kek" / f"{data_dir_id(paths, create=create)}.key"


def kek_file_path(paths: KeyPaths, *, create: bool = False) -> Path:
    """The KEK file in force, refused when it lies inside the data dir."""
    path = paths.kek_file if paths.kek_file is not None else default_kek_file(paths, create=create)
    refuse_inside_data_dir(path, paths.data_dir)
    return path


def refuse_inside_data_dir(kek_file: Path, data_dir: Path) -> None:
    if kek_file.resolve().is_relative_to(data_dir.resolve()):
        raise ConfigError(f"the KEK file {kek_file} is inside the data dir {data_dir}: a key stored "
                          "beside the data it protects protects nothing; set [keys] kek_file to a path "
                          f"outside it, or use {PASSPHRASE_ENV}")


def read_kek_file(path: Path) -> Kek:
    try:
        st = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"the KEK file {path} does not exist (it seals {MASTER_FILE}; without it "
                          "the vaults cannot be opened)") from None
    except OSError as err:
        raise ConfigError(f"cannot read the KEK file {path}: {err.strerror or err}") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise ConfigError(f"the KEK file {path} is accessible to others (mode "
                          f"{stat.S_IMODE(st.st_mode):04o}): chmod 600 it")
    key = raw
    if len(raw) != KEK_BYTES:
        try:
            key = bytes.fromhex(raw.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            key = b""
    if len(key) != KEK_BYTES:
        raise ConfigError(f"the KEK file {path} must hold {KEK_BYTES} bytes or {2 * KEK_BYTES} hex digits")
    return Kek("file", key, None, str(path))


def new_kek_file(path: Path) -> Kek:
    """Create a KEK file (0600 in a 0700 folder) unless one exists; read what is there."""
    if path.exists():
        return read_kek_file(path)   # the operator's: their folder's mode is theirs
    try:
        private_dir(path.parent)
        create_private_file(path, (secrets.token_hex(KEK_BYTES) + "\n").encode())
    except OSError as err:
        raise ConfigError(f"cannot create the KEK file {path}: {err.strerror or err}") from None
    return read_kek_file(path)


def write_kek_file(path: Path, key: bytes) -> None:
    """Write (or replace) a KEK file atomically, 0600."""
    try:
        private_dir(path.parent)
        replace_private_file(path, (key.hex() + "\n").encode())
    except OSError as err:
        raise ConfigError(f"cannot write the KEK file {path}: {err.strerror or err}") from None


# --- the sealed file -----------------------------------------------------------------------

def seal(secret: bytes, kek: Kek) -> bytes:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(kek.key).encrypt(nonce, secret, (_AD + kek.kind).encode())
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "kek": kek.kind}
    if kek.kdf is not None:
        doc["kdf"] = kek.kdf
    doc.update(nonce=_b64(nonce), sealed=_b64(sealed))
    return (json.dumps(doc, indent=1) + "\n").encode()


def parse(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a strongbox master key file")
    if doc.get("version") != VERSION or doc.get("kek") not in ("file", "passphrase"):
        raise ConfigError(f"{path}: unsupported master key file version {doc.get('version')!r} "
                          f"or KEK kind {doc.get('kek')!r}")
    return doc


def unseal(doc: Mapping[str, Any], kek: Kek, path: Path) -> bytes | None:
    """The secret, or None when this KEK does not open the file."""
    try:
        nonce = base64.b64decode(doc["nonce"], validate=True)
        sealed = base64.b64decode(doc["sealed"], validate=True)
        secret = AESGCM(kek.key).decrypt(nonce, sealed, (_AD + kek.kind).encode())
    except InvalidTag:
        return None
    except (KeyError, TypeError, ValueError, binascii.Error) as err:
        raise ConfigError(f"{path} is damaged: {err}") from None
    if len(secret) != SECRET_BYTES:
        raise ConfigError(f"{path} seals a {len(secret)}-byte secret, not {SECRET_BYTES}")
    return secret


# --- loading ---------------------------------------------------------------------------------

def _passphrase_from(environ: Mapping[str, str]) -> str | None:
    return environ.get(PASSPHRASE_ENV)


def kek_for_new_file(paths: KeyPaths, environ: Mapping[str, str]) -> Kek:
    """The KEK a new ``master.key`` is sealed with: the passphrase if set, else the KEK file."""
    passphrase = _passphrase_from(environ)
    if passphrase is not None:
        return passphrase_kek(passphrase, f"${PASSPHRASE_ENV}")
    return new_kek_file(kek_file_path(paths, create=True))


def open_sealed(path: Path, paths: KeyPaths, environ: Mapping[str, str]) -> tuple[bytes, Kek]:
    """Unseal one sealed file (``master.key`` or a rotation's ``.next``/``.old``)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
    doc = parse(raw, path)
    passphrase = _passphrase_from(environ)
    if doc["kek"] == "passphrase":
        if passphrase is None:
            raise ConfigError(f"{path} is sealed with a passphrase: set {PASSPHRASE_ENV}")
        kdf = doc.get("kdf")
        if not isinstance(kdf, dict):
            raise ConfigError(f"{path} is damaged: no KDF parameters")
        kek = passphrase_kek(passphrase, f"${PASSPHRASE_ENV}", kdf)
        secret = unseal(doc, kek, path)
        if secret is None:
            raise ConfigError(f"${PASSPHRASE_ENV} does not unseal {path}: wrong passphrase, or the file is damaged")
        return secret, kek
    if passphrase is not None:
        raise ConfigError(f"{PASSPHRASE_ENV} is set, but {path} is sealed with a KEK file, not a passphrase: "
                          "unset it, or seal with a passphrase by running `strongbox key rotate --kek` "
                          "with STRONGBOX_NEW_MASTER_PASSPHRASE set (and this one unset)")
    kek_path = kek_file_path(paths)
    pending = kek_path.with_name(kek_path.name + ".next")
    candidates = [p for p in (kek_path, pending) if p.exists()] or [kek_path]
    for candidate in candidates:
        kek = read_kek_file(candidate)
        secret = unseal(doc, kek, path)
        if secret is not None:
            if candidate == pending:
                _finish_kek_switch(pending, kek_path)
                kek = Kek("file", kek.key, None, str(kek_path))
            return secret, kek
    raise ConfigError(f"the KEK file {kek_path} does not unseal {path}: a different key, or a damaged file")


def _finish_kek_switch(pending: Path, kek_path: Path) -> None:
    try:
        os.replace(pending, kek_path)
    except FileNotFoundError:
        pass                             # another process finished it
    except OSError as err:
        raise ConfigError(f"cannot rename {pending} to {kek_path}: {err.strerror or err}") from None


def load_master(paths: KeyPaths, environ: Mapping[str, str] | None = None) -> tuple[bytes, Kek]:
    """The master secret and its KEK: created and sealed on first use; a clear one sealed in place."""
    env = os.environ if environ is None else environ
    path = paths.master
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        private_dir(paths.keys_dir)
        secret, kek = secrets.token_bytes(SECRET_BYTES), kek_for_new_file(paths, env)
        sealed = seal(secret, kek)
        if create_private_file(path, sealed) == sealed:
            return secret, kek
        return open_sealed(path, paths, env)   # another process created it first: use theirs
    if len(raw) == SECRET_BYTES:             # a data dir from before sealing: seal it now
        kek = kek_for_new_file(paths, env)
        replace_private_file(path, seal(raw, kek))
        return raw, kek
    return open_sealed(path, paths, env)


def load_master_secret(paths: KeyPaths, environ: Mapping[str, str] | None = None) -> bytes:
    """The master secret (see :func:`load_master`)."""
    return load_master(paths, environ)[0]


# --- a new KEK ---------------------------------------------------------------------------------

NEW_PASSPHRASE_ENV = "STRONGBOX_NEW_MASTER_PASSPHRASE"


def rewrap(paths: KeyPaths, environ: Mapping[str, str] | None = None) -> Kek:
    """Seal the master secret under a new KEK; the secret and the vaults stay as they are.

    The new KEK is ``$STRONGBOX_NEW_MASTER_PASSPHRASE`` when set, otherwise a fresh random key
    in the KEK file in force (written to ``<kek>.next``, then ``master.key`` is replaced,
    then ``<kek>.next`` is renamed over ``<kek>``: every step leaves a loadable pair)."""
    env = os.environ if environ is None else environ
    secret = load_master_secret(paths, env)
    new_passphrase = env.get(NEW_PASSPHRASE_ENV)
    if new_passphrase is not None:
        kek = passphrase_kek(new_passphrase, f"${NEW_PASSPHRASE_ENV}")
        replace_private_file(paths.master, seal(secret, kek))
        return kek
    kek_path = kek_file_path(paths)
    pending = kek_path.with_name(kek_path.name + ".next")
    key = secrets.token_bytes(KEK_BYTES)
    write_kek_file(pending, key)
    replace_private_file(paths.master, seal(secret, Kek("file", key, None, str(pending))))
    _finish_kek_switch(pending, kek_path)
    return Kek("file", key, None, str(kek_path))
