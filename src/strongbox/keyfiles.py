"""Secret files (master key, token signing key, TLS keys): written once, never partially.

A secret is written to a temporary 0600 file beside its place, fsynced, then hard-linked
into place: a reader never sees a partial file, and when two processes race to create the
same secret the first one wins and both use the winner's bytes. Folders are 0700.
A secret that is replaced (a resealed master key, a KEK) goes through
:func:`replace_private_file`: temp file, fsync, rename, and the folder fsynced.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def create_private_file(path: Path, content: bytes) -> bytes:
    """Write ``content`` to ``path`` (0600) unless the file exists; return what is on disk."""
    private_dir(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        temporary.unlink(missing_ok=True)
    return content


def replace_private_file(path: Path, content: bytes) -> None:
    """Write ``content`` to a 0600 temp file beside ``path``, fsync, rename over ``path``."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
