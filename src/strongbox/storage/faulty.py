"""Fault-injecting blob store for tests: wraps another store and breaks on purpose.

Faults (all optional, combinable):
- ``fail_put_at=N``: the N-th ``put`` (1-based) and every later one raise :class:`StorageError`
  (``fail_once=True``: only the N-th).
- ``capacity=B``: once the bytes put through this wrapper would exceed B, ``put`` raises
  :class:`StorageFull` (the object is not written: puts stay atomic).
- ``corrupt=predicate``: ``get``/``get_range`` of a key for which ``predicate(key)`` is true
  return the bytes with one bit flipped in the middle.
A failed put never leaves a partial object behind.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator

from strongbox.storage.base import BlobStore, StorageError, StorageFull


def _flip(data: bytes) -> bytes:
    if not data:
        return data
    buf = bytearray(data)
    buf[len(buf) // 2] ^= 0x01
    return bytes(buf)


class FaultyStore:
    def __init__(
        self,
        inner: BlobStore,
        *,
        fail_put_at: int | None = None,
        fail_once: bool = False,
        capacity: int | None = None,
        corrupt: Callable[[str], bool] | None = None,
    ) -> None:
        self.inner = inner
        self.fail_put_at = fail_put_at
        self.fail_once = fail_once
        self.capacity = capacity
        self.corrupt = corrupt
        self.puts = 0
        self.bytes_put = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes:
        data = self.inner.get(key)
        return _flip(data) if self.corrupt and self.corrupt(key) else data

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        data = self.inner.get_range(key, offset, length)
        return _flip(data) if self.corrupt and self.corrupt(key) else data

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self.puts += 1
            n = self.puts
            if self.fail_put_at is not None and (
                n == self.fail_put_at or (not self.fail_once and n > self.fail_put_at)
            ):
                raise StorageError(f"injected failure writing {key} (put #{n})")
            if self.capacity is not None and self.bytes_put + len(data) > self.capacity:
                raise StorageFull(f"injected: capacity of {self.capacity} bytes reached writing {key}")
            self.bytes_put += len(data)
        self.inner.put(key, data)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def size(self, key: str) -> int:
        return self.inner.size(key)
