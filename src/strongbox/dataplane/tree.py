"""The tree of a recovery point: a stream of JSON lines, one node per line, in DFS order.

Each node is a JSON object. Keys:
``p`` path (``<root name>/a/b``, '/'-separated, never absolute, no ``.``/``..``),
``t`` type (``d`` folder, ``f`` file, ``l`` symlink), ``m`` mode (permission bits),
``u``/``g`` uid/gid, ``mt`` mtime in ns; files add ``s`` size and ``c`` the content as a
list of ``[chunk id hex, length]`` or ``[null, length]`` for a hole (a run of zeros that
is restored sparse); a file whose inode was already seen in this snapshot adds ``hl``, the
path of the first one (restore links them); symlinks add ``l``, the target.
Children follow their folder, names sorted, so the order is lexicographic over path
components. The stream is cut with FastCDC into tree chunks that are stored exactly like
data chunks (kind ``tree``), so unchanged parts of the tree dedupe across snapshots.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pyfastcdc import FastCDC

from strongbox.dataplane import jsonl

Node = dict[str, Any]
_FLUSH_AT = 8 * 1024 * 1024
_INT64 = 1 << 63
_ID_MAX = 1 << 32


def encode_node(node: Node) -> bytes:
    return jsonl.dumps(node) + b"\n"


class TreeWriter:
    """Buffers encoded nodes and hands content-defined tree chunks to ``sink``."""

    def __init__(self, cdc: FastCDC, sink: Callable[[bytes], str]) -> None:
        self._cdc = cdc
        self._sink = sink
        self._buf = bytearray()
        self.chunk_ids: list[str] = []

    def add(self, node: Node) -> None:
        self.add_line(encode_node(node))

    def add_line(self, line: bytes) -> None:
        """Add a node already encoded by :func:`encode_node`."""
        self._buf += line
        if len(self._buf) >= _FLUSH_AT:
            self._cut(final=False)

    def _cut(self, final: bool) -> None:
        chunks = [(c.offset, c.length) for c in self._cdc.cut_buf(bytes(self._buf))]
        if not final:
            chunks = chunks[:-1]  # the tail is re-cut with what follows
        end = 0
        for off, length in chunks:
            self.chunk_ids.append(self._sink(bytes(self._buf[off:off + length])))
            end = off + length
        del self._buf[:end]

    def close(self) -> list[str]:
        if self._buf:
            self._cut(final=True)
        return self.chunk_ids


def read_tree(chunk_ids: Iterable[str], fetch: Callable[[bytes], bytes]) -> Iterator[Node]:
    tail = b""
    for cid in chunk_ids:
        data = tail + fetch(bytes.fromhex(cid))
        lines = data.split(b"\n")
        tail = lines.pop()
        for line in lines:
            yield jsonl.loads(line)
    if tail.strip():
        yield jsonl.loads(tail)


def valid_path(path: str) -> bool:
    """A tree path that cannot escape its restore root."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\0" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def valid_name(name: object) -> bool:
    """One path component (a root name): not empty, not ``.``/``..``, no ``/`` or NUL."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def path_key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def node_problem(node: Node) -> str | None:
    """What is wrong with a node's fields (its path is checked by :func:`valid_path`), or None:
    a crafted or damaged tree must fail one entry clearly, never crash a restore."""
    kind = node.get("t")
    if kind not in ("d", "f", "l"):
        return f"unknown entry type {kind!r}"
    m, u, g, mt = node.get("m"), node.get("u"), node.get("g"), node.get("mt")
    if not (type(m) is int and type(u) is int and type(g) is int and type(mt) is int
            and 0 <= m <= 0o7777 and 0 <= u < _ID_MAX and 0 <= g < _ID_MAX and -_INT64 < mt < _INT64):
        return "mode, owner or mtime is not an integer in range"
    if kind == "l":
        target = node.get("l")
        if not isinstance(target, str) or not target or "\0" in target:
            return "symlink target is empty or not text"
    elif kind == "f":
        size, content = node.get("s", 0), node.get("c", [])
        if type(size) is not int or size < 0 or not isinstance(content, list):
            return "size or content list is malformed"
        total = 0
        for c in content:
            if type(c) is not list or len(c) != 2 or type(c[1]) is not int or c[1] < 0 \
                    or not (c[0] is None or type(c[0]) is str):
                return "content list is malformed"
            total += c[1]
        if total != size:
            return f"content adds up to {total} bytes, not {size}"
    return None
