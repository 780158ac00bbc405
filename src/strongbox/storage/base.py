"""The blob-store port: a flat namespace of immutable, '/'-separated keys.

Invariants every adapter keeps:
- ``put`` is atomic: a reader sees either no object or the whole object, never a prefix.
- ``delete`` of a missing key is not an error; ``get`` of a missing key raises
  :class:`BlobNotFound`.
- ``list(prefix)`` yields keys (not folders) that start with ``prefix``, in no set order.
- Failures surface as :class:`StorageFull` (no space left) or :class:`StorageError`.
"""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence, runtime_checkable

from strongbox.domain.errors import StrongboxError


class StorageError(StrongboxError):
    """Storage error: {detail}"""

    code = "StorageError"
    http_status = 500
    exit_code = 6


class StorageFull(StorageError):
    """Storage is full: {detail}"""

    code = "StorageFull"
    http_status = 507
    exit_code = 6


class BlobNotFound(StorageError):
    """Object not found in storage: {detail}"""

    code = "BlobNotFound"
    http_status = 404
    exit_code = 6


@runtime_checkable
class BlobStore(Protocol):
    def get(self, key: str) -> bytes: ...

    def get_range(self, key: str, offset: int, length: int) -> bytes: ...

    def put(self, key: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def size(self, key: str) -> int: ...


def put_parts(store: BlobStore, key: str, parts: Sequence[bytes]) -> None:
    """``put`` of the parts joined; a store that can write them without joining them
    (``LocalStore.put_parts``) does."""
    own = getattr(store, "put_parts", None)
    if own is not None:
        own(key, parts)
    else:
        store.put(key, b"".join(parts))


def check_key(key: str) -> str:
    """Refuse keys that could address something outside the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in key:
        raise StorageError(f"invalid key {key!r}")
    return key
