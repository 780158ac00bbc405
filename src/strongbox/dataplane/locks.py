"""Vault locks: ``locks/<random hex>`` plaintext JSON objects in the store.

Backups take a shared lock (many may run at once); prune takes an exclusive lock and
refuses to start while any other live lock exists. A lock is stale, and may be broken,
when it is older than :data:`STALE_AFTER` seconds (holders refresh every
:data:`REFRESH_EVERY`) or when it names a pid that is dead on this host.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time

from strongbox.dataplane.errors import VaultLocked
from strongbox.storage.base import BlobNotFound, BlobStore

STALE_AFTER = 30 * 60
REFRESH_EVERY = 5 * 60
PREFIX = "locks/"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(doc: dict[str, object], now: float | None = None) -> bool:
    now = time.time() if now is None else now
    if now - float(doc.get("time", 0)) > STALE_AFTER:  # type: ignore[arg-type]
        return True
    return doc.get("host") == socket.gethostname() and not _pid_alive(int(doc.get("pid", 0)))  # type: ignore[call-overload]


class Lock:
    def __init__(self, store: BlobStore, exclusive: bool) -> None:
        self.store = store
        self.exclusive = exclusive
        self.key = PREFIX + secrets.token_hex(16)
        self._stamp = 0.0

    def _write(self) -> None:
        self._stamp = time.time()
        doc = {"exclusive": self.exclusive, "host": socket.gethostname(), "pid": os.getpid(),
               "time": self._stamp}
        self.store.put(self.key, json.dumps(doc).encode())

    def _others(self) -> list[dict[str, object]]:
        live = []
        for key in self.store.list(PREFIX):
            if key == self.key:
                continue
            try:
                doc = json.loads(self.store.get(key))
            except (BlobNotFound, ValueError):
                continue
            if is_stale(doc):
                self.store.delete(key)
                continue
            live.append(doc)
        return live

    def acquire(self) -> "Lock":
        self._conflicts()
        self._write()
        try:
            self._conflicts()  # someone may have raced us between the check and the write
        except VaultLocked:
            self.release()
            raise
        return self

    def _conflicts(self) -> None:
        for doc in self._others():
            if self.exclusive or doc.get("exclusive"):
                raise VaultLocked(f"held by pid {doc.get('pid')} on {doc.get('host')} "
                                  f"({'exclusive' if doc.get('exclusive') else 'shared'}); try again later")

    def refresh(self) -> None:
        if time.time() - self._stamp > REFRESH_EVERY:
            self._write()

    def release(self) -> None:
        self.store.delete(self.key)

    def __enter__(self) -> "Lock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
