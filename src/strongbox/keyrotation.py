"""``strongbox key rotate``: a new master secret, every vault's keys rewrapped for it.

Only key files change; no vault data is rewritten (each vault's own random keys stay; the
passphrase that wraps them, derived from the master secret, changes). The steps, each one
safe to interrupt:

1. :func:`begin`: ``keys/master.key.next`` holds the new secret, sealed with the current KEK.
2. :func:`add_new_keys`: each vault under ``vaults/`` gets one more key file, wrapped with the
   passphrase derived from the new secret; its old key file stays.
3. :func:`switch`: ``keys/master.key.old`` holds the current secret (sealed), then
   ``master.key.next`` is renamed over ``master.key``: the commit point, one atomic rename.
4. :func:`finish`: from each vault the key files the old secret's passphrase opens are
   deleted, then ``master.key.old`` is.

Before the switch the server's secret is the old one and every vault still has its old key
file; after it the secret is the new one and every vault already has its new key file
(``Repository.open`` tries each key file). So a server started in any in-between state opens
every vault, and the server needs no knowledge of rotations. ``rotate`` is resumable: which
of ``.next``/``.old`` exist says where it stopped (``.next``: before the switch, redo from 2
with that secret, checking each vault for a key file it already added; ``.old`` alone: after
it, redo 4), and an interrupted rotation is finished instead of a new one started. A vault
that neither secret opens stops the rotation before the switch, so nothing is lost.

The export-link signing key is derived from the master secret too: links signed before a
rotation stop verifying after it (they are short-lived; ask for a new one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from strongbox.datalock import exclusive
from strongbox.dataplane.errors import WrongPassphrase
from strongbox.dataplane.repository import Repository
from strongbox.domain.errors import ConfigError
from strongbox.keyfiles import fsync_dir, replace_private_file
from strongbox.masterkey import (
    SECRET_BYTES,
    Kek,
    KeyPaths,
    load_master,
    open_sealed,
    rewrap,
    seal,
    vault_passphrase,
)
from strongbox.storage.local import LocalStore

NEXT = "master.key.next"
OLD = "master.key.old"


@dataclass(frozen=True)
class Rotation:
    paths: KeyPaths
    vaults_dir: Path
    old: bytes
    new: bytes
    kek: Kek
    resumed: bool           # an interrupted rotation is being finished
    switched: bool          # master.key already holds the new secret


@dataclass(frozen=True)
class RotationReport:
    vaults: int             # vaults whose keys now open with the new secret only
    resumed: bool


def pending(paths: KeyPaths) -> str | None:
    """``"prepared"`` (stopped before the switch), ``"switched"`` (after it), or None."""
    if (paths.keys_dir / NEXT).exists():
        return "prepared"
    if (paths.keys_dir / OLD).exists():
        return "switched"
    return None


def begin(paths: KeyPaths, vaults_dir: Path, environ: Mapping[str, str] | None = None) -> Rotation:
    """Step 1, or pick up where an interrupted rotation stopped."""
    env = os.environ if environ is None else environ
    current, kek = load_master(paths, env)
    state = pending(paths)
    if state == "prepared":
        new, _ = open_sealed(paths.keys_dir / NEXT, paths, env)
        return Rotation(paths, vaults_dir, current, new, kek, resumed=True, switched=False)
    if state == "switched":
        old, _ = open_sealed(paths.keys_dir / OLD, paths, env)
        return Rotation(paths, vaults_dir, old, current, kek, resumed=True, switched=True)
    new = os.urandom(SECRET_BYTES)
    replace_private_file(paths.keys_dir / NEXT, seal(new, kek))
    return Rotation(paths, vaults_dir, current, new, kek, resumed=False, switched=False)


def vault_dirs(vaults_dir: Path) -> Iterator[Path]:
    """Every vault folder; one without ``config`` (a creation that never finished) is no vault."""
    if vaults_dir.is_dir():
        yield from sorted(p for p in vaults_dir.iterdir() if (p / "config").is_file())


def _open(folder: Path, secret: bytes) -> Repository:
    return Repository.open(LocalStore(folder), vault_passphrase(secret, folder.name))


def add_new_keys(rotation: Rotation) -> int:
    """Step 2: a key file for the new secret in every vault; returns how many were added."""
    added = 0
    for folder in vault_dirs(rotation.vaults_dir):
        new_passphrase = vault_passphrase(rotation.new, folder.name)
        if rotation.resumed:   # this vault may have its new key file already
            try:
                _open(folder, rotation.new)
                continue
            except WrongPassphrase:
                pass
        try:
            repo = _open(folder, rotation.old)
        except WrongPassphrase:
            raise WrongPassphrase(f": the vault {folder} opens with neither the current nor the new master "
                                  "secret; nothing was switched (master.key is unchanged)") from None
        repo.add_key(new_passphrase)
        added += 1
    return added


def switch(rotation: Rotation) -> Rotation:
    """Step 3: keep the old secret sealed aside, then make the new one current (one rename)."""
    keys_dir = rotation.paths.keys_dir
    replace_private_file(keys_dir / OLD, seal(rotation.old, rotation.kek))
    os.replace(keys_dir / NEXT, rotation.paths.master)
    fsync_dir(keys_dir)
    return Rotation(rotation.paths, rotation.vaults_dir, rotation.old, rotation.new, rotation.kek,
                    rotation.resumed, switched=True)


def finish(rotation: Rotation) -> int:
    """Step 4: drop the old secret's key files from every vault, then the old secret."""
    if not rotation.switched:
        raise ConfigError("finish() before switch(): the old key files are still the current ones")
    vaults = 0
    for folder in vault_dirs(rotation.vaults_dir):
        repo = _open(folder, rotation.new)     # raises (and deletes nothing) if the new key is missing
        repo.remove_keys_opened_by(vault_passphrase(rotation.old, folder.name))
        fsync_dir(folder / "keys")
        vaults += 1
    (rotation.paths.keys_dir / OLD).unlink(missing_ok=True)
    fsync_dir(rotation.paths.keys_dir)
    return vaults


def rotate(paths: KeyPaths, vaults_dir: Path, environ: Mapping[str, str] | None = None) -> RotationReport:
    """All four steps, alone on the data dir (refused while a server uses it)."""
    with exclusive(paths.data_dir, "rotating keys"):
        rotation = begin(paths, vaults_dir, environ)
        if not rotation.switched:
            add_new_keys(rotation)
            rotation = switch(rotation)
        return RotationReport(vaults=finish(rotation), resumed=rotation.resumed)


def rotate_kek(paths: KeyPaths, environ: Mapping[str, str] | None = None) -> Kek:
    """Seal the master secret under a new KEK (:func:`strongbox.masterkey.rewrap`), alone on
    the data dir, and never in the middle of a vault key rotation (its sealed files would be
    left under the old KEK)."""
    with exclusive(paths.data_dir, "changing the KEK"):
        if pending(paths) is not None:
            raise ConfigError("a key rotation was interrupted: finish it first with `strongbox key rotate`")
        return rewrap(paths, environ)
