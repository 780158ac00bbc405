"""The files cache: lets a backup skip reading a file unchanged since the last backup.

A local (never uploaded) file ``<cache_dir>/<vault id>/files-<sources hash>``: a zstd
stream of JSON lines ``[abs path, size, mtime_ns, inode, content]`` in walk order. A file is
reused only if size, mtime_ns and inode all match and every chunk it names is still in the
index. Reading is a merge-walk in walk order, so memory does not grow with file count.
The new cache is written to a temp file and renamed only after the snapshot is stored.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any, Iterator

import zstandard

from strongbox.dataplane import jsonl
from strongbox.dataplane.tree import path_key

Content = list[list[Any]]
_BLOCK = 256 * 1024


def cache_path(cache_dir: Path, vault_id: str, sources: list[str]) -> Path:
    digest = hashlib.sha256("\0".join(sorted(sources)).encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir / vault_id / f"files-{digest[:16]}"


class FilesCacheReader:
    def __init__(self, path: Path | None) -> None:
        self._it: Iterator[list[Any]] = iter(())
        self._fh: Any = None
        if path is not None and path.is_file():
            self._fh = open(path, "rb")
            stream = zstandard.ZstdDecompressor().stream_reader(self._fh)
            self._it = (jsonl.loads(line) for line in io.BufferedReader(stream))
        self._head: list[Any] | None = None
        self._head_key: tuple[str, ...] = ()
        self._advance()

    def _advance(self) -> None:
        try:
            self._head = next(self._it)
            self._head_key = path_key(self._head[0])
        except (StopIteration, ValueError, zstandard.ZstdError, OSError):
            self._head = None

    def lookup(self, abs_path: str, size: int, mtime_ns: int, ino: int) -> Content | None:
        key = path_key(abs_path)
        while self._head is not None and self._head_key < key:
            self._advance()
        h = self._head
        if h is not None and h[0] == abs_path:
            self._advance()
            if h[1] == size and h[2] == mtime_ns and h[3] == ino:
                content: Content = h[4]   # decoded for this lookup alone: the caller may keep it
                return content
        return None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def encode_line(abs_path: str, size: int, mtime_ns: int, ino: int, content: Content) -> bytes:
    return jsonl.dumps([abs_path, size, mtime_ns, ino, content]) + b"\n"


class FilesCacheWriter:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._w: Any = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
            self._fh = open(self._tmp, "wb")
            self._w = zstandard.ZstdCompressor(level=1).stream_writer(self._fh)
        self._buf = bytearray()

    def add_line(self, line: bytes) -> None:
        """Add an entry already encoded by :func:`encode_line`."""
        if self._w is not None:
            # Lines go to the compressor in blocks: one call (and one GIL release) per
            # _BLOCK bytes, not per file.
            self._buf += line
            if len(self._buf) >= _BLOCK:
                self._w.write(self._buf)
                self._buf.clear()

    def commit(self) -> None:
        if self._w is not None and self.path is not None:
            self._w.write(self._buf)
            self._buf.clear()
            self._w.close()
            os.replace(self._tmp, self.path)
            self._w = None

    def abort(self) -> None:
        if self._w is not None:
            self._w.close()
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._w = None
