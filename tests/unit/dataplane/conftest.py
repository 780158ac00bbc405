"""Fixtures for data-plane tests: real files on disk, a real local vault, a cheap KDF."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from strongbox.dataplane import keys
from strongbox.dataplane.repository import Repository
from strongbox.storage.local import LocalStore


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "KDF_TIME", 1)
    monkeypatch.setattr(keys, "KDF_MEMORY_KIB", 1024)


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    store = LocalStore(tmp_path / "vault")
    Repository.init(store, b"secret")
    return Repository.open(store, b"secret", cache_dir=tmp_path / "cache")


def describe(root: Path) -> dict[str, Any]:
    """Everything restore must reproduce: type, content, mode, mtime_ns, link target, hard links."""
    out: dict[str, Any] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames) + ([] if dirpath != str(root) else ["."]):
            p = Path(dirpath) / name if name != "." else root
            rel = os.path.relpath(p, root)
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p), st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            else:
                link = inodes.setdefault(st.st_ino, rel) if st.st_nlink > 1 else rel
                out[rel] = ("f", stat.S_IMODE(st.st_mode), st.st_mtime_ns, p.read_bytes(), link,
                            (st.st_uid, st.st_gid))
    return out
