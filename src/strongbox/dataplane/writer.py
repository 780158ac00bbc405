"""Pack writer: sealed blobs -> packs -> store, then index checkpoints.

Order that makes an interrupted backup safe: a pack is stored (atomic put) before any
index file names it; index checkpoints are written every few packs and once at the end,
and only name packs already stored. Uploads (pack trailer, pack hash, put) and index
checkpoints run on two background threads, at most two uploads in flight, so memory stays
bounded (~3 packs). An upload or checkpoint failure is raised on a later call.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from strongbox.dataplane.context import PACK_TARGET, VaultContext
from strongbox.dataplane.index import write_index
from strongbox.dataplane.packs import BlobRef, PackBuilder, Sealed, pack_key
from strongbox.storage.base import put_parts

CHECKPOINT_PACKS = 4
UPLOADS = 2
CHECKPOINT_SECONDS = 30.0


class PackWriter:
    def __init__(self, ctx: VaultContext, pack_target: int = PACK_TARGET) -> None:
        self.ctx = ctx
        self.pack_target = pack_target
        self._builder = PackBuilder()
        self._uploader = ThreadPoolExecutor(UPLOADS, thread_name_prefix="sb-upload")
        self._inflight: list[Future[tuple[bytes, int, list[BlobRef]]]] = []
        self._stored: list[tuple[bytes, int, list[BlobRef]]] = []  # not yet in an index file
        # index checkpoints being written, with the packs each names
        self._checkpoints: list[tuple[Future[tuple[str, int]], list[tuple[bytes, int, list[BlobRef]]]]] = []
        self._last_checkpoint = time.monotonic()
        self.bytes_stored = 0
        self.index_files: list[str] = []
        self._lock = threading.RLock()

    def add(self, kind: int, chunk_id: bytes, sealed: Sealed, raw_len: int) -> None:
        with self._lock:   # file tasks on several threads add blobs
            self._builder.add(kind, chunk_id, sealed, raw_len)
            if len(self._builder) >= self.pack_target:
                self._seal_pack()

    def _seal_pack(self) -> None:
        if not self._builder.entries:
            return
        builder, self._builder = self._builder, PackBuilder()
        while len(self._inflight) >= UPLOADS:
            self._collect(self._inflight.pop(0))
        self._inflight.append(self._uploader.submit(self._upload, builder))
        self._maybe_checkpoint()

    def _upload(self, builder: PackBuilder) -> tuple[bytes, int, list[BlobRef]]:
        entries = builder.entries
        pid, parts = builder.finish(self.ctx.cipher)
        put_parts(self.ctx.store, pack_key(pid), parts)
        return pid, builder.size, entries

    def _collect(self, fut: Future[tuple[bytes, int, list[BlobRef]]]) -> None:
        pid, size, entries = fut.result()
        self.bytes_stored += size
        self._stored.append((pid, size, entries))
        self.ctx.index.add_pack(pid, size, entries, None)

    def _maybe_checkpoint(self) -> None:
        done = [f for f in self._inflight if f.done()]
        for f in done:
            self._inflight.remove(f)
            self._collect(f)
        self._collect_checkpoints(wait=False)
        if self._stored and (len(self._stored) >= CHECKPOINT_PACKS
                             or time.monotonic() - self._last_checkpoint > CHECKPOINT_SECONDS):
            # Written by an uploader thread: the thread adding blobs (it holds the lock)
            # never waits for an index write and its two fsyncs.
            stored, self._stored = self._stored, []
            self._checkpoints.append((self._uploader.submit(self._write_index, stored), stored))
            self._last_checkpoint = time.monotonic()

    def _write_index(self, stored: list[tuple[bytes, int, list[BlobRef]]]) -> tuple[str, int]:
        key = write_index(self.ctx.store, self.ctx.cipher, stored)
        return key, self.ctx.store.size(key) if hasattr(self.ctx.store, "size") else 0

    def _collect_checkpoints(self, wait: bool) -> None:
        while self._checkpoints and (wait or self._checkpoints[0][0].done()):
            fut, stored = self._checkpoints.pop(0)
            try:
                key, size = fut.result()
            except BaseException:
                self._stored = stored + self._stored   # the next checkpoint names them
                raise
            self._indexed(key, size, stored)

    def _indexed(self, key: str, size: int, stored: list[tuple[bytes, int, list[BlobRef]]]) -> None:
        for pid, _size, _e in stored:
            self.ctx.index.packs[pid].index_files.add(key)
        self.bytes_stored += size
        self.index_files.append(key)

    def checkpoint(self) -> None:
        """Write an index file naming every stored pack no index file names yet (waits)."""
        self._collect_checkpoints(wait=True)
        if not self._stored:
            return
        stored, self._stored = self._stored, []
        self._indexed(*self._write_index(stored), stored)
        self._last_checkpoint = time.monotonic()

    def flush(self) -> None:
        """Store the open pack, wait for every upload and write the final index checkpoint."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        self._seal_pack()
        while self._inflight:
            self._collect(self._inflight.pop(0))
        self.checkpoint()

    def abandon(self) -> None:
        """After a failure: index what was stored (best effort) and stop the uploader."""
        try:
            for f in self._inflight:
                try:
                    self._collect(f)
                except Exception:  # noqa: BLE001 - the original error is what matters
                    pass
            self._inflight = []
            for fut, stored in self._checkpoints:   # a failed checkpoint's packs go in the last one
                try:
                    self._indexed(*fut.result(), stored)
                except Exception:  # noqa: BLE001
                    self._stored.extend(stored)
            self._checkpoints = []
            self.checkpoint()
        except Exception:  # noqa: BLE001
            pass
        finally:
            self._uploader.shutdown(wait=True)

    def close(self) -> None:
        self._uploader.shutdown(wait=True)
