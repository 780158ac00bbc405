"""The open vault every operation works on: store, keys, index, chunker parameters.

Chunking parameters are part of the format (changing them only costs dedupe, never
correctness): FastCDC with min 256 KiB, average 1 MiB, max 4 MiB, and a per-vault gear
seed taken from the master secret so chunk boundaries do not fingerprint content.
Packs aim at 16 MiB.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from pyfastcdc import FastCDC

from strongbox.dataplane.crypto import Cipher
from strongbox.dataplane.errors import VaultCorrupt
from strongbox.dataplane.index import Index
from strongbox.dataplane.packs import pack_key
from strongbox.storage.base import BlobStore

CHUNK_MIN = 256 * 1024
CHUNK_AVG = 1024 * 1024
CHUNK_MAX = 4 * 1024 * 1024
PACK_TARGET = 16 * 1024 * 1024


@dataclass
class VaultContext:
    store: BlobStore
    cipher: Cipher
    index: Index
    chunker_seed: int
    vault_id: str
    _cdc: FastCDC | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def hostname(self) -> str:
        return socket.gethostname()

    def make_cdc(self) -> FastCDC:
        """The vault's chunker. Built once (its seeded gear tables cost ~0.1 ms): it holds only
        its parameters, and every ``cut_buf``/``cut_stream`` call has a cursor of its own, so
        threads share it."""
        if self._cdc is None:
            # pyfastcdc's avg_size excludes min_size (cut-point skipping): ask for avg - min.
            self._cdc = FastCDC(CHUNK_AVG - CHUNK_MIN, min_size=CHUNK_MIN, max_size=CHUNK_MAX,
                                normalized_chunking=1, seed=self.chunker_seed)
        return self._cdc

    def fetch_chunk(self, chunk_id: bytes) -> bytes:
        """Read one chunk (any kind), verified against its id."""
        loc = self.index.lookup(chunk_id)
        if loc is None:
            raise VaultCorrupt(f"chunk {chunk_id.hex()[:16]} is not in the index (missing pack?)")
        sealed = self.store.get_range(pack_key(loc.pack), loc.ref.offset, loc.ref.length)
        if len(sealed) != loc.ref.length:
            raise VaultCorrupt(f"pack {loc.pack.hex()[:16]} is truncated")
        return self.cipher.open_chunk(chunk_id, sealed, loc.ref.raw_len)
