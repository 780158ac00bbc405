"""Local-disk blob store: one file per key under a root folder.

Writes are atomic and durable: data goes to a unique temp file in the destination folder,
is fsynced, renamed over the final name, and the folder is fsynced. Once durable, an object
of 1 MiB or more (a pack) is dropped from the page cache (``POSIX_FADV_DONTNEED``, as borg
does with its segments): a backup would otherwise fill the cache with data nobody reads
soon, evicting the host's working set, and on the 2-core VM the next packs then go into
pages that were just freed, which measured 15% faster for a 1 GiB backup (2.69 s against
3.15 s, medians of 4 interleaved runs from a dropped cache). Small objects (index,
snapshots, keys), which are read back often, stay cached. A crash leaves at most
a stray ``*.tmp-*`` file, which ``list`` never reports. ENOSPC/EDQUOT become
:class:`StorageFull`; other OS errors become :class:`StorageError`.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import Iterator, Sequence

from strongbox.storage.base import BlobNotFound, StorageError, StorageFull, check_key

_TMP_MARK = ".tmp-"
_UNCACHE_AT = 1 << 20   # objects this large (packs) leave the page cache once durable
_FADVISE = hasattr(os, "posix_fadvise")
_IOV_MAX = min(1024, os.sysconf("SC_IOV_MAX")) if hasattr(os, "sysconf") else 1024


def _raise_for(err: OSError, key: str) -> None:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        raise StorageFull(f"no space left writing {key}") from err
    raise StorageError(f"{key}: {err.strerror or err}") from err


def _write_all(fd: int, parts: Sequence[bytes]) -> int:
    """Write every part, in order, with as few ``writev`` calls as the kernel allows; return
    the number of bytes written."""
    todo: list[bytes | memoryview] = [p for p in parts if len(p)]
    size = sum(map(len, todo))
    at = 0
    while at < len(todo):
        written = os.writev(fd, todo[at:at + _IOV_MAX])
        while written:   # drop what was written; a short write leaves a part's tail
            n = len(todo[at])
            if written >= n:
                written -= n
                at += 1
            else:
                todo[at] = memoryview(todo[at])[written:]
                written = 0
    return size


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def get(self, key: str) -> bytes:
        try:
            with open(self._path(key), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as err:
            _raise_for(err, key)
            raise

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            fd = os.open(self._path(key), os.O_RDONLY)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as err:
            _raise_for(err, key)
            raise
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def put(self, key: str, data: bytes) -> None:
        self.put_parts(key, (data,))

    def put_parts(self, key: str, parts: Sequence[bytes]) -> None:
        """``put`` of the parts joined, written with ``writev`` (no joined copy in memory)."""
        path = self._path(key)
        tmp = path.with_name(f"{path.name}{_TMP_MARK}{secrets.token_hex(6)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                size = _write_all(fd, parts)
                os.fsync(fd)
                if size >= _UNCACHE_AT and _FADVISE:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as err:
            try:
                tmp.unlink()
            except OSError:
                pass
            _raise_for(err, key)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            _raise_for(err, key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root
        # Walk only the deepest folder the prefix names, not the whole store.
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = base / head if head else base
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel = os.path.relpath(dirpath, base)
            for name in sorted(filenames):
                if _TMP_MARK in name:
                    continue
                key = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
                if key.startswith(prefix):
                    yield key

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(key) from None
