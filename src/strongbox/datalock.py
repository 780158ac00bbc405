"""The data dir's process lock: ``<data_dir>/serve.lock``, an ``flock`` on an empty file.

Every ``strongbox serve`` holds it *shared* for its whole life (several servers may share a
data dir); ``strongbox key rotate`` takes it *exclusive*, without waiting, so it never runs
beside a server and no server starts while it runs. The kernel drops the lock when the
process exits, however it exits: a killed server leaves nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strongbox.domain.errors import DataDirInUse

LOCK_FILE = "serve.lock"


def _open(data_dir: Path) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    return os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def hold_for_serving(data_dir: Path) -> int:
    """Take the shared lock for this process's life; return its fd (keep it open)."""
    fd = _open(data_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirInUse(f"{data_dir} is being changed by `strongbox key rotate`; "
                           "start the server when it has finished") from None
    return fd


@contextmanager
def exclusive(data_dir: Path, doing: str) -> Iterator[None]:
    """Hold the lock alone while ``doing``; refuse at once if a server holds it."""
    fd = _open(data_dir)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUse(f"a strongbox server (or another `strongbox key` command) is using "
                               f"{data_dir}; stop it before {doing}") from None
        yield
    finally:
        os.close(fd)
