"""Backup and restore semantics: sources, files cache, warnings, progress, cancel, include, roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strongbox.dataplane.errors import Cancelled, PathEscape, SnapshotNotFound, SourceMissing, WrongPassphrase
from strongbox.dataplane.progress import CancelToken, Progress
from strongbox.dataplane.repository import Repository

from .conftest import describe


def make_tree(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "deep.txt").write_text("deep")
    (root / "a" / "one.txt").write_text("one")
    (root / "top.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (root / "empty").mkdir()
    return root


def test_missing_source_writes_no_snapshot(repo: Repository, tmp_path: Path) -> None:
    with pytest.raises(SourceMissing) as err:
        repo.backup([tmp_path, tmp_path / "nope"])
    assert "nope" in err.value.message
    assert repo.snapshots() == []


def test_files_cache_skips_unchanged(repo: Repository, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    first = repo.backup([src])
    assert first.bytes_read == first.bytes_total
    second = repo.backup([src])
    assert second.bytes_read == 0 and second.bytes_new == 0
    (src / "a" / "one.txt").write_text("changed!")
    third = repo.backup([src])
    assert third.bytes_read == len("changed!")
    repo.restore(third.snapshot_id, tmp_path / "out")
    assert describe(tmp_path / "out" / "src") == describe(src)


def test_progress_reports_totals_and_cancel_stops(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}").write_bytes(os.urandom(6 * 1024 * 1024))
    seen: list[Progress] = []
    repo.backup([src], progress=seen.append)
    assert seen[-1].bytes_done == seen[-1].bytes_total == 18 * 1024 * 1024
    assert seen[-1].files_done == seen[-1].files_total == 3
    (src / "f0").write_bytes(os.urandom(6 * 1024 * 1024))
    token = CancelToken()

    def cancel_soon(p: Progress) -> None:
        token.cancel()

    with pytest.raises(Cancelled):
        repo.backup([src], progress=cancel_soon, cancel=token)
    assert len(repo.snapshots()) == 1
    assert repo.check(read_data=True).ok


def test_include_and_roots_mapping(repo: Repository, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    r = repo.backup([src])
    repo.restore(r.snapshot_id, tmp_path / "part", include=["src/a/b"])
    got = sorted(str(p.relative_to(tmp_path / "part")) for p in (tmp_path / "part").rglob("*"))
    assert got == ["src", "src/a", "src/a/b", "src/a/b/deep.txt"]
    dest = tmp_path / "elsewhere" / "copy"
    res = repo.restore(r.snapshot_id, roots={"src": dest})
    assert res.target_paths == [str(dest)]
    assert describe(dest) == describe(src)
    with pytest.raises(SnapshotNotFound):
        repo.restore(r.snapshot_id, roots={"other": dest})


def test_restore_over_existing_replaces_files_and_never_follows_symlinks(repo: Repository, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    r = repo.backup([src])
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    (out / "src").mkdir(parents=True)
    os.symlink(outside, out / "src" / "a")  # a trap: restoring src/a/* must not land in outside/
    (out / "src" / "top.bin").write_text("stale")
    repo.restore(r.snapshot_id, out)
    assert list(outside.iterdir()) == []
    assert describe(out / "src") == describe(src)


def test_symlink_pointing_out_is_refused(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("fine")
    os.symlink("/etc/passwd", src / "abs")
    os.symlink("../../escape", src / "rel")
    os.symlink("ok.txt", src / "inside")
    r = repo.backup([src])
    with pytest.raises(PathEscape) as err:
        repo.restore(r.snapshot_id, tmp_path / "out")
    assert "src/abs" in err.value.message and "src/rel" in err.value.message
    assert (tmp_path / "out" / "src" / "ok.txt").read_text() == "fine"
    assert os.readlink(tmp_path / "out" / "src" / "inside") == "ok.txt"
    assert not os.path.lexists(tmp_path / "out" / "src" / "abs")
    repo.restore(r.snapshot_id, tmp_path / "out2", allow_external_symlinks=True)
    assert os.readlink(tmp_path / "out2" / "src" / "abs") == "/etc/passwd"


def test_malicious_tree_paths_are_refused(repo: Repository, tmp_path: Path) -> None:
    from strongbox.dataplane import snapshots
    from strongbox.dataplane.packs import KIND_TREE
    from strongbox.dataplane.tree import TreeWriter
    from strongbox.dataplane.writer import PackWriter

    ctx = repo.ctx
    writer = PackWriter(ctx)

    def sink(data: bytes) -> str:
        cid = ctx.cipher.chunk_id(data)
        writer.add(KIND_TREE, cid, ctx.cipher.seal_chunk(cid, data), len(data))
        return cid.hex()

    tree = TreeWriter(ctx.make_cdc(), sink)
    tree.add({"p": "r", "t": "d", "m": 0o755, "u": 0, "g": 0, "mt": 0})
    tree.add({"p": "r/../../evil", "t": "f", "m": 0o644, "u": 0, "g": 0, "mt": 0, "s": 0, "c": []})
    tree.add({"p": "/abs/evil", "t": "f", "m": 0o644, "u": 0, "g": 0, "mt": 0, "s": 0, "c": []})
    ids = tree.close()
    writer.flush()
    writer.close()
    from datetime import datetime, timezone
    info = snapshots.SnapshotInfo(snapshots.new_id(), datetime.now(timezone.utc), {"r": "/r"}, {}, 2, 0, 1, ids)
    snapshots.save(ctx.store, ctx.cipher, info, "h")
    with pytest.raises(PathEscape):
        repo.restore(info.id, tmp_path / "out" / "t")
    assert not (tmp_path / "out" / "evil").exists() and not Path("/abs/evil").exists()


def test_passphrase_rotation(tmp_path: Path) -> None:
    from strongbox.storage.local import LocalStore
    store = LocalStore(tmp_path / "v")
    repo = Repository.init(store, b"old")
    src = make_tree(tmp_path / "src")
    r = repo.backup([src])
    packs_before = sorted(store.list("data/"))
    repo.change_passphrase(b"new")
    with pytest.raises(WrongPassphrase):
        Repository.open(store, b"old")
    again = Repository.open(store, b"new")
    assert sorted(store.list("data/")) == packs_before
    again.restore(r.snapshot_id, tmp_path / "out")
    assert describe(tmp_path / "out" / "src") == describe(src)


def test_changed_while_read_is_a_warning(repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    target = src / "growing.log"
    target.write_bytes(b"x" * 1000)
    real_fstat = os.fstat

    def fstat_after_append(fd: int) -> os.stat_result:
        with open(target, "ab") as f:
            f.write(b"more")
        return real_fstat(fd)

    from strongbox.dataplane import backup as backup_mod
    monkeypatch.setattr(backup_mod.os, "fstat", fstat_after_append)
    r = repo.backup([src])
    assert [w.path for w in r.warnings] == [str(target)]
    assert "changed" in r.warnings[0].reason
    assert r.files == 1


def test_keep_last_and_prune_keep_referenced(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    keep = os.urandom(5 * 1024 * 1024)
    (src / "keep.bin").write_bytes(keep)
    for i in range(3):
        (src / "churn.bin").write_bytes(os.urandom(20 * 1024 * 1024))
        repo.backup([src])
    size_before = sum(repo.store.size(k) for k in repo.store.list("data/"))
    gone = repo.forget_keep_last(1)
    assert len(gone) == 2 and len(repo.snapshots()) == 1
    res = repo.prune()
    assert res.bytes_freed > 30 * 1024 * 1024
    assert sum(repo.store.size(k) for k in repo.store.list("data/")) < size_before - 30 * 1024 * 1024
    assert repo.check(read_data=True).ok
    repo.restore("latest", tmp_path / "out")
    assert describe(tmp_path / "out" / "src") == describe(src)


def test_a_file_grown_past_whole_reads_dedupes_against_its_earlier_version(repo: Repository, tmp_path: Path) -> None:
    # A file of at most backup._WHOLE bytes is read in one piece and cut with cut_buf; grown
    # past it, the file streams through cut_stream. The cuts must stay where they were, or
    # nothing would dedupe.
    from strongbox.dataplane import backup
    from strongbox.dataplane.context import CHUNK_MAX

    head = os.urandom(backup._WHOLE - 1024 * 1024)
    tail = os.urandom(backup._WHOLE)
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    (small / "f").write_bytes(head)
    (large / "f").write_bytes(head + tail)
    first = repo.backup([small])
    assert first.bytes_new == len(head)
    second = repo.backup([large])
    # Only the chunk that ended at the small file's end, and what follows it, are new.
    assert len(tail) <= second.bytes_new < len(tail) + CHUNK_MAX
    repo.restore(second.snapshot_id, tmp_path / "out")
    assert (tmp_path / "out" / "large" / "f").read_bytes() == head + tail
