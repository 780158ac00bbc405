"""One contract, every adapter: LocalStore, MemoryStore, and FaultyStore with no faults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from strongbox.storage.base import BlobNotFound, BlobStore, StorageError, StorageFull, put_parts
from strongbox.storage.faulty import FaultyStore
from strongbox.storage.local import LocalStore
from strongbox.storage.memory import MemoryStore


@pytest.fixture(params=["local", "memory", "faulty"])
def store(request: Any, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    if request.param == "memory":
        return MemoryStore()
    return FaultyStore(MemoryStore())


def test_put_get_roundtrip(store: BlobStore) -> None:
    store.put("a/b/c", b"hello")
    assert store.get("a/b/c") == b"hello"
    assert store.exists("a/b/c")
    assert store.size("a/b/c") == 5


def test_put_replaces(store: BlobStore) -> None:
    store.put("k", b"one")
    store.put("k", b"two!")
    assert store.get("k") == b"two!"


def test_get_range(store: BlobStore) -> None:
    store.put("r", bytes(range(100)))
    assert store.get_range("r", 10, 5) == bytes(range(10, 15))
    assert store.get_range("r", 95, 50) == bytes(range(95, 100))


def test_put_parts_stores_the_parts_joined(store: BlobStore) -> None:
    # More parts than one writev takes (IOV_MAX is 1024 on Linux), empty ones among them.
    parts = [os.urandom(i % 37) for i in range(3000)]
    put_parts(store, "p/x", parts)
    assert store.get("p/x") == b"".join(parts)


def test_local_put_parts_survives_short_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # writev may write less than asked: every byte must still land, in order.
    real = os.writev
    calls: list[int] = []

    def short(fd: int, bufs: list[memoryview]) -> int:   # at most 5 bytes a call
        calls.append(1)
        return real(fd, [b"".join(bytes(b) for b in bufs)[:5]])
    monkeypatch.setattr(os, "writev", short)
    parts = [b"abcdefgh", b"", b"ijklm", b"nopqrstuvwxyz"]
    LocalStore(tmp_path / "s").put_parts("k", parts)
    assert (tmp_path / "s" / "k").read_bytes() == b"abcdefghijklmnopqrstuvwxyz"
    assert len(calls) == 6


def test_put_parts_goes_through_a_faulty_stores_faults() -> None:
    s = FaultyStore(MemoryStore(), capacity=10)
    with pytest.raises(StorageFull):
        put_parts(s, "a", [b"123456", b"78901"])
    assert not s.exists("a")


def test_missing(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.get("nope")
    with pytest.raises(BlobNotFound):
        store.size("nope")
    assert not store.exists("nope")
    store.delete("nope")  # not an error


def test_delete(store: BlobStore) -> None:
    store.put("x/1", b"1")
    store.delete("x/1")
    assert not store.exists("x/1")
    with pytest.raises(BlobNotFound):
        store.get("x/1")


def test_list_prefix(store: BlobStore) -> None:
    for k in ("data/aa/1", "data/ab/2", "index/3", "config"):
        store.put(k, b"v")
    assert sorted(store.list("data/")) == ["data/aa/1", "data/ab/2"]
    assert sorted(store.list()) == ["config", "data/aa/1", "data/ab/2", "index/3"]
    assert list(store.list("nothing/")) == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_bad_keys_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(StorageError):
        store.put(key, b"x")


def test_local_put_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    s = LocalStore(tmp_path)
    s.put("d/k", b"x" * 1000)
    assert os.listdir(tmp_path / "d") == ["k"]
    (tmp_path / "d" / "k.tmp-abc").write_bytes(b"partial")  # a crashed writer's leftover
    assert list(s.list("d/")) == ["d/k"]


def test_faulty_fail_nth_put() -> None:
    inner = MemoryStore()
    s = FaultyStore(inner, fail_put_at=2, fail_once=True)
    s.put("a", b"1")
    with pytest.raises(StorageError):
        s.put("b", b"2")
    assert not inner.exists("b")
    s.put("c", b"3")
    assert inner.exists("c")


def test_faulty_capacity() -> None:
    s = FaultyStore(MemoryStore(), capacity=10)
    s.put("a", b"12345")
    with pytest.raises(StorageFull):
        s.put("b", b"123456")
    assert not s.exists("b")


def test_faulty_corrupt_reads() -> None:
    s = FaultyStore(MemoryStore(), corrupt=lambda k: k.startswith("bad"))
    s.put("bad/1", b"\x00" * 8)
    s.put("good", b"\x00" * 8)
    assert s.get("bad/1") != b"\x00" * 8
    assert s.get("good") == b"\x00" * 8


def test_local_store_drops_packs_from_the_page_cache_not_small_objects(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    advised: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def record(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((os.fstat(fd).st_size, advice))
        real(fd, offset, length, advice)
    monkeypatch.setattr(os, "posix_fadvise", record)
    store = LocalStore(tmp_path / "s")
    store.put("index/small", b"x" * 1000)
    put_parts(store, "data/ab/pack", [b"y" * (1 << 19), b"z" * (1 << 19)])
    assert advised == [(1 << 20, os.POSIX_FADV_DONTNEED)]
    assert store.get("data/ab/pack") == b"y" * (1 << 19) + b"z" * (1 << 19)
