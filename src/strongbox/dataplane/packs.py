"""Packs: many sealed chunk blobs in one storage object, described by a sealed trailer.

Layout of ``data/<id[:2]>/<id>`` (``id`` = hex BLAKE3 of the whole pack, so any flipped
byte is visible without the key)::

    blob_0 || blob_1 || ... || sealed_header || u32le(len(sealed_header)) || b"SBPACK01"

``sealed_header`` (associated data ``pack-header``) is a list of fixed 49-byte entries
``u8 kind || id[32] || u64le offset || u32le stored_len || u32le raw_len``. A pack alone
tells which blobs it holds, so a lost index can be rebuilt from packs. Packs are immutable;
a pack is written completely (atomic put) before any index names it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import blake3

from strongbox.dataplane.crypto import Cipher
from strongbox.dataplane.errors import VaultCorrupt
from strongbox.storage.base import BlobStore

MAGIC = b"SBPACK01"
_TRAILER = struct.Struct("<I8s")
ENTRY = struct.Struct("<B32sQII")
KIND_DATA = 0
KIND_TREE = 1
_HEADER_AD = b"pack-header"


@dataclass(frozen=True, slots=True)
class BlobRef:
    kind: int
    id: bytes
    offset: int
    length: int
    raw_len: int


def pack_key(pack_id: bytes) -> str:
    h = pack_id.hex()
    return f"data/{h[:2]}/{h}"


def pack_id_of_key(key: str) -> bytes | None:
    name = key.rsplit("/", 1)[-1]
    try:
        raw = bytes.fromhex(name)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


class PackBuilder:
    """Accumulates sealed blobs in memory until the pack is big enough to store."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.entries: list[BlobRef] = []

    def add(self, kind: int, chunk_id: bytes, sealed: bytes, raw_len: int) -> None:
        self.entries.append(BlobRef(kind, chunk_id, len(self.buf), len(sealed), raw_len))
        self.buf += sealed

    def __len__(self) -> int:
        return len(self.buf)

    def finish(self, cipher: Cipher) -> tuple[bytes, bytes]:
        """Return ``(pack_id, pack_bytes)``."""
        header = b"".join(ENTRY.pack(e.kind, e.id, e.offset, e.length, e.raw_len) for e in self.entries)
        sealed = cipher.seal(header, _HEADER_AD)
        self.buf += sealed
        self.buf += _TRAILER.pack(len(sealed), MAGIC)
        data = self.buf  # handed over without a copy: the builder is done
        self.buf = bytearray()
        return blake3.blake3(data, max_threads=1).digest(), data  # type: ignore[return-value]


def parse_header(plain: bytes, what: str) -> list[BlobRef]:
    if len(plain) % ENTRY.size:
        raise VaultCorrupt(f"{what}: malformed header")
    return [BlobRef(*ENTRY.unpack_from(plain, i)) for i in range(0, len(plain), ENTRY.size)]


def read_header(store: BlobStore, cipher: Cipher, key: str) -> list[BlobRef]:
    """Read a pack's blob list from its trailer (two small range reads)."""
    size = store.size(key)
    if size < _TRAILER.size:
        raise VaultCorrupt(f"pack {key}: truncated")
    hlen, magic = _TRAILER.unpack(store.get_range(key, size - _TRAILER.size, _TRAILER.size))
    if magic != MAGIC or hlen > size - _TRAILER.size:
        raise VaultCorrupt(f"pack {key}: bad trailer")
    sealed = store.get_range(key, size - _TRAILER.size - hlen, hlen)
    return parse_header(cipher.open(sealed, _HEADER_AD, f"pack {key} header"), f"pack {key}")


def header_from_bytes(cipher: Cipher, key: str, data: bytes) -> list[BlobRef]:
    if len(data) < _TRAILER.size:
        raise VaultCorrupt(f"pack {key}: truncated")
    hlen, magic = _TRAILER.unpack_from(data, len(data) - _TRAILER.size)
    if magic != MAGIC or hlen > len(data) - _TRAILER.size:
        raise VaultCorrupt(f"pack {key}: bad trailer")
    end = len(data) - _TRAILER.size
    plain = cipher.open(memoryview(data)[end - hlen:end], _HEADER_AD, f"pack {key} header")
    return parse_header(plain, f"pack {key}")
