"""Backup: walk -> read -> chunk -> id -> dedupe -> compress -> encrypt -> pack -> store.

Threads: the calling thread walks, looks files up in the files cache, and hands small files
(one chunk or less) in batches to a batch thread that reads, ids and seals them (one zstd call
per batch on every core); every larger file is a *file task* on a small reader pool that
reads and cuts it (a large file is streamed, never read whole; see ``read_chunks``), sending
its chunks to the chunk workers in a short in-order window, so
several files are read at once and one huge file still keeps every core busy. The chunk
workers id, dedupe, compress and seal each chunk (BLAKE3, zstd and AES-GCM release the GIL);
two uploader threads store packs and index checkpoints. Results are consumed in walk order
through a FIFO of finished or running tasks, which keeps the tree in walk order; every task
stores its chunks before it finishes, so memory is bounded by the running tasks, not the FIFO.
An all-zero chunk is a hole (not stored).
Order of writes: packs, index checkpoints, tree chunks, final index, snapshot last; the
files cache is committed only after the snapshot exists.
"""

from __future__ import annotations

import os
import stat
import threading
import time as _time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from pyfastcdc import FastCDC

from strongbox.dataplane import filescache, snapshots
from strongbox.dataplane.context import CHUNK_MIN, VaultContext
from strongbox.dataplane.locks import Lock
from strongbox.dataplane.packs import KIND_DATA, KIND_TREE, Sealed
from strongbox.dataplane.progress import CancelToken, ProgressCallback, ProgressMeter
from strongbox.dataplane.results import BackupResult, FileWarning
from strongbox.dataplane.scanner import Entry, name_roots, prescan, walk
from strongbox.dataplane.tree import Node, TreeWriter, encode_node

_READERS = 2  # file tasks reading at once
_BATCHERS = 1  # small-file batches read at once: they are bound by the GIL, a second
               # thread only adds hand-offs (its zstd calls use every core anyway)
_DEPTH = 256   # tasks queued ahead of the oldest unfinished one
_WHOLE = 8 * 1024 * 1024   # files up to this size are read in one piece (see read_chunks)
_WINDOW = 6   # chunks of one file task in flight on the chunk workers
_BATCH_FILES = 64  # one-chunk files go to the workers in batches: less per-file overhead
_BATCH_BYTES = 4 * 1024 * 1024
_Result = tuple[bytes | None, int, Sealed | None]
_NEW = b"new"   # marks a chunk this run claimed and must seal
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass
class _FileState:
    node: Node
    abs_path: str
    st: os.stat_result
    content: list[list[Any]] = field(default_factory=list)
    failed: bool = False
    changed: bool = False
    read: int = 0   # bytes read by its file task
    new: int = 0    # bytes of chunks new to the vault, stored by its file task
    lines: tuple[bytes, bytes | None] | None = None   # its tree and files-cache lines, once encoded


def _read_upto(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``fd``, fewer only at end of file."""
    parts = []
    got = 0
    while got < limit:
        part = os.read(fd, limit - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_chunks(cdc: FastCDC, fd: int, size: int) -> Iterator[bytes | memoryview]:
    """The chunks of the file open at ``fd`` (from its start), in order.

    ``size`` is the size the walk saw. A file of at most _WHOLE bytes is read in one piece
    and its chunks are views of it: no copy per chunk, and none of the 8 MiB buffer that
    FastCDC's stream reader allocates and zeroes for every file, then moves bytes around in,
    all with the GIL held. A larger file, or one that has grown past ``size`` since, streams
    through ``cut_stream``, each chunk copied out of its reused buffer (fresh blocks for
    large files measured slower: every one is new memory to fault in). Both find the same
    cuts: ``cut_buf`` over a whole file looks at what ``cut_stream`` looks at."""
    if size <= _WHOLE:
        data = _read_upto(fd, size + 1)
        if len(data) <= size:
            if data:
                yield from (c.data for c in cdc.cut_buf(data))
            return
        os.lseek(fd, 0, os.SEEK_SET)   # it grew since the walk
    with open(fd, "rb", buffering=0, closefd=False) as f:
        for c in cdc.cut_stream(f):
            yield bytes(c.data)


class BackupRun:
    def __init__(self, ctx: VaultContext, paths: Sequence[Path], *, meta: Mapping[str, str] | None,
                 progress: ProgressCallback | None, cancel: CancelToken | None, time: datetime | None,
                 cache_dir: Path | None) -> None:
        self.ctx = ctx
        self.roots = name_roots(paths)
        self.meta = dict(meta or {})
        self.progress_cb = progress
        self.cancel = cancel or CancelToken()
        self.time = time or datetime.now(timezone.utc)
        self.cache_dir = cache_dir
        self.workers = max(2, os.cpu_count() or 2)
        # file tasks and small-file batches queued before the walk waits for the oldest. A
        # queued task holds only metadata (a running file task holds up to _WINDOW + 1 chunks,
        # a running batch up to 4 MiB; both store their chunks before they finish), so the
        # walk can run far ahead: then large files further on are read and compressed (GIL
        # released) while the small-file batches, which mostly wait for the GIL, run.
        self.depth = _DEPTH
        self.warnings: list[FileWarning] = []
        self._claimed: set[bytes] = set()
        self._claim_lock = threading.Lock()
        self._fifo: deque[tuple[str, Any, Any]] = deque()
        self._pending = 0
        self.files = self.dirs = 0
        self.bytes_total = self.bytes_read = self.bytes_new = 0
        self._inodes: dict[tuple[int, int], str] = {}
        self._batch: list[_FileState] = []
        self._batch_bytes = 0
        self.cancel_tasks = CancelToken()   # set when the run fails: file tasks give up

    # -- worker side -------------------------------------------------------------------
    def _process(self, data: bytes | memoryview) -> _Result:
        cid, n, new = self._identify(data)
        if new is _NEW and cid is not None:
            return cid, n, self.ctx.cipher.seal_chunk(cid, data)
        return cid, n, None

    def _identify(self, data: bytes | memoryview) -> _Result:
        """``(id, length, _NEW)`` for a chunk this run must store, ``(id, length, None)`` for
        one already stored or claimed, ``(None, length, None)`` for a hole."""
        n = len(data)
        if data[0] == 0 and data[-1] == 0 and data == bytes(n):
            return None, n, None
        cid = self.ctx.cipher.chunk_id(data)
        return cid, n, (_NEW if self._claim(cid) else None)

    def _claim(self, cid: bytes) -> bool:
        with self._claim_lock:
            if cid in self.ctx.index.chunks or cid in self._claimed:
                return False
            self._claimed.add(cid)
            return True

    # -- calling thread ----------------------------------------------------------------
    def run(self) -> BackupResult:
        started = _time.monotonic()
        # The pre-scan costs a second walk: only pay for it when someone watches progress.
        bytes_total, files_total = prescan(self.roots) if self.progress_cb else (0, 0)
        self.meter = ProgressMeter("backup", self.progress_cb, bytes_total, files_total)
        sources = [ap for _n, ap in self.roots]
        cpath = filescache.cache_path(self.cache_dir, self.ctx.vault_id, sources) if self.cache_dir else None
        self.cache_in = filescache.FilesCacheReader(cpath)
        self.cache_out = filescache.FilesCacheWriter(cpath)
        from strongbox.dataplane.writer import PackWriter
        self.packs = PackWriter(self.ctx)
        self.tree = TreeWriter(self.ctx.make_cdc(), self._tree_sink)
        lock = Lock(self.ctx.store, exclusive=False).acquire()
        self.lock = lock
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sb-backup")
        self.pool = pool
        readers = ThreadPoolExecutor(_READERS, thread_name_prefix="sb-read")
        self.readers = readers
        batchers = ThreadPoolExecutor(_BATCHERS, thread_name_prefix="sb-small")
        self.batchers = batchers
        try:
            for name, ap in sorted(self.roots, key=lambda r: r[1].split("/")):
                for entry in walk(name, ap, self._warn):
                    self.cancel.raise_if_cancelled()
                    self._entry(entry)
            if self._batch:
                self._flush_batch()
            self._drain(0)
            # The last report comes before the commit: a paced caller may sleep in it, and a
            # cancel that arrives meanwhile must still win (after the commit it no longer could).
            self.meter.finish()
            tree_ids = self.tree.close()
            self.packs.flush()
            self.cancel.raise_if_cancelled()   # the last moment a cancel can still win
            info = snapshots.SnapshotInfo(snapshots.new_id(), self.time, dict(self.roots), self.meta,
                                          self.files, self.bytes_total, self.dirs, tree_ids)
            snapshots.save(self.ctx.store, self.ctx.cipher, info, self.ctx.hostname)
            self.cache_out.commit()
        except BaseException:
            self.cancel_tasks.cancel()   # file tasks stop at their next chunk
            readers.shutdown(wait=True, cancel_futures=True)
            batchers.shutdown(wait=True, cancel_futures=True)
            pool.shutdown(wait=True, cancel_futures=True)
            self.packs.abandon()
            self.cache_out.abort()
            raise
        finally:
            readers.shutdown(wait=True)
            batchers.shutdown(wait=True)
            pool.shutdown(wait=True)
            self.packs.close()
            self.cache_in.close()
            lock.release()
        return BackupResult(info.id, self.time, self.files, self.dirs, self.bytes_total, self.bytes_read,
                            self.bytes_new, self.packs.bytes_stored, self.warnings,
                            _time.monotonic() - started)

    def _warn(self, path: str, reason: str) -> None:
        self.warnings.append(FileWarning(path, reason))

    def _tree_sink(self, data: bytes) -> str:
        cid = self.ctx.cipher.chunk_id(data)
        if self._claim(cid):
            self.packs.add(KIND_TREE, cid, self.ctx.cipher.seal_chunk(cid, data), len(data))
        return cid.hex()

    def _entry(self, e: Entry) -> None:
        st = e.st
        node: Node = {"p": e.tree_path, "m": stat.S_IMODE(st.st_mode), "u": st.st_uid, "g": st.st_gid,
                      "mt": st.st_mtime_ns}
        if stat.S_ISDIR(st.st_mode):
            node["t"] = "d"
            self.dirs += 1
            self._push(("n", node, None))
        elif stat.S_ISLNK(st.st_mode):
            try:
                node["l"] = os.readlink(e.abs_path)
            except OSError as err:
                self._warn(e.abs_path, err.strerror or str(err))
                return
            node["t"] = "l"
            self._push(("n", node, None))
        elif stat.S_ISREG(st.st_mode):
            node["t"] = "f"
            if st.st_nlink > 1:
                first = self._inodes.setdefault((st.st_dev, st.st_ino), e.tree_path)
                if first != e.tree_path:
                    node["hl"] = first
            self._file(e, node)
        else:
            self._warn(e.abs_path, "unsupported file type (device, fifo or socket): skipped")
        self._drain(self.depth)
        self.lock.refresh()

    def _file(self, e: Entry, node: Node) -> None:
        st = e.st
        cached = self.cache_in.lookup(e.abs_path, st.st_size, st.st_mtime_ns, st.st_ino)
        if cached is not None and all(c[0] is None or bytes.fromhex(c[0]) in self.ctx.index.chunks
                                      for c in cached):
            state = _FileState(node, e.abs_path, st, cached)
            self._push(("f", state, None))
            self.meter.add(st.st_size, 0, e.tree_path)
            return
        state = _FileState(node, e.abs_path, st)
        if st.st_size > CHUNK_MIN:
            self._push(("F", self.readers.submit(self._read_file, state), state))
            self._pending += 1
            return
        self._batch.append(state)
        self._batch_bytes += st.st_size
        if len(self._batch) >= _BATCH_FILES or self._batch_bytes >= _BATCH_BYTES:
            self._flush_batch()

    # -- small-file batches (chunk workers) --------------------------------------------------
    def _read_batch(self, batch: list[_FileState]) -> None:
        """Read and store files of at most one chunk, many per task: less per-file overhead,
        and the walking thread never waits on their reads. The batch's new chunks are
        compressed together (``Cipher.seal_chunks``): one GIL hand-off, not one per file."""
        read: list[tuple[_FileState, bytes]] = []
        for state in batch:
            self.cancel_tasks.raise_if_cancelled()
            data = self._read_small(state)
            if data:
                read.append((state, data))
        results: list[_Result] = []
        fresh: list[tuple[bytes, bytes]] = []
        where: list[int] = []
        for _state, data in read:
            res = self._identify(data)
            if res[2] is _NEW and res[0] is not None:
                where.append(len(results))
                fresh.append((res[0], data))
            results.append(res)
        for i, sealed in zip(where, self.ctx.cipher.seal_chunks(fresh)):
            cid, n, _new = results[i]
            results[i] = (cid, n, sealed)
        for (state, _data), res in zip(read, results):
            self._stored(res, state)
        for state in batch:
            if not state.failed:
                self._encode(state)

    def _read_small(self, state: _FileState) -> bytes:
        """A small file's bytes (b"" when empty or unreadable). One that grew past a chunk
        since the walk is cut and stored here after all."""
        try:
            fd = os.open(state.abs_path, _OPEN_FLAGS)
        except OSError as err:
            self._warn(state.abs_path, f"cannot read: {err.strerror or err}")
            state.failed = True
            return b""
        try:
            data = os.read(fd, CHUNK_MIN + 1)   # os calls, not a file object: fewer GIL releases
            if len(data) > CHUNK_MIN:
                data = b""
                os.lseek(fd, 0, os.SEEK_SET)
                for chunk in read_chunks(self.ctx.make_cdc(), fd, state.st.st_size):
                    self.cancel_tasks.raise_if_cancelled()
                    state.read += len(chunk)
                    self._stored(self._process(chunk), state)
            else:
                state.read += len(data)
            after = os.fstat(fd)
        except OSError as err:
            self._warn(state.abs_path, f"read error: {err.strerror or err}")
            state.failed = True
            return b""
        finally:
            os.close(fd)
        if after.st_size != state.st.st_size or after.st_mtime_ns != state.st.st_mtime_ns:
            state.changed = True
            self._warn(state.abs_path, "file changed while it was read (stored as read)")
        return data

    # -- file tasks (reader pool) ----------------------------------------------------------
    def _read_file(self, state: _FileState) -> _FileState:
        """Read, cut and store one file; its chunks keep file order (``_WINDOW`` in flight)."""
        try:
            fd = os.open(state.abs_path, _OPEN_FLAGS)
        except OSError as err:
            self._warn(state.abs_path, f"cannot read: {err.strerror or err}")
            state.failed = True
            return state
        window: deque[Future[_Result]] = deque()
        try:
            try:
                for data in read_chunks(self.ctx.make_cdc(), fd, state.st.st_size):
                    self.cancel.raise_if_cancelled()
                    self.cancel_tasks.raise_if_cancelled()
                    state.read += len(data)
                    window.append(self.pool.submit(self._process, data))
                    if len(window) > _WINDOW:
                        self._stored(window.popleft().result(), state)
                while window:
                    self._stored(window.popleft().result(), state)
            except OSError as err:
                self._warn(state.abs_path, f"read error: {err.strerror or err}")
                state.failed = True
            after = os.fstat(fd)
        finally:
            os.close(fd)
            for fut in window:
                fut.cancel()
        if not state.failed and (after.st_size != state.st.st_size or after.st_mtime_ns != state.st.st_mtime_ns):
            state.changed = True
            self._warn(state.abs_path, "file changed while it was read (stored as read)")
        if not state.failed:
            self._encode(state)
        return state

    def _stored(self, res: _Result, state: _FileState) -> None:
        cid, n, sealed = res
        if sealed is not None and cid is not None:
            self.packs.add(KIND_DATA, cid, sealed, n)
            state.new += n
        state.content.append([cid.hex() if cid else None, n])
        self.meter.add(n, 0, state.node["p"])

    # -- calling thread again ------------------------------------------------------------------
    def _push(self, item: tuple[str, Any, Any]) -> None:
        """Append to the FIFO after any pending small files, so the tree keeps walk order."""
        if self._batch:
            self._flush_batch()
        self._fifo.append(item)

    def _flush_batch(self) -> None:
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        self._fifo.append(("b", self.batchers.submit(self._read_batch, batch), batch))
        self._pending += 1

    def _drain(self, limit: int) -> None:
        """Consume FIFO items in order until at most ``limit`` tasks are pending."""
        while self._fifo and (self._pending > limit or self._fifo[0][0] not in ("F", "b") or limit == 0):
            self.cancel.raise_if_cancelled()   # between files and batches, also once walking is done
            kind, a, b = self._fifo.popleft()
            if kind == "n":
                self.tree.add(a)
            elif kind == "F":
                self._pending -= 1
                state = a.result()
                self.bytes_read += state.read
                self.bytes_new += state.new
                self._finish_file(state)
            elif kind == "b":
                self._pending -= 1
                a.result()
                for state in b:
                    self.bytes_read += state.read
                    self.bytes_new += state.new
                    self._finish_file(state)
            else:
                self._finish_file(a)

    def _encode(self, s: _FileState) -> tuple[bytes, bytes | None]:
        """Complete a read file's node and encode its tree and files-cache lines. Chunk
        workers and readers call it, so the walking thread only appends bytes."""
        s.node["s"] = sum(c[1] for c in s.content)
        s.node["c"] = s.content
        cache_line = None if s.changed else filescache.encode_line(
            s.abs_path, s.st.st_size, s.st.st_mtime_ns, s.st.st_ino, s.content)
        s.lines = (encode_node(s.node), cache_line)
        return s.lines

    def _finish_file(self, s: _FileState) -> None:
        if s.failed:
            return
        tree_line, cache_line = s.lines or self._encode(s)
        self.tree.add_line(tree_line)
        self.files += 1
        self.bytes_total += s.node["s"]
        self.meter.add(0, 1)
        if cache_line is not None:
            self.cache_out.add_line(cache_line)
