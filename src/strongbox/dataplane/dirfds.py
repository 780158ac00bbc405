"""Folder handles for restore.

The folder a restore root goes into (the caller's target, or the parent of a declared
source path) is opened once by path and pinned for the whole restore. Every step below it
is opened relative to its parent's fd with ``O_DIRECTORY | O_NOFOLLOW``, so a symlink in
the target, there before the restore or swapped in while it runs, is never followed: the
open fails and the entry is refused (:class:`Blocked`). Handles are cached (LRU, at most
``capacity`` open) so a restore never walks from the root per file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import OrderedDict

_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Blocked(Exception):
    """An entry cannot be reached inside the target without following something that is not
    a folder this restore can enter (a symlink, a file, or nothing at all)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def blocked_reason(err: OSError, shown: str) -> str | None:
    """Why ``err`` (from an operation on ``shown``) means the target is in the way, or None
    when it is an ordinary I/O failure that should end the restore."""
    if err.errno == errno.ELOOP:
        return f"{shown} is a symlink in the target; not followed"
    if err.errno == errno.ENOTDIR:
        return f"{shown} is not a folder in the target; not followed"
    if err.errno == errno.ENOENT:
        return (f"{shown} or its folder is missing from the target (removed during the restore, "
                "or never restored)")
    if err.errno == errno.EISDIR:
        return f"a folder is in the place of {shown}; not replaced"
    return None


def _is_symlink(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


class DirFds:
    def __init__(self, bases: dict[str, tuple[str, str]], capacity: int = 128) -> None:
        # root name -> (parent folder of the root's destination, destination name)
        self.bases = bases
        self.capacity = capacity
        self._fds: OrderedDict[tuple[str, tuple[str, ...]], int] = OrderedDict()
        self._parents: dict[str, int] = {}   # pinned: never evicted, never reopened by path

    def get(self, root: str, comps: tuple[str, ...]) -> int:
        """Folder fd of ``<root dest>/<comps...>``; raises :class:`Blocked` when a step is
        a symlink, not a folder, or missing."""
        key = (root, comps)
        fd = self._fds.get(key)
        if fd is not None:
            self._fds.move_to_end(key)
            return fd
        if not comps:
            fd = self._open_at(self.parent_of_root(root), self.bases[root][1], root)
        else:
            fd = self._open_at(self.get(root, comps[:-1]), comps[-1], "/".join((root,) + comps))
        self._fds[key] = fd
        while len(self._fds) > self.capacity:
            _k, old = self._fds.popitem(last=False)
            os.close(old)
        return fd

    def parent_of_root(self, root: str) -> int:
        path = self.bases[root][0]
        fd = self._parents.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
            self._parents[path] = fd
        return fd

    def locate(self, root: str, comps: tuple[str, ...]) -> tuple[int, str]:
        """(parent folder fd, name) of the entry ``<root>/<comps...>``."""
        if not comps:
            return self.parent_of_root(root), self.bases[root][1]
        return self.get(root, comps[:-1]), comps[-1]

    @staticmethod
    def _open_at(parent: int, name: str, shown: str) -> int:
        try:
            return os.open(name, _FLAGS, dir_fd=parent)
        except OSError as err:
            if err.errno == errno.ENOTDIR and _is_symlink(parent, name):   # Linux says ENOTDIR, not ELOOP
                err = OSError(errno.ELOOP, os.strerror(errno.ELOOP))
            reason = blocked_reason(err, shown)
            if reason is None:
                raise
            raise Blocked(reason) from None

    def close(self) -> None:
        for fd in list(self._fds.values()) + list(self._parents.values()):
            os.close(fd)
        self._fds.clear()
        self._parents.clear()
