"""Chunk ids and authenticated encryption.

- A chunk id is keyed BLAKE3 (32 bytes) of the chunk's plaintext, keyed by the vault's id
  key: ids reveal nothing about content to anyone without the key.
- Every stored object (chunk blob, pack header, index, snapshot) is sealed with
  AES-256-GCM: ``nonce(12) || ciphertext || tag(16)``, nonce random per object. The
  associated data binds the object to its role (chunk blobs: their id; others: a label),
  so a blob cannot be swapped for another without detection.
- Chunk blob plaintext is ``codec(1) || payload``: codec 0 = raw, 1 = zstd frame.
  Compression is skipped when a sample shows it does not pay.
"""

from __future__ import annotations

import os
import threading
from typing import cast

import blake3
import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongbox.dataplane.errors import VaultCorrupt

NONCE = 12
TAG = 16
OVERHEAD = NONCE + TAG + 1
CODEC_RAW = 0
CODEC_ZSTD = 1
ZSTD_LEVEL = 3
_SAMPLE = 16 * 1024
_PAYS = 0.97  # compress only when it shrinks below this ratio

_local = threading.local()
_MULTI = hasattr(zstandard.ZstdCompressor, "multi_compress_to_buffer") and zstandard.backend == "cext"
_THREADS = max(1, os.cpu_count() or 1)


def _nonce() -> bytes:
    """12 fresh random bytes. Drawn from the OS in blocks per thread: one getrandom call
    per 4096 nonces instead of one per sealed object (each call also cost a GIL hand-off)."""
    try:
        return next(_local.nonces)  # type: ignore[no-any-return]
    except (AttributeError, StopIteration):
        block = os.urandom(NONCE * 4096)
        _local.nonces = nonces = iter([block[i:i + NONCE] for i in range(0, len(block), NONCE)])
        return next(nonces)


def _forget_nonces() -> None:
    """A forked child must never reuse its parent's unspent nonces."""
    global _local
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_nonces)


def _compressor() -> zstandard.ZstdCompressor:
    c = getattr(_local, "cctx", None)
    if c is None:
        c = _local.cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True)
    return c


def _decompressor() -> zstandard.ZstdDecompressor:
    d = getattr(_local, "dctx", None)
    if d is None:
        d = _local.dctx = zstandard.ZstdDecompressor()
    return d


def compress(data: bytes | memoryview) -> tuple[int, bytes | memoryview]:
    """Return ``(codec, payload)``: zstd when a sample says it pays and it really does."""
    n = len(data)
    if n > 8 * _SAMPLE:
        # Five samples across the chunk: one compressible part is enough to try.
        cctx = _compressor()
        for at in (0, n // 4, n // 2, 3 * n // 4, n - _SAMPLE):
            if len(cctx.compress(data[at:at + _SAMPLE])) < _PAYS * _SAMPLE:
                break
        else:
            return CODEC_RAW, data
    packed = _compressor().compress(data)
    if len(packed) < _PAYS * n:
        return CODEC_ZSTD, packed
    return CODEC_RAW, data


def compress_many(items: list[bytes]) -> list[tuple[int, bytes | memoryview]]:
    """``compress`` for many small inputs in one call: python-zstandard compresses them on
    every core with the GIL released once, not once per input (small files cost a GIL
    hand-off each otherwise). Falls back to one call each where the C backend is missing."""
    if len(items) > 1 and _MULTI:
        inputs = cast("list[bytes | bytearray | memoryview]", items)   # the stub's list is invariant
        frames = _compressor().multi_compress_to_buffer(inputs, threads=_THREADS)
        out: list[tuple[int, bytes | memoryview]] = []
        for i, data in enumerate(items):
            packed = frames[i].tobytes()
            out.append((CODEC_ZSTD, packed) if len(packed) < _PAYS * len(data) else (CODEC_RAW, data))
        return out
    return [compress(d) for d in items]


def decompress(codec: int, payload: bytes, raw_len: int) -> bytes:
    if codec == CODEC_RAW:
        return payload
    if codec == CODEC_ZSTD:
        return _decompressor().decompress(payload, max_output_size=raw_len)
    raise VaultCorrupt(f"unknown codec {codec}")


class Cipher:
    """The vault's working keys: one for AES-256-GCM, one for chunk ids."""

    def __init__(self, enc_key: bytes, id_key: bytes) -> None:
        self._aead = AESGCM(enc_key)
        self._id_key = id_key

    def chunk_id(self, data: bytes | memoryview) -> bytes:
        return blake3.blake3(data, key=self._id_key).digest()

    def seal(self, plaintext: bytes, ad: bytes) -> bytes:
        nonce = _nonce()
        return nonce + self._aead.encrypt(nonce, plaintext, ad)

    def seal_parts(self, plaintext: bytes, ad: bytes) -> tuple[bytes, bytes]:
        """``seal`` as ``(nonce, ciphertext || tag)``, not joined (a pack joins them on disk)."""
        nonce = _nonce()
        return nonce, self._aead.encrypt(nonce, plaintext, ad)

    def open(self, sealed: bytes | memoryview, ad: bytes, what: str) -> bytes:
        if len(sealed) < NONCE + TAG:
            raise VaultCorrupt(f"{what}: truncated")
        try:
            return self._aead.decrypt(bytes(sealed[:NONCE]), bytes(sealed[NONCE:]), ad)
        except InvalidTag:
            raise VaultCorrupt(f"{what}: authentication failed (corrupt or tampered)") from None

    def seal_chunk(self, chunk_id: bytes, data: bytes | memoryview) -> tuple[bytes, bytes]:
        """A chunk blob, as ``(nonce, ciphertext || tag)`` (see ``seal_parts``)."""
        codec, payload = compress(data)
        return self.seal_parts(bytes([codec]) + payload, chunk_id)

    def seal_chunks(self, chunks: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """``seal_chunk`` for many small ``(chunk id, data)`` at once (see ``compress_many``)."""
        packed = compress_many([data for _cid, data in chunks])
        return [self.seal_parts(bytes([codec]) + payload, cid)
                for (cid, _d), (codec, payload) in zip(chunks, packed)]

    def open_chunk(self, chunk_id: bytes, sealed: bytes | memoryview, raw_len: int) -> bytes:
        """Decrypt, decompress and verify a chunk blob against its id."""
        what = f"chunk {chunk_id.hex()[:16]}"
        plain = self.open(sealed, chunk_id, what)
        try:
            data = decompress(plain[0], plain[1:], raw_len)
        except zstandard.ZstdError as err:
            raise VaultCorrupt(f"{what}: cannot decompress: {err}") from None
        if len(data) != raw_len or self.chunk_id(data) != chunk_id:
            raise VaultCorrupt(f"{what}: content does not match its id")
        return data
