"""Property: for any generated tree, restore(backup(tree)) == tree, bit for bit, metadata too."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongbox.dataplane.repository import Repository
from strongbox.storage.local import LocalStore

from .conftest import describe

names = st.text(alphabet="abcXYZ019 _-.é", min_size=1, max_size=8).filter(lambda n: n not in (".", ".."))
contents = st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda n, b: b * n, st.integers(1, 40_000), st.binary(min_size=1, max_size=16)),
)
entry = st.tuples(st.sampled_from(["file", "dir", "link", "hard", "empty"]), names, contents,
                  st.sampled_from([0o644, 0o600, 0o755, 0o444]), st.integers(0, 2**40))


def build(root: Path, spec: list[tuple[str, str, bytes, int, int]]) -> None:
    root.mkdir()
    dirs = [root]
    files: list[Path] = []
    for i, (kind, name, data, mode, mtime) in enumerate(spec):
        parent = dirs[i % len(dirs)]
        p = parent / f"{name}{i}"
        if kind == "file":
            p.write_bytes(data)
            os.chmod(p, mode)
            files.append(p)
        elif kind in ("dir", "empty"):
            p.mkdir()
            if kind == "dir":
                dirs.append(p)
        elif kind == "link":
            os.symlink(os.path.relpath(files[-1], parent) if files else "dangling", p)
        elif kind == "hard" and files:
            os.link(files[0], p)
        if p.exists() or p.is_symlink():
            os.utime(p, ns=(mtime, mtime), follow_symlinks=False)
    for d in reversed(dirs):
        os.utime(d, ns=(10**18, 10**18))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.lists(entry, max_size=14))
def test_restore_equals_source(spec: list[tuple[str, str, bytes, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = base / "src"
        build(src, spec)
        store = LocalStore(base / "vault")
        repo = Repository.init(store, b"pw")
        result = repo.backup([src])
        assert result.files == sum(1 for r in describe(src).values() if r[0] == "f")
        Repository.open(store, b"pw").restore(result.snapshot_id, base / "out")
        assert describe(base / "out" / "src") == describe(src)
        shutil.rmtree(base / "out")


def test_big_file_many_chunks_and_dedupe(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    blob = os.urandom(6 * 1024 * 1024)
    (src / "a.bin").write_bytes(blob + b"tail-a")
    (src / "b.bin").write_bytes(blob + b"tail-b")  # same content: dedupes
    text = b"".join(b"line %d of some text\n" % i for i in range(400_000))
    (src / "t.txt").write_bytes(text)
    r = repo.backup([src])
    assert r.bytes_new < len(blob) + len(text) + 5 * 1024 * 1024
    assert r.bytes_stored < len(blob) * 1.1 + len(text) / 2  # text compressed, blob stored once
    repo.restore("latest", tmp_path / "out")
    assert describe(tmp_path / "out" / "src") == describe(src)


def test_sparse_image_restores_sparse(repo: Repository, tmp_path: Path) -> None:
    src = tmp_path / "disk.img"
    with open(src, "wb") as f:
        f.write(os.urandom(100_000))
        f.seek(64 * 1024 * 1024)
        f.write(os.urandom(100_000))
        f.truncate(80 * 1024 * 1024)
    r = repo.backup([src])
    assert r.bytes_stored < 2 * 1024 * 1024
    out = tmp_path / "out"
    repo.restore(r.snapshot_id, out)
    restored = out / "disk.img"
    assert restored.read_bytes() == src.read_bytes()
    assert restored.stat().st_size == 80 * 1024 * 1024
    assert restored.stat().st_blocks * 512 < 16 * 1024 * 1024  # holes stayed holes


def test_duplicate_root_names_and_single_file_root(repo: Repository, tmp_path: Path) -> None:
    (tmp_path / "x" / "data").mkdir(parents=True)
    (tmp_path / "y" / "data").mkdir(parents=True)
    (tmp_path / "x" / "data" / "f").write_text("from x")
    (tmp_path / "y" / "data" / "f").write_text("from y")
    (tmp_path / "img").write_bytes(b"image")
    r = repo.backup([tmp_path / "x" / "data", tmp_path / "y" / "data", tmp_path / "img"])
    info = repo.snapshot(r.snapshot_id[:10])
    assert info.roots == {"data": str(tmp_path / "x" / "data"), "data~2": str(tmp_path / "y" / "data"),
                          "img": str(tmp_path / "img")}
    res = repo.restore(r.snapshot_id, tmp_path / "out")
    assert (tmp_path / "out" / "data~2" / "f").read_text() == "from y"
    assert (tmp_path / "out" / "img").read_bytes() == b"image"
    assert sorted(res.target_paths) == sorted(str(tmp_path / "out" / n) for n in ("data", "data~2", "img"))
