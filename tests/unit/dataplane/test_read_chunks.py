"""backup.read_chunks cuts a file exactly as FastCDC's own stream reader does.

read_chunks reads a file of at most _WHOLE bytes in one piece and cuts it with ``cut_buf``,
and streams larger ones (and ones that grew since the walk). These tests lower _WHOLE so that
files of a few MiB take either path, and compare every chunk (offset, length and bytes) with
``cut_stream`` over the same file."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from pyfastcdc import FastCDC

from strongbox.dataplane import backup
from strongbox.dataplane.context import CHUNK_AVG, CHUNK_MAX, CHUNK_MIN

SIZES = [0, 1, CHUNK_MIN, CHUNK_MAX - 1, CHUNK_MAX, CHUNK_MAX + 1, 2 * CHUNK_MAX, 5 * CHUNK_MAX + 12345]


def _data(kind: str, size: int) -> bytes:
    if kind == "zeros":
        return bytes(size)
    rnd = random.Random(size)
    if kind == "random":
        return rnd.randbytes(size)
    # runs of zeros, repeats and noise: cuts at the minimum, the maximum and in between
    out = bytearray()
    while len(out) < size:
        pick = rnd.random()
        n = rnd.randrange(1, CHUNK_MAX)
        out += bytes(n) if pick < 0.3 else (out[-n:] if pick < 0.5 and len(out) >= n else rnd.randbytes(n))
    return bytes(out[:size])


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["random", "zeros", "mixed"])
@pytest.mark.parametrize("hint", ["exact", "smaller", "larger"])
def test_read_chunks_cuts_like_cut_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          size: int, kind: str, hint: str) -> None:
    monkeypatch.setattr(backup, "_WHOLE", CHUNK_MAX + CHUNK_MIN)
    cdc = FastCDC(CHUNK_AVG - CHUNK_MIN, min_size=CHUNK_MIN, max_size=CHUNK_MAX, normalized_chunking=1, seed=7)
    data = _data(kind, size)
    path = tmp_path / "f"
    path.write_bytes(data)
    with open(path, "rb", buffering=0) as f:
        expected = [(c.offset, c.length) for c in cdc.cut_stream(f)]
    # The walk's size is only a hint: the file may have grown or shrunk since.
    size_hint = {"exact": size, "smaller": size // 3, "larger": size * 2 + 10}[hint]
    fd = os.open(path, os.O_RDONLY)
    try:
        got = []
        offset = 0
        for view in backup.read_chunks(cdc, fd, size_hint):
            assert bytes(view) == data[offset:offset + len(view)]
            got.append((offset, len(view)))
            offset += len(view)
    finally:
        os.close(fd)
    assert got == expected
    assert offset == size
