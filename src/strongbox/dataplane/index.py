"""The index: chunk id -> (pack, offset, length), kept in memory, stored as index files.

Index files ``index/<random hex>`` are sealed (associated data ``index``) zstd-compressed
binary: ``b"SBIX" u8 version`` then per pack ``id[32] u64le pack_size u32le count`` and
``count`` pack entries (see :mod:`packs`). Writers never modify an index file: each backup
writes its own files (checkpoints during the backup, a final one before the snapshot);
prune writes a consolidated file before deleting the ones it supersedes. The union of all
readable index files is the index. Loading tolerates an unreadable index file (it is
recorded as a problem) and heals the index from the trailer of every pack no index names,
so a lost or truncated index loses nothing.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field
from typing import Iterable

import zstandard

from strongbox.dataplane.crypto import Cipher
from strongbox.dataplane.errors import VaultCorrupt
from strongbox.dataplane.packs import ENTRY, BlobRef, pack_id_of_key, pack_key, read_header
from strongbox.storage.base import BlobStore, StorageError

_MAGIC = b"SBIX"
_VERSION = 1
_PACK = struct.Struct("<32sQI")
_AD = b"index"


@dataclass(slots=True)
class Location:
    pack: bytes
    ref: BlobRef


@dataclass
class PackInfo:
    size: int
    blobs: list[BlobRef]
    index_files: set[str] = field(default_factory=set)


def encode(packs: Iterable[tuple[bytes, int, list[BlobRef]]]) -> bytes:
    out = bytearray(_MAGIC + bytes([_VERSION]))
    for pid, size, blobs in packs:
        out += _PACK.pack(pid, size, len(blobs))
        for b in blobs:
            out += ENTRY.pack(b.kind, b.id, b.offset, b.length, b.raw_len)
    return zstandard.ZstdCompressor(level=3).compress(bytes(out))


def decode(raw: bytes, what: str) -> list[tuple[bytes, int, list[BlobRef]]]:
    try:
        data = zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 31)
    except zstandard.ZstdError as err:
        raise VaultCorrupt(f"{what}: {err}") from None
    if data[:4] != _MAGIC or len(data) < 5 or data[4] != _VERSION:
        raise VaultCorrupt(f"{what}: not an index (or unsupported version)")
    pos, result = 5, []
    try:
        while pos < len(data):
            pid, size, count = _PACK.unpack_from(data, pos)
            pos += _PACK.size
            blobs = [BlobRef(*ENTRY.unpack_from(data, pos + i * ENTRY.size)) for i in range(count)]
            pos += count * ENTRY.size
            result.append((pid, size, blobs))
    except struct.error:
        raise VaultCorrupt(f"{what}: truncated") from None
    return result


class Index:
    def __init__(self) -> None:
        self.chunks: dict[bytes, Location] = {}
        self.packs: dict[bytes, PackInfo] = {}
        self.files: set[str] = set()
        self.problems: list[tuple[str, str]] = []  # (object key, message)

    def add_pack(self, pid: bytes, size: int, blobs: list[BlobRef], index_file: str | None) -> None:
        info = self.packs.get(pid)
        if info is None:
            info = self.packs[pid] = PackInfo(size, blobs)
            for b in blobs:
                self.chunks.setdefault(b.id, Location(pid, b))
        if index_file:
            info.index_files.add(index_file)

    def __contains__(self, chunk_id: bytes) -> bool:
        return chunk_id in self.chunks

    def lookup(self, chunk_id: bytes) -> Location | None:
        return self.chunks.get(chunk_id)

    @classmethod
    def load(cls, store: BlobStore, cipher: Cipher, *, heal: bool = True) -> "Index":
        idx = cls()
        for key in store.list("index/"):
            try:
                plain = cipher.open(store.get(key), _AD, key)
                for pid, size, blobs in decode(plain, key):
                    idx.add_pack(pid, size, blobs, key)
                idx.files.add(key)
            except (VaultCorrupt, StorageError) as err:
                idx.problems.append((key, err.message))
        if heal:
            for key in store.list("data/"):
                maybe = pack_id_of_key(key)
                if maybe is None or maybe in idx.packs:
                    continue
                pid = maybe
                try:
                    idx.add_pack(pid, store.size(key), read_header(store, cipher, key), None)
                except (VaultCorrupt, StorageError) as err:
                    idx.problems.append((key, f"pack not in any index and unreadable: {err.message}"))
        return idx


def write_index(store: BlobStore, cipher: Cipher, packs: list[tuple[bytes, int, list[BlobRef]]]) -> str:
    key = f"index/{secrets.token_hex(32)}"
    store.put(key, cipher.seal(encode(packs), _AD))
    return key


__all__ = ["Index", "Location", "PackInfo", "pack_key", "write_index"]
