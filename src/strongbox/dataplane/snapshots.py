"""Recovery points: ``snapshots/<64 hex>`` objects, sealed (associated data ``snapshot``).

Plaintext is JSON: ``format``/``version``, ``time`` (ISO-8601 UTC with microseconds),
``roots`` (root name -> original absolute path), ``meta``, counters (``files``, ``dirs``,
``bytes_total``), ``hostname`` and ``tree`` (the tree's chunk ids, see :mod:`tree`).
A snapshot is written last, after every pack and index it needs: if it exists, its data
exists. Ids are random; lookups accept ``latest`` and unique prefixes of >= 8 characters.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from strongbox.dataplane.crypto import Cipher
from strongbox.dataplane.errors import SnapshotNotFound, VaultCorrupt
from strongbox.storage.base import BlobStore, StorageError

FORMAT_VERSION = 1
_AD = b"snapshot"
PREFIX = "snapshots/"


@dataclass
class SnapshotInfo:
    id: str
    time: datetime
    roots: dict[str, str]
    meta: dict[str, str]
    files: int
    bytes_total: int
    dirs: int = 0
    tree: list[str] = field(default_factory=list, repr=False)


def new_id() -> str:
    return secrets.token_hex(32)


def save(store: BlobStore, cipher: Cipher, info: SnapshotInfo, hostname: str) -> None:
    doc: dict[str, Any] = {
        "format": "strongbox-snapshot", "version": FORMAT_VERSION,
        "time": info.time.astimezone(timezone.utc).isoformat(), "roots": info.roots, "meta": info.meta,
        "files": info.files, "dirs": info.dirs, "bytes_total": info.bytes_total,
        "hostname": hostname, "tree": info.tree,
    }
    store.put(PREFIX + info.id, cipher.seal(json.dumps(doc).encode(), _AD))


def load(store: BlobStore, cipher: Cipher, sid: str) -> SnapshotInfo:
    key = PREFIX + sid
    doc = json.loads(cipher.open(store.get(key), _AD, key))
    if doc.get("format") != "strongbox-snapshot" or doc.get("version") != FORMAT_VERSION:
        raise VaultCorrupt(f"{key}: unsupported snapshot format")
    return SnapshotInfo(sid, datetime.fromisoformat(doc["time"]), dict(doc["roots"]), dict(doc["meta"]),
                        int(doc["files"]), int(doc["bytes_total"]), int(doc.get("dirs", 0)), list(doc["tree"]))


def load_all(store: BlobStore, cipher: Cipher) -> tuple[list[SnapshotInfo], list[tuple[str, str]]]:
    """All readable snapshots sorted by time, and (key, message) for unreadable ones."""
    infos, problems = [], []
    for key in store.list(PREFIX):
        try:
            infos.append(load(store, cipher, key[len(PREFIX):]))
        except (VaultCorrupt, StorageError, ValueError, KeyError) as err:
            problems.append((key, getattr(err, "message", str(err))))
    infos.sort(key=lambda s: (s.time, s.id))
    return infos, problems


def resolve(store: BlobStore, cipher: Cipher, ref: str) -> SnapshotInfo:
    if ref == "latest":
        infos, _ = load_all(store, cipher)
        if not infos:
            raise SnapshotNotFound("the vault has no recovery points")
        return infos[-1]
    if len(ref) < 8:
        raise SnapshotNotFound(f"{ref!r} (give at least 8 characters of the id, or 'latest')")
    ids = [k[len(PREFIX):] for k in store.list(PREFIX) if k[len(PREFIX):].startswith(ref)]
    if not ids:
        raise SnapshotNotFound(ref)
    if len(ids) > 1:
        raise SnapshotNotFound(f"{ref!r} is ambiguous ({len(ids)} matches)")
    return load(store, cipher, ids[0])
