"""Prune: delete data no recovery point references, without ever losing referenced data.

Runs under the exclusive vault lock, on a freshly loaded (and healed) index. Refuses to
run if any snapshot or tree cannot be read (it could not know what is referenced).
Order, each step durable before the next:
1. copy the still-used sealed blobs of mostly-unused packs into new packs (no re-encryption;
   each copied blob is verified first);
2. write one new index naming every kept and new pack;
3. delete the old index files;
4. delete the packs that are now unreferenced or were rewritten.
A crash after 1 leaves unindexed packs (healed from their trailers, removed by the next
prune); after 2 or 3 duplicate index entries (harmless); after 4 nothing to redo.
"""

from __future__ import annotations

from strongbox.dataplane import snapshots
from strongbox.dataplane.context import PACK_TARGET, VaultContext
from strongbox.dataplane.errors import VaultCorrupt
from strongbox.dataplane.index import Index, write_index
from strongbox.dataplane.locks import Lock
from strongbox.dataplane.packs import BlobRef, PackBuilder, pack_key
from strongbox.storage.base import put_parts
from strongbox.dataplane.progress import ProgressCallback, ProgressMeter
from strongbox.dataplane.results import PruneResult
from strongbox.dataplane.tree import read_tree

REWRITE_UNUSED_FRACTION = 0.2


def used_chunks(ctx: VaultContext) -> set[bytes]:
    infos, problems = snapshots.load_all(ctx.store, ctx.cipher)
    if problems:
        raise VaultCorrupt(f"cannot prune: recovery point {problems[0][0]} is unreadable ({problems[0][1]})")
    used: set[bytes] = set()
    for info in infos:
        used.update(bytes.fromhex(t) for t in info.tree)
        for node in read_tree(info.tree, ctx.fetch_chunk):
            for c in node.get("c", ()):
                if c[0] is not None:
                    used.add(bytes.fromhex(c[0]))
    return used


def run_prune(ctx: VaultContext, progress: ProgressCallback | None) -> PruneResult:
    with Lock(ctx.store, exclusive=True):
        ctx.index = Index.load(ctx.store, ctx.cipher)
        old_index_files = list(ctx.store.list("index/"))
        used = used_chunks(ctx)
        live: dict[bytes, list[BlobRef]] = {}
        for cid in used:
            loc = ctx.index.lookup(cid)
            if loc is not None:
                live.setdefault(loc.pack, []).append(loc.ref)
        delete, rewrite, keep = [], [], []
        for pid, info in ctx.index.packs.items():
            refs = live.get(pid, [])
            live_bytes = sum(r.length for r in refs)
            if not refs:
                delete.append(pid)
            elif live_bytes < (1 - REWRITE_UNUSED_FRACTION) * info.size:
                rewrite.append(pid)
            else:
                keep.append(pid)
        meter = ProgressMeter("prune", progress, sum(ctx.index.packs[p].size for p in rewrite), len(rewrite))
        new_packs: list[tuple[bytes, int, list[BlobRef]]] = []
        builder = PackBuilder()

        def store_builder() -> None:
            nonlocal builder
            if builder.entries:
                entries = builder.entries
                pid, parts = builder.finish(ctx.cipher)
                put_parts(ctx.store, pack_key(pid), parts)
                new_packs.append((pid, builder.size, entries))
            builder = PackBuilder()

        for pid in rewrite:
            data = ctx.store.get(pack_key(pid))
            for ref in sorted(live[pid], key=lambda r: r.offset):
                sealed = data[ref.offset:ref.offset + ref.length]
                ctx.cipher.open_chunk(ref.id, sealed, ref.raw_len)  # never copy damage forward
                builder.add(ref.kind, ref.id, sealed, ref.raw_len)
                if len(builder) >= PACK_TARGET:
                    store_builder()
            meter.add(len(data), 1)
        store_builder()
        if delete or rewrite or len(old_index_files) > 1:
            entries = [(p, ctx.index.packs[p].size, ctx.index.packs[p].blobs) for p in keep] + new_packs
            write_index(ctx.store, ctx.cipher, entries)
            for key in old_index_files:
                ctx.store.delete(key)
        freed = 0
        for pid in delete + rewrite:
            freed += ctx.index.packs[pid].size
            ctx.store.delete(pack_key(pid))
        freed -= sum(size for _p, size, _e in new_packs)
        meter.finish()
        ctx.index = Index.load(ctx.store, ctx.cipher)
        return PruneResult(len(delete), len(rewrite), freed)
