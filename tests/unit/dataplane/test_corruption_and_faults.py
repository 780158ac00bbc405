"""Damage and failure: flipped bytes, missing packs, truncated index, full disk, failed writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strongbox.dataplane.errors import StorageError, StorageFull, VaultCorrupt
from strongbox.dataplane.packs import pack_id_of_key
from strongbox.dataplane.repository import Repository
from strongbox.storage.faulty import FaultyStore
from strongbox.storage.local import LocalStore

from .conftest import describe


def two_file_vault(tmp_path: Path) -> tuple[LocalStore, Repository, Path, str]:
    store = LocalStore(tmp_path / "vault")
    repo = Repository.init(store, b"pw")
    src = tmp_path / "src"
    src.mkdir()
    (src / "first.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    repo.backup([src])
    (src / "second.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    (src / "small.txt").write_text("small")
    sid = repo.backup([src]).snapshot_id
    return store, Repository.open(store, b"pw"), src, sid


def packs_of(store: LocalStore, repo: Repository, path_in_tree: str, sid: str) -> set[str]:
    from strongbox.dataplane.packs import pack_key
    from strongbox.dataplane.tree import read_tree
    info = repo.snapshot(sid)
    for node in read_tree(info.tree, repo.ctx.fetch_chunk):
        if node["p"] == path_in_tree:
            return {pack_key(repo.ctx.index.chunks[bytes.fromhex(c[0])].pack) for c in node["c"]}
    raise AssertionError(path_in_tree)


def test_flipped_byte_is_traced_and_only_touched_file_fails(tmp_path: Path) -> None:
    store, repo, src, sid = two_file_vault(tmp_path)
    victim = sorted(packs_of(store, repo, "src/second.bin", sid) - packs_of(store, repo, "src/first.bin", sid))[0]
    path = store.root / victim
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x40
    path.write_bytes(bytes(data))
    assert repo.check().ok  # structure is intact; only reading data finds it
    report = repo.check(read_data=True)
    assert not report.ok
    [problem] = [p for p in report.problems if p.object == victim]
    assert sid in problem.snapshots
    assert any(f.endswith(":src/second.bin") for f in problem.files)
    assert not any(f.endswith(":src/first.bin") for f in problem.files)
    with pytest.raises(VaultCorrupt) as err:
        repo.restore(sid, tmp_path / "out")
    assert "src/second.bin" in err.value.message
    assert (tmp_path / "out" / "src" / "first.bin").read_bytes() == (src / "first.bin").read_bytes()
    assert not (tmp_path / "out" / "src" / "second.bin").exists()
    assert [p.name for p in (tmp_path / "out" / "src").iterdir() if "sbtmp" in p.name] == []


def test_missing_pack_is_reported_with_files(tmp_path: Path) -> None:
    store, repo, src, sid = two_file_vault(tmp_path)
    victim = sorted(packs_of(store, repo, "src/first.bin", sid))[0]
    store.delete(victim)
    report = Repository.open(store, b"pw").check()
    assert not report.ok
    [problem] = [p for p in report.problems if p.object == victim]
    assert problem.message == "pack is missing"
    # Both recovery points depend on it: through file content, or through their tree chunks.
    assert len({sid for p in report.problems for sid in p.snapshots}) == 2
    with pytest.raises(VaultCorrupt):
        Repository.open(store, b"pw").restore(sid, tmp_path / "out", include=["src/first.bin"])
    Repository.open(store, b"pw").restore(sid, tmp_path / "out2", include=["src/small.txt"])
    assert (tmp_path / "out2" / "src" / "small.txt").read_text() == "small"


def test_truncated_index_is_reported_and_healed_from_packs(tmp_path: Path) -> None:
    store, repo, src, sid = two_file_vault(tmp_path)
    for key in store.list("index/"):
        p = store.root / key
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    fresh = Repository.open(store, b"pw")
    report = fresh.check(read_data=True)
    assert not report.ok
    assert {p.kind for p in report.problems} == {"index"}
    assert all(p.files == [] for p in report.problems)
    fresh.restore(sid, tmp_path / "out")
    assert describe(tmp_path / "out" / "src") == describe(src)


def test_full_disk_fails_clearly_and_loses_nothing(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path / "vault")
    Repository.init(inner, b"pw")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(10 * 1024 * 1024))
    good = Repository.open(inner, b"pw").backup([src])
    (src / "b.bin").write_bytes(os.urandom(60 * 1024 * 1024))
    full = Repository.open(FaultyStore(inner, capacity=20 * 1024 * 1024), b"pw")
    with pytest.raises(StorageFull) as err:
        full.backup([src])
    assert "full" in err.value.message.lower()
    repo = Repository.open(inner, b"pw")
    assert [s.id for s in repo.snapshots()] == [good.snapshot_id]
    assert repo.check(read_data=True).ok
    repo.restore(good.snapshot_id, tmp_path / "out")
    assert (tmp_path / "out" / "src" / "a.bin").read_bytes() == (src / "a.bin").read_bytes()
    again = repo.backup([src])  # reuses the packs the failed backup managed to store
    assert again.bytes_new < 60 * 1024 * 1024
    assert repo.check(read_data=True).ok


@pytest.mark.parametrize("nth", [1, 3, 5])
def test_failed_nth_write_leaves_vault_consistent(tmp_path: Path, nth: int) -> None:
    inner = LocalStore(tmp_path / "vault")
    Repository.init(inner, b"pw")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(50 * 1024 * 1024))
    with pytest.raises(StorageError):
        Repository.open(FaultyStore(inner, fail_put_at=nth), b"pw").backup([src])
    repo = Repository.open(inner, b"pw")
    assert repo.snapshots() == []
    assert repo.check(read_data=True).ok
    r = repo.backup([src])
    repo.restore(r.snapshot_id, tmp_path / "out")
    assert (tmp_path / "out" / "src" / "a.bin").read_bytes() == (src / "a.bin").read_bytes()


def test_corrupt_reads_fail_verification(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path / "vault")
    Repository.init(inner, b"pw")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    sid = Repository.open(inner, b"pw").backup([src]).snapshot_id
    bad = Repository.open(FaultyStore(inner, corrupt=lambda k: k.startswith("data/")), b"pw")
    assert pack_id_of_key(next(inner.list("data/"))) is not None
    with pytest.raises(VaultCorrupt):
        bad.restore(sid, tmp_path / "out")
    assert not bad.check(read_data=True).ok
