"""Walking backup sources: root naming, a pre-scan for totals, and the DFS walk.

Each declared path becomes one root named by its basename (``name~2``... for duplicates).
The walk never follows symlinks, sorts names, and yields a folder before its children, so
the order is lexicographic over path components (the files cache relies on it).
Unreadable folders are reported through ``on_error`` and skipped, never fatal.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from strongbox.dataplane.errors import SourceMissing


@dataclass(slots=True)
class Entry:
    tree_path: str
    abs_path: str
    st: os.stat_result


def name_roots(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """Return ``[(root name, absolute path)]`` in the given order; missing -> SourceMissing."""
    seen: dict[str, int] = {}
    roots = []
    for p in paths:
        ap = os.path.abspath(os.fspath(p))
        if not os.path.lexists(ap):
            raise SourceMissing(ap)
        base = os.path.basename(ap.rstrip("/")) or "root"
        n = seen.get(base, 0) + 1
        seen[base] = n
        roots.append((base if n == 1 else f"{base}~{n}", ap))
    return roots


def walk(root_name: str, abs_path: str, on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    try:
        st = os.lstat(abs_path)
    except OSError as err:
        on_error(abs_path, err.strerror or str(err))
        return
    yield Entry(root_name, abs_path, st)
    if stat.S_ISDIR(st.st_mode):
        yield from _children(root_name, abs_path, on_error)


def _children(tree_path: str, abs_path: str, on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    """Depth first, names sorted, with an explicit stack: one generator however deep the
    tree (nested ``yield from`` costs every entry a hop per level)."""
    stack: list[tuple[str, Iterator[os.DirEntry[str]]]] = []
    listed = _listing(abs_path, on_error)
    if listed is not None:
        stack.append((tree_path, listed))
    while stack:
        parent, entries = stack[-1]
        e = next(entries, None)
        if e is None:
            stack.pop()
            continue
        tp = f"{parent}/{e.name}"
        try:
            st = e.stat(follow_symlinks=False)
        except OSError as err:
            on_error(e.path, err.strerror or str(err))
            continue
        yield Entry(tp, e.path, st)
        if stat.S_ISDIR(st.st_mode):
            listed = _listing(e.path, on_error)
            if listed is not None:
                stack.append((tp, listed))


def _listing(abs_path: str, on_error: Callable[[str, str], None]) -> Iterator[os.DirEntry[str]] | None:
    try:
        with os.scandir(abs_path) as it:
            return iter(sorted(it, key=lambda e: e.name))
    except OSError as err:
        on_error(abs_path, err.strerror or str(err))
        return None


def prescan(roots: list[tuple[str, str]]) -> tuple[int, int]:
    """Total (bytes, files) of regular files, for progress totals."""
    nbytes = nfiles = 0
    for name, ap in roots:
        for e in walk(name, ap, lambda _p, _r: None):
            if stat.S_ISREG(e.st.st_mode):
                nbytes += e.st.st_size
                nfiles += 1
    return nbytes, nfiles
