"""Real file trees for tests, and a bit-for-bit comparison that includes metadata."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def make_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text("<h1>hello</h1>\n")
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_text("alpha\n" * 1000)
    (root / "docs" / "b.bin").write_bytes(os.urandom(300_000))
    (root / "docs" / "same.bin").write_bytes((root / "docs" / "b.bin").read_bytes())
    (root / "empty-dir").mkdir()
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "nested" / "deeper" / "c.log").write_text("line\n" * 5000)
    os.symlink("docs/a.txt", root / "link-to-a")
    os.chmod(root / "docs" / "a.txt", 0o640)
    os.utime(root / "index.html", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    return root


def make_big_source(root: Path, size: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    per = 8 << 20
    for i in range(max(1, size // per)):
        (root / f"blob{i:02d}.bin").write_bytes(os.urandom(per))
    return root


def describe(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under root: type, mode, mtime (ns), and content hash or link target."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", st.st_mode & 0o7777, st.st_mtime_ns)
            else:
                out[rel] = ("file", st.st_mode & 0o7777, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out
