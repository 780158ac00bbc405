"""Restore: tree -> plan -> parallel pack reads -> verify -> pwrite -> metadata -> rename.

Invariants:
- Nothing escapes the destination: every tree path is checked (no absolute paths, no
  ``.``/``..``), folders are entered with ``O_NOFOLLOW`` relative to their parent, and a
  symlink whose target points outside its root is refused (``PathEscape``) unless allowed.
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
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from strongbox.dataplane.context import VaultContext
from strongbox.dataplane.dirfds import DirFds
from strongbox.dataplane.errors import PathEscape, SnapshotNotFound, VaultCorrupt
from strongbox.dataplane.packs import BlobRef, pack_key
from strongbox.dataplane.progress import CancelToken, ProgressCallback, ProgressMeter
from strongbox.dataplane.results import RestoreResult
from strongbox.dataplane.snapshots import SnapshotInfo
from strongbox.dataplane.tree import Node, read_tree, valid_path
from strongbox.storage.base import StorageError

BATCH_FILES = 256
BATCH_BYTES = 512 * 1024 * 1024
RANGE_GAP = 1024 * 1024
RANGE_MAX = 16 * 1024 * 1024
THREADS = 4
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
    error: str | None = None
    done: bool = False
    direct: bool = False  # created at its final name (it was free): no rename needed


def _tmp_name(name: str) -> str:
    return f".{name[:100]}.sbtmp-{secrets.token_hex(6)}"


def symlink_escapes(comps: tuple[str, ...], target: str) -> bool:
    if target.startswith("/"):
        return True
    depth = len(comps) - 1  # folders below the root that contain the link
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
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
        self.refused: list[str] = []
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
        if self.refused:
            raise PathEscape(f"{len(self.refused)} entr{'y' if len(self.refused) == 1 else 'ies'} would escape "
                             f"the target and were not restored: " + "; ".join(self.refused[:10]))
        if self.failed:
            shown = "; ".join(f"{p}: {r}" for p, r in list(self.failed.items())[:10])
            raise VaultCorrupt(f"{len(self.failed)} file(s) could not be restored (other files were): {shown}")
        paths = [os.path.join(*self.bases[r]) for r in self.bases]
        return RestoreResult(self.files, self.ndirs, self.bytes_written, time.monotonic() - started, paths)

    # -- per node ----------------------------------------------------------------------
    def _node(self, node: Node, pool: ThreadPoolExecutor) -> None:
        path = node.get("p")
        if not isinstance(path, str) or not valid_path(path):
            self.refused.append(f"{path!r}: not a safe relative path")
            return
        if not self.selected(path):
            return
        root, *rest = path.split("/")
        comps = tuple(rest)
        kind = node.get("t")
        if kind == "d":
            self._mkdir(root, comps)
            self.dir_meta.append((root, comps, node))
            self.ndirs += 1
        elif kind == "l":
            if not self.allow_external and symlink_escapes(comps, node["l"]):
                self.refused.append(f"{path}: symlink points outside the restore root ({node['l']})")
                return
            self._symlink(root, comps, node)
        elif kind == "f":
            first = node.get("hl")
            if first and valid_path(first) and self.selected(first) and first.split("/", 1)[0] == root:
                self.links.append((root, comps, node))
                return
            self._add_file(root, comps, node, pool)

    def _mkdir(self, root: str, comps: tuple[str, ...]) -> None:
        pfd, name = self.dirs.locate(root, comps)
        try:
            os.mkdir(name, 0o700, dir_fd=pfd)
        except FileExistsError:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                os.unlink(name, dir_fd=pfd)
                os.mkdir(name, 0o700, dir_fd=pfd)

    def _symlink(self, root: str, comps: tuple[str, ...], node: Node) -> None:
        pfd, name = self.dirs.locate(root, comps)
        tmp = _tmp_name(name)
        os.symlink(node["l"], tmp, dir_fd=pfd)
        if _IS_ROOT:
            os.chown(tmp, node["u"], node["g"], dir_fd=pfd, follow_symlinks=False)
        os.utime(tmp, ns=(node["mt"], node["mt"]), dir_fd=pfd, follow_symlinks=False)
        os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
        self.files += 1

    def _add_file(self, root: str, comps: tuple[str, ...], node: Node, pool: ThreadPoolExecutor) -> None:
        pfd, name = self.dirs.locate(root, comps)
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
                self._create(f)
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
            off = 0
            for cid_hex, n in f.node.get("c", []):
                if cid_hex is not None:
                    cid = bytes.fromhex(cid_hex)
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
            if f.error is not None:
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
        try:
            if f.error is not None:
                os.unlink(f.name if f.direct else f.tmp, dir_fd=f.pfd)
                return
            if _IS_ROOT:
                os.fchown(f.fd, node["u"], node["g"])
            os.fchmod(f.fd, node["m"])
            os.utime(f.fd, ns=(node["mt"], node["mt"]))
        finally:
            os.close(f.fd)
            f.fd = -1
        if not f.direct:
            os.rename(f.tmp, f.name, src_dir_fd=f.pfd, dst_dir_fd=f.pfd)
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
            fpfd, fname = self.dirs.locate(froot, tuple(frest))
            fpfd = os.dup(fpfd)
            try:
                pfd, name = self.dirs.locate(root, comps)
                tmp = _tmp_name(name)
                os.link(fname, tmp, src_dir_fd=fpfd, dst_dir_fd=pfd, follow_symlinks=False)
                os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
            finally:
                os.close(fpfd)
            self.files += 1

    def _apply_dir_meta(self) -> None:
        for root, comps, node in reversed(self.dir_meta):
            fd = self.dirs.get(root, comps)
            if _IS_ROOT:
                os.fchown(fd, node["u"], node["g"])
            os.fchmod(fd, node["m"])
            os.utime(fd, ns=(node["mt"], node["mt"]))

