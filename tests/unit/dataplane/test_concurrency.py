"""Several writers at once, the prune lock, and entries that cannot be backed up."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from strongbox.dataplane.errors import VaultLocked
from strongbox.dataplane.locks import Lock
from strongbox.dataplane.repository import Repository

from .conftest import describe


def test_concurrent_backups_each_restore(repo: Repository, tmp_path: Path) -> None:
    sources = []
    for n in range(3):
        src = tmp_path / f"src{n}"
        src.mkdir()
        (src / "shared.bin").write_bytes(b"same content " * 200_000)
        (src / "own.bin").write_bytes(os.urandom(5 * 1024 * 1024))
        sources.append(src)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            other = Repository.open(repo.store, b"secret")
            results[n] = other.backup([sources[n]]).snapshot_id
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(repo.snapshots()) == 3
    assert repo.check(read_data=True).ok
    for n, sid in results.items():
        repo.restore(sid, tmp_path / f"out{n}")
        assert describe(tmp_path / f"out{n}" / f"src{n}") == describe(sources[n])


def test_prune_refuses_while_a_backup_holds_the_lock(repo: Repository) -> None:
    with Lock(repo.store, exclusive=False):
        with pytest.raises(VaultLocked):
            repo.prune()
    repo.prune()  # lock released: prune runs


def test_dead_holders_lock_is_broken(repo: Repository) -> None:
    import json
    import socket
    repo.store.put("locks/dead", json.dumps({"exclusive": True, "host": socket.gethostname(),
                                             "pid": 2**22 + 12345, "time": 1e12}).encode())
    repo.prune()
    assert not repo.store.exists("locks/dead")


def test_fifo_is_a_warning_not_a_failure(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "file").write_text("x")
    os.mkfifo(src / "pipe")
    r = repo.backup([src])
    assert r.files == 1
    assert [w.path for w in r.warnings] == [str(src / "pipe")]
