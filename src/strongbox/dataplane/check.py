"""Check: structure always, every byte with ``read_data``; damage is traced to what it touches.

Structural: every index file decrypts and parses; every pack an index names exists with
the recorded size; every snapshot decrypts; every tree chunk reads and verifies; every
chunk a tree names is in the index. Read-data adds: every pack is read whole, its BLAKE3
must match its name, and every blob in it is decrypted, decompressed and verified
against its id (packs on a thread pool). Each problem lists the recovery points and the
files (``<snapshot id[:12]>:<path>``) that depend on the damaged object.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import blake3

from strongbox.dataplane import snapshots
from strongbox.dataplane.context import VaultContext
from strongbox.dataplane.errors import VaultCorrupt
from strongbox.dataplane.packs import pack_id_of_key, pack_key
from strongbox.dataplane.progress import ProgressCallback, ProgressMeter
from strongbox.dataplane.results import CheckReport, Problem
from strongbox.dataplane.tree import read_tree
from strongbox.storage.base import StorageError

THREADS = 2


def _verify_pack(ctx: VaultContext, pid: bytes, meter: ProgressMeter) -> list[tuple[bytes | None, str]]:
    """Return ``[(chunk id, reason)]`` for every bad blob of the pack (id None: the pack itself)."""
    key = pack_key(pid)
    info = ctx.index.packs[pid]
    try:
        data = ctx.store.get(key)
    except StorageError as err:
        return [(b.id, err.message) for b in info.blobs]
    meter.add(len(data), 1, key)
    bad: list[tuple[bytes | None, str]] = []
    if blake3.blake3(data, max_threads=1).digest() != pid:
        bad.append((None, "pack content does not match its id"))
    view = memoryview(data)
    for b in info.blobs:
        try:
            if b.offset + b.length > len(data):
                raise VaultCorrupt("pack is truncated")
            ctx.cipher.open_chunk(b.id, view[b.offset:b.offset + b.length], b.raw_len)
        except VaultCorrupt as err:
            bad.append((b.id, err.message))
    return bad


def run_check(ctx: VaultContext, read_data: bool, progress: ProgressCallback | None) -> CheckReport:
    problems: list[Problem] = [Problem("index", k, m) for k, m in ctx.index.problems]
    bad: dict[bytes, Problem] = {}  # chunk id -> the problem that explains it
    stored: dict[bytes, int] = {}
    for key in ctx.store.list("data/"):
        pid = pack_id_of_key(key)
        if pid is not None:
            stored[pid] = ctx.store.size(key)
    total = sum(i.size for i in ctx.index.packs.values())
    meter = ProgressMeter("check", progress, total if read_data else 0, len(ctx.index.packs))
    to_read = []
    for pid, info in ctx.index.packs.items():
        key = pack_key(pid)
        if pid not in stored:
            p = Problem("pack", key, "pack is missing")
        elif stored[pid] != info.size:
            p = Problem("pack", key, f"pack size is {stored[pid]}, expected {info.size} (truncated or damaged)")
        else:
            to_read.append(pid)
            continue
        problems.append(p)
        for b in info.blobs:
            bad.setdefault(b.id, p)
    if read_data:
        with ThreadPoolExecutor(THREADS, thread_name_prefix="sb-check") as pool:
            for pid, result in zip(to_read, pool.map(lambda p: _verify_pack(ctx, p, meter), to_read)):
                if result:
                    p = Problem("pack", pack_key(pid), "; ".join(sorted({why for _c, why in result})[:3]))
                    problems.append(p)
                    for cid, _why in result:
                        if cid is not None:
                            bad.setdefault(cid, p)
    infos, snap_problems = snapshots.load_all(ctx.store, ctx.cipher)
    problems += [Problem("snapshot", k, m, [k.rsplit("/", 1)[-1]]) for k, m in snap_problems]
    missing: dict[bytes, Problem] = {}
    for snap in infos:
        _trace(ctx, snap, bad, missing, problems)
    problems += missing.values()
    meter.finish()
    return CheckReport(not problems, problems)


def _trace(ctx: VaultContext, info: snapshots.SnapshotInfo, bad: dict[bytes, Problem],
           missing: dict[bytes, Problem], problems: list[Problem]) -> None:
    def hit(cid: bytes, path: str) -> None:
        p = bad.get(cid)
        if p is None and cid not in ctx.index.chunks:
            p = missing.setdefault(cid, Problem("chunk", cid.hex(), "chunk is not in any index or pack"))
        if p is not None:
            if info.id not in p.snapshots:
                p.snapshots.append(info.id)
            entry = f"{info.id[:12]}:{path}"
            if entry not in p.files[-1:]:
                p.files.append(entry)

    try:
        for node in read_tree(info.tree, ctx.fetch_chunk):
            for c in node.get("c", ()):
                if c[0] is not None:
                    hit(bytes.fromhex(c[0]), node["p"])
    except (VaultCorrupt, StorageError, ValueError, KeyError) as err:
        problems.append(Problem("tree", info.id, f"tree unreadable, the whole recovery point is affected: "
                                f"{getattr(err, 'message', err)}", [info.id], [f"{info.id[:12]}:*"]))
