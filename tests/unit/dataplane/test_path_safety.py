"""A restore never writes outside its target.

Crafted recovery points (``..``, absolute names, unsafe root names, a file "through" a
symlink, hard links out) are written into a real vault with the engine's own tree and
pack writers, bypassing backup; a symlink is swapped into the target while a restore runs,
at a point made deterministic by the restore's own progress callback. Afterwards nothing
outside the target has changed, and the error names each refused entry.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from strongbox.dataplane import snapshots
from strongbox.dataplane.errors import PathEscape, VaultCorrupt
from strongbox.dataplane.packs import KIND_TREE
from strongbox.dataplane.progress import Progress
from strongbox.dataplane.repository import Repository
from strongbox.dataplane.restore import BATCH_FILES
from strongbox.dataplane.tree import Node, TreeWriter, read_tree
from strongbox.dataplane.writer import PackWriter
from strongbox.storage.local import LocalStore

CONTENT = b"restored bytes\n"


def fresh(tmp_path: Path) -> Repository:
    """The vault reopened from its store: what a restore reads is really in the vault."""
    return Repository.open(LocalStore(tmp_path / "vault"), b"secret")


def chunk_list(repo: Repository, tmp_path: Path) -> list[list[Any]]:
    """Content of a real, backed-up file (``CONTENT``) that crafted file nodes can reuse."""
    src = tmp_path / "seed"
    src.mkdir()
    (src / "f").write_bytes(CONTENT)
    info = repo.snapshot(repo.backup([src]).snapshot_id)
    for node in read_tree(info.tree, repo.ctx.fetch_chunk):
        if node["p"] == "seed/f":
            return list(node["c"])
    raise AssertionError("seed/f not in its own backup")


def craft(repo: Repository, nodes: list[Node], roots: dict[str, str]) -> str:
    """Store ``nodes`` as a recovery point, exactly as a backup would store a tree."""
    ctx = repo.ctx
    writer = PackWriter(ctx)

    def sink(data: bytes) -> str:
        cid = ctx.cipher.chunk_id(data)
        writer.add(KIND_TREE, cid, ctx.cipher.seal_chunk(cid, data), len(data))
        return cid.hex()

    tree = TreeWriter(ctx.make_cdc(), sink)
    for node in nodes:
        tree.add(node)
    ids = tree.close()
    writer.flush()
    writer.close()
    info = snapshots.SnapshotInfo(snapshots.new_id(), datetime.now(timezone.utc), roots, {}, len(nodes), 0, 0, ids)
    snapshots.save(ctx.store, ctx.cipher, info, "crafted")
    return info.id


def d(path: str) -> Node:
    return {"p": path, "t": "d", "m": 0o755, "u": os.getuid(), "g": os.getgid(), "mt": 1_600_000_000 * 10**9}


def f(path: str, content: list[list[Any]], **extra: Any) -> Node:
    return {**d(path), "t": "f", "m": 0o644, "s": sum(c[1] for c in content), "c": content, **extra}


def ln(path: str, target: str) -> Node:
    return {**d(path), "t": "l", "m": 0o777, "l": target}


def listing(root: Path, skip: Path) -> dict[str, tuple[int, int, bytes | str | None]]:
    """Every entry under ``root`` except ``skip`` (the target) and the vault: the world outside."""
    out: dict[str, tuple[int, int, bytes | str | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [n for n in dirnames if Path(dirpath, n) not in (skip, root / "vault")]
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            body: bytes | str | None = os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file() else None
            links = 0 if p.is_dir() and not p.is_symlink() else st.st_nlink   # a folder's count follows subfolders
            out[str(p.relative_to(root))] = (st.st_mode, links, body)
    return out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the target that a restore must never touch, with a file to aim at."""
    o = tmp_path / "outside"
    o.mkdir()
    (o / "victim").write_text("original\n")
    return o


def test_dotdot_absolute_and_unsafe_names_are_refused(repo: Repository, tmp_path: Path, outside: Path) -> None:
    c = chunk_list(repo, tmp_path)
    nodes = [
        d("r"), f("r/ok.txt", c),
        f("r/../../outside/victim", c),            # climbs out of the root, then the target
        f("../outside/dotdot", c),                 # climbs from the top
        f(f"{outside}/absolute", c),               # an absolute name
        f("r//empty-part", c), f("r/./dot-part", c), f("r/nul\0name", c),
        f("r/hl-absolute", c, hl=str(outside / "victim")),   # hard link to an absolute path
        f("r/hl-dotdot", c, hl="r/../../outside/victim"),    # hard link climbing out
    ]
    sid = craft(repo, nodes, {"r": "/r"})
    target = tmp_path / "work" / "t"
    target.parent.mkdir()
    before = listing(tmp_path, target)
    with pytest.raises(PathEscape) as err:
        fresh(tmp_path).restore(sid, target)
    assert listing(tmp_path, target) == before, "something outside the target changed"
    assert (outside / "victim").stat().st_nlink == 1
    assert os.listdir(target) == ["r"] and os.listdir(target / "r") == ["ok.txt"]
    assert (target / "r" / "ok.txt").read_bytes() == CONTENT
    msg = err.value.message
    assert msg.startswith("Refused: 8 entries refused and not restored (nothing was written outside the target)")
    for shown in ("'r/../../outside/victim': not a safe relative path", "'../outside/dotdot': not a safe",
                  f"'{outside}/absolute': not a safe", "'r//empty-part': not a safe", "'r/./dot-part': not a safe",
                  "'r/nul\\x00name': not a safe",
                  f"r/hl-absolute: hard link to '{outside}/victim', not a safe relative path",
                  "r/hl-dotdot: hard link to 'r/../../outside/victim', not a safe relative path"):
        assert shown in msg, (shown, msg)


def test_unsafe_root_names_are_refused(repo: Repository, tmp_path: Path, outside: Path) -> None:
    """Root names become folder names in the target: one safe component each, or nothing."""
    c = chunk_list(repo, tmp_path)
    nodes = [d("r"), f("r/ok.txt", c), d(".."), f("../up", c), f("a/b/slashed", c)]
    sid = craft(repo, nodes, {"r": "/r", "..": "/up", "a/b": "/slashed", str(outside): "/abs", "": "/empty"})
    target = tmp_path / "work" / "t"
    target.parent.mkdir()
    before = listing(tmp_path, target)
    with pytest.raises(PathEscape) as err:
        fresh(tmp_path).restore(sid, target)
    assert listing(tmp_path, target) == before, "something outside the target changed"
    assert os.listdir(target) == ["r"] and os.listdir(target / "r") == ["ok.txt"]
    msg = err.value.message
    for shown in ("'..': root name is not a safe folder name", "'a/b': root name is not", f"'{outside}': root name",
                  "'': root name", "'..': not a safe relative path", "'../up': not a safe relative path"):
        assert shown in msg, (shown, msg)


@pytest.mark.parametrize("allow_external", [False, True], ids=["target", "original-location"])
def test_nothing_is_written_through_a_symlink_from_the_recovery_point(
        repo: Repository, tmp_path: Path, outside: Path, allow_external: bool) -> None:
    c = chunk_list(repo, tmp_path)
    nodes = [
        d("r"), f("r/ok.txt", c), d("r/sub"), d("r/d"),
        ln("r/link", str(outside)), f("r/link/through", c), d("r/link/newdir"), f("r/link/newdir/deep", c),
        f("r/link/victim", c),                           # would overwrite outside/victim if followed
        ln("r/inlink", "sub"), f("r/inlink/through", c),  # a link inside the root is not entered either
        ln("r/d/up", ".."), ln("r/chain", "d/up/.."),     # each inside alone; chained, r/d/up/.. is outside
        f("r/hl-to-link", c, hl="r/link"),               # a hard link must name a file
        f("r/hl-ok", c, hl="r/ok.txt"),
    ]
    sid = craft(repo, nodes, {"r": "/r"})
    target = tmp_path / "t"
    before = listing(tmp_path, target)
    with pytest.raises(PathEscape) as err:
        fresh(tmp_path).restore(sid, target, allow_external_symlinks=allow_external)
    assert listing(tmp_path, target) == before, "something outside the target changed"
    r = target / "r"
    assert (r / "ok.txt").read_bytes() == CONTENT and os.path.samefile(r / "hl-ok", r / "ok.txt")
    assert os.listdir(r / "sub") == [] and os.readlink(r / "inlink") == "sub"
    assert os.readlink(r / "d" / "up") == ".."
    msg = err.value.message
    for entry in ("r/link/through", "r/link/newdir", "r/inlink/through", "r/hl-to-link"):
        assert f"{entry}: " in msg, (entry, msg)
    assert "r/inlink is a symlink in the target; not followed" in msg
    assert "r/hl-to-link: hard link to r/link, which is not a file restored in the target" in msg
    if allow_external:   # recreated as it was (OriginalLocation), but never entered
        assert os.readlink(r / "link") == str(outside) and os.readlink(r / "chain") == "d/up/.."
        assert "r/link is a symlink in the target; not followed" in msg
    else:
        assert not os.path.lexists(r / "link") and not os.path.lexists(r / "chain")
        assert f"r/link: symlink points outside the restore root ({outside})" in msg
        assert "r/chain: symlink points outside the restore root (d/up/..)" in msg


def test_malformed_entries_fail_clearly_and_the_rest_is_restored(repo: Repository, tmp_path: Path) -> None:
    c = chunk_list(repo, tmp_path)
    nodes = [d("r"), f("r/ok.txt", c), {**f("r/bad-mode", c), "m": "rwx"}, {**d("r/bad-type"), "t": "x"},
             f("r/bad-chunk", [["zz", len(CONTENT)]]), {**f("r/bad-size", c), "s": 1 << 40},
             {**ln("r/nul-link", "x"), "l": "a\0b"}]
    sid = craft(repo, nodes, {"r": "/r"})
    with pytest.raises(VaultCorrupt) as err:
        fresh(tmp_path).restore(sid, tmp_path / "t")
    assert os.listdir(tmp_path / "t" / "r") == ["ok.txt"]
    msg = err.value.message
    assert msg.startswith("Vault data is corrupt: 5 file(s) could not be restored")
    for shown in ("r/bad-mode: malformed entry", "r/bad-type: malformed entry", "r/bad-chunk: malformed chunk id",
                  "r/bad-size: malformed entry", "r/nul-link: malformed entry"):
        assert shown in msg, (shown, msg)


class Swapper:
    """A progress callback that, once, waits until ``ready`` exists (the restore's walking
    thread has created that file and is now waiting for the batch this callback runs in),
    then calls ``swap``: the target changes at a known point of the restore."""

    def __init__(self, ready: Path, swap: Callable[[], None]) -> None:
        self.ready, self.swap = ready, swap
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._started = False

    def __call__(self, _p: Progress) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        deadline = time.monotonic() + 20
        while not self.ready.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        if self.ready.exists():
            self.swap()
            self.done.set()


def _swap_to_symlink(folder: Path, outside: Path) -> Callable[[], None]:
    def swap() -> None:
        shutil.rmtree(folder)
        os.symlink(outside, folder)
    return swap


def test_folder_swapped_for_a_symlink_before_it_is_entered(repo: Repository, tmp_path: Path, outside: Path) -> None:
    """r/b is created, then replaced by a symlink to ``outside`` before the restore first
    opens it: the open (O_NOFOLLOW) fails and every entry below r/b is refused."""
    c = chunk_list(repo, tmp_path)
    n = BATCH_FILES
    nodes = ([d("r"), d("r/a"), d("r/b")] + [f(f"r/a/{i:04d}", c) for i in range(n)]   # batch 1: not waited for
             + [d("r/c")] + [f(f"r/c/{i:04d}", c) for i in range(n)]                  # batch 2: waits for batch 1
             + [f("r/b/victim", c), d("r/b/sub"), f("r/b/sub/deep", c), ln("r/b/link", "victim")])
    sid = craft(repo, nodes, {"r": "/r"})
    target = tmp_path / "t"
    swapper = Swapper(target / "r" / "c" / f"{n - 1:04d}", _swap_to_symlink(target / "r" / "b", outside))
    before = listing(tmp_path, target)
    with pytest.raises(PathEscape) as err:
        fresh(tmp_path).restore(sid, target, progress=swapper)
    assert swapper.done.is_set(), "the swap never happened: the test no longer hits its point"
    assert listing(tmp_path, target) == before, "something was written through the swapped-in symlink"
    assert os.readlink(target / "r" / "b") == str(outside)
    assert len(os.listdir(target / "r" / "a")) == n and len(os.listdir(target / "r" / "c")) == n
    msg = err.value.message
    assert msg.startswith("Refused: 5 entries refused")
    for entry in ("r/b/victim", "r/b/sub", "r/b/sub/deep", "r/b/link"):
        assert f"{entry}: r/b is a symlink in the target; not followed" in msg, (entry, msg)
    assert "r/b: r/b is a symlink in the target; not followed; its mode and times were not set" in msg


def test_folder_swapped_for_a_symlink_while_being_filled(repo: Repository, tmp_path: Path, outside: Path) -> None:
    """A real backup; while the restore fills src/b (its folder fd already open), src/b is
    deleted and replaced by a symlink to ``outside``. The restore keeps using the folder it
    created, never the name: entries still to come in src/b are refused, none lands outside."""
    n = BATCH_FILES
    src = tmp_path / "src"
    for sub, count in (("a", n), ("b", n + 20)):
        (src / sub).mkdir(parents=True)
        for i in range(count):
            (src / sub / f"{i:04d}").write_bytes(CONTENT)
    (src / "b" / "sub").mkdir()
    (src / "b" / "sub" / "deep").write_bytes(CONTENT)
    sid = repo.backup([src]).snapshot_id
    target = tmp_path / "t"
    swapper = Swapper(target / "src" / "b" / f"{n - 1:04d}", _swap_to_symlink(target / "src" / "b", outside))
    before = listing(tmp_path, target)
    with pytest.raises(PathEscape) as err:
        fresh(tmp_path).restore(sid, target, progress=swapper)
    assert swapper.done.is_set(), "the swap never happened: the test no longer hits its point"
    assert listing(tmp_path, target) == before, "something was written through the swapped-in symlink"
    assert len(os.listdir(target / "src" / "a")) == n
    msg = err.value.message
    assert msg.startswith("Refused: 22 entries refused")   # 20 files, sub and sub/deep
    assert f"src/b/{n:04d}: src/b/{n:04d} or its folder is missing from the target" in msg
