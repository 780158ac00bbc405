"""JSON for the hot paths (tree nodes, the files cache): orjson, with the stdlib as fallback.

orjson encodes a tree node about 17 times faster than ``json.dumps`` (measured: 0.3 µs
against 5.1 µs), which matters for backups of many small files, where the walking thread
encodes every node twice (tree, files cache). Both write compact JSON; they differ only in
how they spell non-ASCII (orjson: UTF-8, json: ``\\u`` escapes), and each reads the other's.
orjson refuses what is not valid UTF-8 (file names with undecodable bytes, kept by Python as
lone surrogates) and integers beyond 64 bits: those values go through ``json``, which
escapes them, and read back through it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact JSON as bytes (no trailing newline)."""
    try:
        return orjson.dumps(value)
    except TypeError:   # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
