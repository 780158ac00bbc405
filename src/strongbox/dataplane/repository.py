"""Repository: the data plane's public face over one vault in one blob store.

Layout of the store (see ``docs/formats/vault-v1.md``)::

    config                 plaintext JSON: format, version, vault id (written last by init)
    keys/<id>              passphrase-wrapped master key (keys.py)
    data/<xx>/<pack id>    packs of sealed chunk blobs (packs.py)
    index/<id>             sealed index files (index.py)
    snapshots/<id>         sealed recovery-point manifests (snapshots.py)
    locks/<id>             plaintext lock objects (locks.py)

Everything needed to list and restore recovery points is in the store; ``cache_dir``
only speeds things up (the files cache). Pipeline order for writes: chunk -> id -> dedupe
-> compress -> encrypt -> pack -> store; packs before index, index before snapshot.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

from strongbox.dataplane import keys, snapshots
from strongbox.dataplane.backup import BackupRun
from strongbox.dataplane.check import run_check
from strongbox.dataplane.context import CHUNK_AVG, CHUNK_MAX, CHUNK_MIN, VaultContext
from strongbox.dataplane.crypto import Cipher
from strongbox.dataplane.errors import VaultCorrupt, VaultExists, VaultNotFound, WrongPassphrase
from strongbox.dataplane.index import Index
from strongbox.dataplane.progress import CancelToken, ProgressCallback
from strongbox.dataplane.prune import run_prune
from strongbox.dataplane.restore import RestoreRun
from strongbox.dataplane.results import (
    BackupResult, CheckReport, FileWarning, Problem, PruneResult, RestoreResult,
)
from strongbox.dataplane.snapshots import SnapshotInfo
from strongbox.storage.base import BlobNotFound, BlobStore

__all__ = [
    "BackupResult", "CheckReport", "FileWarning", "Problem", "PruneResult", "Repository", "RestoreResult",
    "SnapshotInfo",
]

VAULT_FORMAT = "strongbox-vault"
VAULT_VERSION = 1


def _read_config(store: BlobStore) -> dict[str, object]:
    try:
        raw = store.get("config")
    except BlobNotFound:
        raise VaultNotFound(getattr(store, "root", "this storage location")) from None
    try:
        cfg = json.loads(raw)
    except ValueError:
        raise VaultCorrupt("config is not valid JSON") from None
    if cfg.get("format") != VAULT_FORMAT or cfg.get("version") != VAULT_VERSION:
        raise VaultCorrupt(f"unsupported vault format {cfg.get('format')!r} v{cfg.get('version')!r}")
    return dict(cfg)


class Repository:
    def __init__(self, store: BlobStore, master: keys.MasterKey, key_name: str, vault_id: str,
                 cache_dir: Path | None) -> None:
        self.store = store
        self.vault_id = vault_id
        self._master = master
        self._key_name = key_name
        self.cache_dir = cache_dir
        cipher = Cipher(master.enc_key, master.id_key)
        self._ctx = VaultContext(store, cipher, Index(), master.chunker_seed, vault_id)
        self._index_loaded = False

    # -- lifecycle ---------------------------------------------------------------------
    @classmethod
    def init(cls, store: BlobStore, passphrase: bytes) -> "Repository":
        if store.exists("config"):
            raise VaultExists(getattr(store, "root", "this storage location"))
        master = keys.MasterKey.generate()
        vault_id = secrets.token_hex(16)
        key_name = f"keys/{secrets.token_hex(16)}"
        store.put(key_name, keys.wrap(master, passphrase))
        cfg = {"format": VAULT_FORMAT, "version": VAULT_VERSION, "id": vault_id,
               "created": datetime.now(timezone.utc).isoformat(),
               "chunker": {"algorithm": "fastcdc2020", "min": CHUNK_MIN, "avg": CHUNK_AVG, "max": CHUNK_MAX}}
        store.put("config", json.dumps(cfg, indent=1).encode())
        repo = cls(store, master, key_name, vault_id, None)
        repo._index_loaded = True
        return repo

    @classmethod
    def open(cls, store: BlobStore, passphrase: bytes, *, cache_dir: Path | None = None) -> "Repository":
        cfg = _read_config(store)
        for key_name in sorted(store.list("keys/")):
            try:
                master = keys.unwrap(store.get(key_name), passphrase)
            except (WrongPassphrase, BlobNotFound):
                continue
            return cls(store, master, key_name, str(cfg["id"]), cache_dir)
        raise WrongPassphrase()

    def change_passphrase(self, new_passphrase: bytes) -> None:
        old_name = self._key_name
        self._key_name = self.add_key(new_passphrase)
        self.store.delete(old_name)

    # -- key files (several may wrap the same vault keys; any one opens the vault) ---------
    def add_key(self, passphrase: bytes) -> str:
        """Wrap this vault's keys for one more passphrase, keeping every other key file."""
        name = f"keys/{secrets.token_hex(16)}"
        self.store.put(name, keys.wrap(self._master, passphrase))
        return name

    def key_names_opened_by(self, passphrase: bytes) -> list[str]:
        """The key files ``passphrase`` opens (one KDF run per key file)."""
        opened = []
        for name in sorted(self.store.list("keys/")):
            try:
                keys.unwrap(self.store.get(name), passphrase)
            except (WrongPassphrase, BlobNotFound, VaultCorrupt):
                continue
            opened.append(name)
        return opened

    def remove_keys_opened_by(self, passphrase: bytes) -> list[str]:
        """Delete the key files ``passphrase`` opens, never the one this repository was
        opened with (so the vault always keeps a key its current passphrase opens)."""
        doomed = [name for name in self.key_names_opened_by(passphrase) if name != self._key_name]
        for name in doomed:
            self.store.delete(name)
        return doomed

    @property
    def ctx(self) -> VaultContext:
        if not self._index_loaded:
            self._ctx.index = Index.load(self.store, self._ctx.cipher)
            self._index_loaded = True
        return self._ctx

    def reload_index(self) -> None:
        self._index_loaded = False

    # -- operations --------------------------------------------------------------------
    def backup(self, paths: Sequence[Path], *, meta: Mapping[str, str] | None = None,
               progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
               time: datetime | None = None) -> BackupResult:
        self.reload_index()  # other writers may have added data since we opened
        run = BackupRun(self.ctx, paths, meta=meta, progress=progress, cancel=cancel, time=time,
                        cache_dir=self.cache_dir)
        return run.run()

    def snapshots(self) -> list[SnapshotInfo]:
        infos, _problems = snapshots.load_all(self.store, self._ctx.cipher)
        return infos

    def snapshot(self, snapshot_id: str) -> SnapshotInfo:
        return snapshots.resolve(self.store, self._ctx.cipher, snapshot_id)

    def restore(self, snapshot_id: str, target: Path | None = None, *, include: Sequence[str] = (),
                roots: Mapping[str, Path] | None = None, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None, allow_external_symlinks: bool = False) -> RestoreResult:
        info = self.snapshot(snapshot_id)
        run = RestoreRun(self.ctx, info, target, include=include, roots=roots, progress=progress,
                         cancel=cancel, allow_external_symlinks=allow_external_symlinks)
        return run.run()

    def check(self, *, read_data: bool = False, progress: ProgressCallback | None = None) -> CheckReport:
        self.reload_index()
        return run_check(self.ctx, read_data, progress)

    def forget(self, snapshot_ids: Sequence[str]) -> None:
        for ref in snapshot_ids:
            info = self.snapshot(ref)
            self.store.delete(snapshots.PREFIX + info.id)

    def forget_keep_last(self, n: int) -> list[str]:
        if n < 0:
            raise ValueError("keep-last must be >= 0")
        infos = self.snapshots()
        doomed = [s.id for s in (infos[:-n] if n else infos)]
        for sid in doomed:
            self.store.delete(snapshots.PREFIX + sid)
        return doomed

    def prune(self, *, progress: ProgressCallback | None = None) -> PruneResult:
        return run_prune(self.ctx, progress)
