"""Restore: tree -> plan -> parallel pack reads -> verify -> pwrite -> metadata -> rename.

Invariants:
- Nothing is written outside the destination. Every name from the recovery point is
  checked before use: tree paths and hard-link targets (no absolute paths, no empty, ``.``
  or ``..`` parts, no NUL) and root names (one safe component). Every file operation is
  relative to a folder fd (:mod:`dirfds`) opened with ``O_DIRECTORY|O_NOFOLLOW`` from the
  destination down, and never follows a final symlink (``O_NOFOLLOW``, ``follow_symlinks=
  False``, ``rename``/``link`` at fds): a symlink in the target, there before or swapped
  in during the restore, makes the operation fail and that entry is refused, never
  followed. A symlink whose target may resolve outside its root (absolute, more ``..``
  than its depth, or a ``..`` after a name) is refused unless allowed. Refused entries are
  skipped, the rest is restored, then :class:`PathEscape` names them.
- Nothing is overwritten in place: a file whose name is free is created there exclusively
  (``O_CREAT|O_EXCL|O_NOFOLLOW``: an entry that appears meanwhile, a symlink included, is
  never written through); where something already exists, the file is written under a
  fresh temp name and renamed over it only when complete and verified. Symlinks always go
  through a temp name. (Creating in place halves the directory work of a restore into a
  new folder: on ext4 each create or rename costs hundreds of microseconds after mass deletes.)
- Every chunk is decrypted, authenticated and checked against its id before it is written.
  A file touched by a bad or missing chunk is not restored (its temp file is removed); all
  other files still are; then :class:`VaultCorrupt` names the files that failed.
- Files are restored in batches: open temp files (sparse, sized with ftruncate), group
  their chunks by pack, read each pack in a few large ranges on a thread pool, pwrite every
  chunk to each place it occurs, then set mode/owner/mtime and rename. Holes are never
  written. Folder metadata is applied last, deepest first.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from strongbox.dataplane.context import VaultContext
from strongbox.dataplane.dirfds import Blocked, DirFds, blocked_reason
from strongbox.dataplane.errors import PathEscape, SnapshotNotFound, VaultCorrupt
from strongbox.dataplane.packs import BlobRef, pack_key
from strongbox.dataplane.progress import CancelToken, ProgressCallback, ProgressMeter
from strongbox.dataplane.results import RestoreResult
from strongbox.dataplane.snapshots import SnapshotInfo
from strongbox.dataplane.tree import Node, node_problem, read_tree, valid_name, valid_path
from strongbox.storage.base import StorageError

BATCH_FILES = 256
BATCH_BYTES = 512 * 1024 * 1024
RANGE_GAP = 1024 * 1024
RANGE_MAX = 16 * 1024 * 1024
THREADS = 4
SHOWN = 10   # refused entries named in the error; all are counted
_IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class _File:
    root: str
    comps: tuple[str, ...]
    node: Node
    tmp: str
    name: str
    pfd: int  # our own dup of the parent folder's fd, closed when the file is done
    fd: int = -1
    error: str | None = None    # the vault's fault: bad or missing data
    refused: str | None = None  # the target's: its folder is a symlink, gone, ...
    done: bool = False
    direct: bool = False  # created at its final name (it was free): no rename needed


def _tmp_name(name: str) -> str:
    return f".{name[:100]}.sbtmp-{secrets.token_hex(6)}"


def _unlink_quietly(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


def symlink_escapes(comps: tuple[str, ...], target: str) -> bool:
    """True unless the link provably resolves inside its root: not absolute, no more leading
    ``..`` than folders above it, and no ``..`` after a name (``x/..`` resolves through ``x``,
    which may itself be a link). Links are only ever created in real folders (never through
    a symlink), so by induction a chain of accepted links stays inside the root too."""
    if target.startswith("/"):
        return True
    depth = len(comps) - 1  # folders below the root that contain the link
    named = False
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if named or depth < 0:
                return True
        elif part not in ("", "."):
            named = True
    return False


class RestoreRun:
    def __init__(self, ctx: VaultContext, info: SnapshotInfo, target: Path | None, *,
                 include: Sequence[str], roots: Mapping[str, Path] | None,
                 progress: ProgressCallback | None, cancel: CancelToken | None,
                 allow_external_symlinks: bool) -> None:
        self.ctx = ctx
        self.info = info
        self.cancel = cancel or CancelToken()
        self.allow_external = allow_external_symlinks
        self.include = [i.strip("/") for i in include]
        self._lock = threading.Lock()
        self.refused: list[str] = []   # the first SHOWN reasons
        self.n_refused = 0
        bases: dict[str, tuple[str, str]] = {}
        if roots:
            for name, dest in roots.items():
                if name not in info.roots:
                    raise SnapshotNotFound(f"recovery point {info.id[:12]} has no root named {name!r}")
                d = os.path.abspath(os.fspath(dest))
                bases[name] = (os.path.dirname(d), os.path.basename(d))
        else:
            if target is None:
                raise PathEscape("restore needs a target folder or a roots mapping")
            t = os.path.abspath(os.fspath(target))
            os.makedirs(t, exist_ok=True)
            bases = {name: (t, name) for name in info.roots}
        for name in list(bases):
            if not valid_name(name):   # a crafted root name like "..", "a/b" or "/etc"
                del bases[name]
                self._refuse(repr(name), "root name is not a safe folder name; nothing under it was restored")
        for parent, _n in bases.values():
            os.makedirs(parent, exist_ok=True)
        self.bases = bases
        self.dirs = DirFds(bases)
        self.meter = ProgressMeter("restore", progress, info.bytes_total, info.files)
        self.batch: list[_File] = []
        self.batch_bytes = 0
        self.dir_meta: list[tuple[str, tuple[str, ...], Node]] = []
        self.links: list[tuple[str, tuple[str, ...], Node]] = []
        self.failed: dict[str, str] = {}
        self.files = self.ndirs = self.bytes_written = 0
        self._batcher = ThreadPoolExecutor(1, thread_name_prefix="sb-restore-batch")
        self._bg: Future[None] | None = None

    def selected(self, path: str) -> bool:
        if path.split("/", 1)[0] not in self.bases:
            return False
        if not self.include:
            return True
        return any(path == i or path.startswith(i + "/") or i.startswith(path + "/") for i in self.include)

    def run(self) -> RestoreResult:
        started = time.monotonic()
        pool = ThreadPoolExecutor(THREADS, thread_name_prefix="sb-restore")
        try:
            for node in read_tree(self.info.tree, self.ctx.fetch_chunk):
                self.cancel.raise_if_cancelled()
                self._node(node, pool)
            self._flush(pool)
            self._wait_background()
            self._link_all()
            self._apply_dir_meta()
        finally:
            for f in self.batch:
                os.close(f.pfd)
            self._batcher.shutdown(wait=True, cancel_futures=True)
            pool.shutdown(wait=True, cancel_futures=True)
            self.dirs.close()
        self.meter.finish()
        if self.failed:
            shown = "; ".join(f"{p}: {r}" for p, r in list(self.failed.items())[:SHOWN])
            also = f"; also {self._refused_summary()}" if self.n_refused else ""
            raise VaultCorrupt(f"{len(self.failed)} file(s) could not be restored (other files were): "
                               f"{shown}{also}")
        if self.n_refused:
            raise PathEscape(self._refused_summary())
        paths = [os.path.join(*self.bases[r]) for r in self.bases]
        return RestoreResult(self.files, self.ndirs, self.bytes_written, time.monotonic() - started, paths)

    # -- refusals -----------------------------------------------------------------------
    def _refuse(self, path: str, reason: str) -> None:
        with self._lock:   # the batch thread refuses too
            self.n_refused += 1
            if len(self.refused) < SHOWN:
                self.refused.append(f"{path}: {reason}")

    def _refused_summary(self) -> str:
        n = self.n_refused
        return (f"{n} entr{'y' if n == 1 else 'ies'} refused and not restored (nothing was written outside "
                f"the target): " + "; ".join(self.refused) + ("; ..." if n > len(self.refused) else ""))

    def _refuse_or_raise(self, path: str, err: Exception) -> None:
        """Refuse ``path`` when ``err`` says the target is in the way; re-raise real I/O errors."""
        if isinstance(err, Blocked):
            self._refuse(path, err.reason)
            return
        reason = blocked_reason(err, path) if isinstance(err, OSError) else None
        if reason is None:
            raise err
        self._refuse(path, reason)

    # -- per node ----------------------------------------------------------------------
    def _node(self, node: Node, pool: ThreadPoolExecutor) -> None:
        path = node.get("p")
        if not isinstance(path, str) or not valid_path(path):
            self._refuse(repr(path), "not a safe relative path")
            return
        if not self.selected(path):
            return
        problem = node_problem(node)
        if problem is not None:
            self.failed[path] = f"malformed entry in the recovery point: {problem}"
            return
        root, *rest = path.split("/")
        comps = tuple(rest)
        kind = node["t"]
        if kind == "d":
            self._mkdir(path, root, comps, node)
        elif kind == "l":
            if not self.allow_external and symlink_escapes(comps, node["l"]):
                self._refuse(path, f"symlink points outside the restore root ({node['l']})")
                return
            self._symlink(path, root, comps, node)
        else:
            first = node.get("hl")
            if first is not None:
                if not isinstance(first, str) or not valid_path(first):
                    self._refuse(path, f"hard link to {first!r}, not a safe relative path")
                    return
                if self.selected(first) and first.split("/", 1)[0] == root:
                    self.links.append((root, comps, node))
                    return
            self._add_file(path, root, comps, node, pool)

    def _mkdir(self, path: str, root: str, comps: tuple[str, ...], node: Node) -> None:
        try:
            pfd, name = self.dirs.locate(root, comps)
            try:
                os.mkdir(name, 0o700, dir_fd=pfd)
            except FileExistsError:
                st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):   # a file or symlink in its place: replaced, not followed
                    os.unlink(name, dir_fd=pfd)
                    os.mkdir(name, 0o700, dir_fd=pfd)
        except (Blocked, OSError) as err:
            self._refuse_or_raise(path, err)
            return
        self.dir_meta.append((root, comps, node))
        self.ndirs += 1

    def _symlink(self, path: str, root: str, comps: tuple[str, ...], node: Node) -> None:
        try:
            pfd, name = self.dirs.locate(root, comps)
            tmp = _tmp_name(name)
            os.symlink(node["l"], tmp, dir_fd=pfd)
            try:
                if _IS_ROOT:
                    os.chown(tmp, node["u"], node["g"], dir_fd=pfd, follow_symlinks=False)
                os.utime(tmp, ns=(node["mt"], node["mt"]), dir_fd=pfd, follow_symlinks=False)
                os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
            except OSError:
                _unlink_quietly(tmp, pfd)
                raise
        except (Blocked, OSError) as err:
            self._refuse_or_raise(path, err)
            return
        self.files += 1

    def _add_file(self, path: str, root: str, comps: tuple[str, ...], node: Node,
                  pool: ThreadPoolExecutor) -> None:
        try:
            pfd, name = self.dirs.locate(root, comps)
        except Blocked as err:
            self._refuse(path, err.reason)
            return
        self.batch.append(_File(root, comps, node, _tmp_name(name), name, os.dup(pfd)))
        self.batch_bytes += int(node.get("s", 0))
        if len(self.batch) >= BATCH_FILES or self.batch_bytes >= BATCH_BYTES:
            self._flush(pool)

    @staticmethod
    def _create(f: _File) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            f.fd = os.open(f.name, flags, 0o600, dir_fd=f.pfd)
            f.direct = True
        except FileExistsError:
            f.fd = os.open(f.tmp, flags, 0o600, dir_fd=f.pfd)
        if any(c[0] is None for c in f.node.get("c", ())):
            os.ftruncate(f.fd, int(f.node.get("s", 0)))  # sized up front: holes stay holes

    # -- batches -----------------------------------------------------------------------
    def _flush(self, pool: ThreadPoolExecutor) -> None:
        if not self.batch:
            return
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        try:
            # Files are created here while the previous batch is read and finished in the
            # background: two stages overlap, and only two threads ever create/rename.
            for f in batch:
                try:
                    self._create(f)
                except OSError as err:   # its folder was removed or swapped meanwhile
                    reason = blocked_reason(err, "/".join((f.root,) + f.comps))
                    if reason is None:
                        raise
                    f.refused = reason
            self._wait_background()
        except BaseException:
            self._close(batch)
            raise
        self._bg = self._batcher.submit(self._run_batch, batch, pool)

    def _wait_background(self) -> None:
        if self._bg is not None:
            bg, self._bg = self._bg, None
            bg.result()

    @staticmethod
    def _close(batch: list[_File]) -> None:
        for f in batch:
            if f.fd >= 0:
                os.close(f.fd)
                f.fd = -1
            os.close(f.pfd)

    def _run_batch(self, batch: list[_File], pool: ThreadPoolExecutor) -> None:
        try:
            self._read_and_finish(batch, pool)
        finally:
            self._close(batch)

    def _read_and_finish(self, batch: list[_File], pool: ThreadPoolExecutor) -> None:
        plan: dict[bytes, dict[bytes, tuple[BlobRef, list[tuple[int, int]]]]] = {}
        for fi, f in enumerate(batch):
            if f.refused is not None:
                continue
            off = 0
            for cid_hex, n in f.node.get("c", []):
                if cid_hex is not None:
                    try:
                        cid = bytes.fromhex(cid_hex)
                    except ValueError:
                        f.error = f"malformed chunk id {cid_hex[:16]!r} in the recovery point"
                        break
                    loc = self.ctx.index.lookup(cid)
                    if loc is None:
                        f.error = f"chunk {cid_hex[:16]} is missing from the vault"
                    else:
                        plan.setdefault(loc.pack, {}).setdefault(cid, (loc.ref, []))[1].append((fi, off))
                off += n
        for _ in pool.map(lambda item: self._read_pack(item[0], item[1], batch), plan.items()):
            pass
        for f in batch:
            self._finish_file(f)
        for f in batch:
            path = "/".join((f.root,) + f.comps)
            if f.refused is not None:
                self._refuse(path, f.refused)
            elif f.error is not None:
                self.failed[path] = f.error
            elif f.done:
                self.files += 1
                self.bytes_written += int(f.node.get("s", 0))

    def _read_pack(self, pack: bytes, blobs: dict[bytes, tuple[BlobRef, list[tuple[int, int]]]],
                   batch: list[_File]) -> None:
        key = pack_key(pack)
        refs = sorted(blobs.values(), key=lambda r: r[0].offset)
        i = 0
        while i < len(refs):
            self.cancel.raise_if_cancelled()
            j, start = i + 1, refs[i][0].offset
            end = start + refs[i][0].length
            while j < len(refs) and refs[j][0].offset - end < RANGE_GAP and \
                    refs[j][0].offset + refs[j][0].length - start <= RANGE_MAX:
                end = max(end, refs[j][0].offset + refs[j][0].length)
                j += 1
            group = refs[i:j]
            i = j
            try:
                data = memoryview(self.ctx.store.get_range(key, start, end - start))
                if len(data) != end - start:
                    raise VaultCorrupt(f"pack {pack.hex()[:16]} is truncated")
            except (StorageError, VaultCorrupt) as err:
                for _ref, targets in group:
                    for fi, _off in targets:
                        batch[fi].error = f"pack {pack.hex()[:16]}: {err.message}"
                continue
            for ref, targets in group:
                try:
                    plain = self.ctx.cipher.open_chunk(ref.id, data[ref.offset - start:ref.offset - start + ref.length],
                                                       ref.raw_len)
                except VaultCorrupt as err:
                    for fi, _off in targets:
                        batch[fi].error = err.message
                    continue
                for fi, off in targets:
                    if batch[fi].error is None:
                        os.pwrite(batch[fi].fd, plain, off)
                        self.meter.add(len(plain))

    def _finish_file(self, f: _File) -> None:
        node = f.node
        if f.refused is not None:
            return
        try:
            if f.error is not None:
                _unlink_quietly(f.name if f.direct else f.tmp, f.pfd)
                return
            if _IS_ROOT:
                os.fchown(f.fd, node["u"], node["g"])
            os.fchmod(f.fd, node["m"])
            os.utime(f.fd, ns=(node["mt"], node["mt"]))
        finally:
            os.close(f.fd)
            f.fd = -1
        if not f.direct:
            try:
                os.rename(f.tmp, f.name, src_dir_fd=f.pfd, dst_dir_fd=f.pfd)
            except OSError as err:   # a folder in its place, or its folder removed meanwhile
                _unlink_quietly(f.tmp, f.pfd)
                reason = blocked_reason(err, "/".join((f.root,) + f.comps))
                if reason is None:
                    raise
                f.refused = reason
                return
        f.done = True
        self.meter.add(0, 1, "/".join((f.root,) + f.comps))

    def _link_all(self) -> None:
        for root, comps, node in self.links:
            first: str = node["hl"]
            path = "/".join((root,) + comps)
            if first in self.failed:
                self.failed[path] = f"hard link to {first}, which failed"
                continue
            froot, *frest = first.split("/")
            try:
                fpfd, fname = self.dirs.locate(froot, tuple(frest))
                fpfd = os.dup(fpfd)
                try:
                    try:
                        st = os.stat(fname, dir_fd=fpfd, follow_symlinks=False)
                    except FileNotFoundError:
                        st = None
                    if st is None or not stat.S_ISREG(st.st_mode):
                        self._refuse(path, f"hard link to {first}, which is not a file restored in the "
                                           "target")
                        continue
                    pfd, name = self.dirs.locate(root, comps)
                    tmp = _tmp_name(name)
                    os.link(fname, tmp, src_dir_fd=fpfd, dst_dir_fd=pfd, follow_symlinks=False)
                    try:
                        os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
                    except OSError:
                        _unlink_quietly(tmp, pfd)
                        raise
                finally:
                    os.close(fpfd)
            except (Blocked, OSError) as err:
                self._refuse_or_raise(path, err)
                continue
            self.files += 1

    def _apply_dir_meta(self) -> None:
        for root, comps, node in reversed(self.dir_meta):
            try:
                fd = self.dirs.get(root, comps)
            except Blocked as err:   # reopened (evicted from the cache) and swapped meanwhile
                self._refuse("/".join((root,) + comps), err.reason + "; its mode and times were not set")
                continue
            if _IS_ROOT:
                os.fchown(fd, node["u"], node["g"])
            os.fchmod(fd, node["m"])
            os.utime(fd, ns=(node["mt"], node["mt"]))

