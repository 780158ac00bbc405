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
Sealed = bytes | tuple[bytes, ...]   # a sealed blob, whole or as the parts it was sealed in


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
    """Collects sealed blobs in memory until the pack is big enough to store.

    Blobs are kept as the parts they were sealed in (nonce, ciphertext), never copied into
    one buffer: the pack is hashed part by part and written with ``put_parts``."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.entries: list[BlobRef] = []

    def add(self, kind: int, chunk_id: bytes, sealed: Sealed, raw_len: int) -> None:
        parts = (sealed,) if isinstance(sealed, bytes) else sealed
        length = sum(map(len, parts))
        self.entries.append(BlobRef(kind, chunk_id, self.size, length, raw_len))
        self.parts.extend(parts)
        self.size += length

    def __len__(self) -> int:
        return self.size

    def finish(self, cipher: Cipher) -> tuple[bytes, list[bytes]]:
        """Return ``(pack_id, pack parts)``; the pack is the parts joined (``size`` bytes)."""
        header = b"".join(ENTRY.pack(e.kind, e.id, e.offset, e.length, e.raw_len) for e in self.entries)
        sealed = cipher.seal(header, _HEADER_AD)
        parts, self.parts = self.parts, []
        parts += (sealed, _TRAILER.pack(len(sealed), MAGIC))
        self.size += len(sealed) + _TRAILER.size
        hasher = blake3.blake3(max_threads=1)
        for part in parts:
            hasher.update(part)
        return hasher.digest(), parts


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
