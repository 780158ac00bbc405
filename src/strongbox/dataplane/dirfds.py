"""Folder handles for restore: every step below a restore root is opened with
``O_NOFOLLOW | O_DIRECTORY`` relative to its parent, so a symlink already present in the
target is never followed. Handles are cached (LRU) and reopened on demand.
"""

from __future__ import annotations

import os
from collections import OrderedDict

from strongbox.dataplane.errors import PathEscape

_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class DirFds:
    def __init__(self, bases: dict[str, tuple[str, str]], capacity: int = 128) -> None:
        # root name -> (parent folder of the root's destination, destination name)
        self.bases = bases
        self.capacity = capacity
        self._fds: OrderedDict[tuple[str, tuple[str, ...]], int] = OrderedDict()

    def get(self, root: str, comps: tuple[str, ...]) -> int:
        """Folder fd of ``<root dest>/<comps...>``; ``comps=()`` with ``parent=True`` semantics
        is :meth:`parent_of_root`."""
        key = (root, comps)
        fd = self._fds.get(key)
        if fd is not None:
            self._fds.move_to_end(key)
            return fd
        if not comps:
            base = self.parent_of_root(root)
            fd = self._open_at(base, self.bases[root][1], root)
        else:
            fd = self._open_at(self.get(root, comps[:-1]), comps[-1], "/".join((root,) + comps))
        self._fds[key] = fd
        while len(self._fds) > self.capacity:
            _k, old = self._fds.popitem(last=False)
            os.close(old)
        return fd

    def parent_of_root(self, root: str) -> int:
        key = (root, ("..",))
        fd = self._fds.get(key)
        if fd is None:
            fd = os.open(self.bases[root][0], os.O_RDONLY | os.O_DIRECTORY)
            self._fds[key] = fd
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
            if err.errno == 40:  # ELOOP: a symlink sits where a folder should be
                raise PathEscape(f"{shown} is a symlink in the target; not following it") from None
            raise

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
