"""The audit log: every mutating API request, one line each, in a keyed hash chain.
Writing and reading live here; :mod:`strongbox.services.audit_verify` checks the chain.

Files (folder ``data_dir/audit``, 0700; files 0600):

``audit.log``   JSON lines, one record per request, appended and never rewritten.
``audit.head``  the *anchor*: the seq and hash of the newest record, with its own MAC.
``keys/audit.key``  32 random bytes, the chain's HMAC key (created on first use).

A record (format ``v`` 1) is a JSON object whose keys are, in this order: ``v``, ``seq``
(1, 2, 3 … with no gaps), ``time`` (UTC, ISO-8601 with ``Z``), ``token_id``, ``role``,
``subscription`` (the token's), ``client`` (its address), ``method``, ``operation`` (the
handler's name, Azure's operation in snake case), ``resource`` (the path, no query),
``request_id``, ``client_request_id``, ``status`` (HTTP), ``result`` (``Succeeded``,
``Accepted`` or ``Failed``), ``error`` (the error code or null), optionally ``note`` and
``break``, then ``prev`` (the previous record's hash; 64 zeros for the first) and ``hash``.
``hash`` is HMAC-SHA256, keyed with ``audit.key``, over the line as written up to but
excluding ``,"hash":…`` and with the closing ``}`` (compact separators, ASCII-escaped, keys
in file order): a line can only be re-made byte for byte, so any edit shows. Tokens,
secrets and bodies are never recorded.

Invariants:

* One append at a time, across threads and processes: each append opens the log, takes
  ``flock(LOCK_EX)``, reads the last line and the anchor, writes one whole line with one
  ``write``, fsyncs, then rewrites the anchor and fsyncs it. A failed write is cut back off
  before the lock is released. Readers take ``LOCK_SH`` only long enough to note the size
  and the anchor, then read that much without it.
* A crash can leave at most an incomplete last line (dropped by the next append, which says
  so in its ``note``) or an anchor one record behind the log (the record after it cannot be
  forged without the key). Neither is tampering.
* The appender checks the log against the anchor before extending it. If records were
  removed from the end, or the last one replaced, the new record carries ``break``
  describing it, so the evidence outlives the next append; ``verify`` fails on it for good.
* The key is separate from the master key: rotating the master key (``strongbox key
  rotate``) must not orphan the history, and ``audit verify`` needs no vault secret. Whoever
  can write the log but not read ``keys/`` cannot forge it; whoever can read the key can.
  Keep off-host copies of the anchor's hash (``audit verify`` prints it) to catch that.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from strongbox.domain.errors import StrongboxError
from strongbox.keyfiles import create_private_file, fsync_dir, private_dir

FORMAT_VERSION = 1
GENESIS = "0" * 64
LOG_FILE = "audit.log"
HEAD_FILE = "audit.head"
KEY_FILE = "audit.key"
KEY_BYTES = 32
MAX_FIELD = 2048            # longer strings (a hostile path) are cut, with a marker
_HEAD_DOMAIN = b"strongbox-audit-head\x00"
_BLOCK = 8192


class AuditLogTampered(StrongboxError):
    """The audit log fails verification at {where}: {detail}"""

    code = "AuditLogTampered"
    http_status = 500       # never answers a request: `strongbox audit verify` only
    exit_code = 8


@dataclass(frozen=True)
class AuditEvent:
    """What one request says about itself; the log adds seq, time and the chain."""

    method: str
    resource: str
    status: int
    operation: str | None = None
    error: str | None = None
    token_id: str | None = None
    role: str | None = None
    subscription: str | None = None
    client: str | None = None
    request_id: str | None = None
    client_request_id: str | None = None


def result_of(status: int) -> str:
    return "Failed" if status >= 400 else "Accepted" if status == 202 else "Succeeded"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _clip(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_FIELD:
        return value
    return value[:MAX_FIELD] + f"…[{len(value) - MAX_FIELD} more characters]"


def dump_record(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def record_mac(key: bytes, body: dict[str, Any]) -> str:
    """A record's ``hash``: over the record without it, exactly as the line holds it."""
    return hmac.new(key, dump_record(body), hashlib.sha256).hexdigest()


class AuditLog:
    def __init__(self, directory: Path, keys_dir: Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.directory = directory
        self.log_path = directory / LOG_FILE
        self.head_path = directory / HEAD_FILE
        self.key_path = keys_dir / KEY_FILE
        self._clock = clock
        self._key: bytes | None = None
        self._ready = False     # the folder exists

    # --- keys and hashes -------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the folder and the key now, so that the first request pays for neither."""
        private_dir(self.directory)
        self._ready = True
        self._signing_key()

    def _signing_key(self) -> bytes:
        if self._key is None:
            try:
                key = self.key_path.read_bytes()
            except FileNotFoundError:
                key = create_private_file(self.key_path, os.urandom(KEY_BYTES))
            self._key = self._checked(key)
        return self._key

    def stored_key(self) -> bytes | None:
        """The key as it is on disk (never created here); None if there is none."""
        try:
            return self._checked(self.key_path.read_bytes())
        except FileNotFoundError:
            return None

    def _checked(self, key: bytes) -> bytes:
        if len(key) != KEY_BYTES:
            raise AuditLogTampered(where=str(self.key_path), detail=f"the key has {len(key)} bytes, not {KEY_BYTES}")
        return key

    def _head_mac(self, key: bytes, seq: int, digest: str) -> str:
        return hmac.new(key, _HEAD_DOMAIN + f"{seq}:{digest}".encode(), hashlib.sha256).hexdigest()

    # --- append ----------------------------------------------------------------------------

    def append(self, event: AuditEvent) -> dict[str, Any]:
        """Write one record, durably, and return it."""
        key = self._signing_key()
        if not self._ready:
            private_dir(self.directory)
            self._ready = True
        fd = os.open(self.log_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            last, complete = _last_line(fd, size)
            notes: list[str] = []
            if complete < size:
                os.ftruncate(fd, complete)
                notes.append(f"dropped {size - complete} bytes of an incomplete last line (an interrupted append)")
            seq, prev, broken = self._predecessor(key, last)
            record: dict[str, Any] = {
                "v": FORMAT_VERSION, "seq": seq + 1,
                "time": self._clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "token_id": event.token_id, "role": event.role, "subscription": event.subscription,
                "client": event.client, "method": event.method, "operation": event.operation,
                "resource": _clip(event.resource), "request_id": _clip(event.request_id),
                "client_request_id": _clip(event.client_request_id), "status": event.status,
                "result": result_of(event.status), "error": _clip(event.error),
            }
            if notes:
                record["note"] = "; ".join(notes)
            if broken:
                record["break"] = broken
            record["prev"] = prev
            record["hash"] = record_mac(key, record)
            try:
                _write_all(fd, dump_record(record) + b"\n")
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, complete)   # never leave a half line behind
                raise
            self._write_head(key, record["seq"], record["hash"])
            if size == 0:
                fsync_dir(self.directory)
            return record
        finally:
            os.close(fd)   # releases the lock

    def _predecessor(self, key: bytes, last: bytes | None) -> tuple[int, str, str | None]:
        """(seq, hash) to chain the next record to, and what is wrong, if anything."""
        head = self._read_head(key)
        record = parse_record(last) if last is not None else None
        if last is not None and record is None:
            fallback = (head[0], head[1]) if isinstance(head, tuple) else (0, GENESIS)
            return fallback[0], fallback[1], "the last line of the log is not a record"
        seq, digest = (record["seq"], record["hash"]) if record is not None else (0, GENESIS)
        if isinstance(head, str):
            return seq, digest, head
        if head is None:
            return seq, digest, (f"the anchor {HEAD_FILE} is missing but the log holds records" if seq > 1 else None)
        if head[0] > seq:
            return seq, digest, (f"the log ended at record {seq} but its anchor names record {head[0]}: "
                                 f"records were removed from the end")
        if head[0] == seq and head[1] != digest:
            return seq, digest, f"record {seq} differs from the one its anchor names: the last line was replaced"
        return seq, digest, None

    def _read_head(self, key: bytes) -> tuple[int, str] | str | None:
        try:
            return self.parse_head(key, self.head_path.read_bytes())
        except FileNotFoundError:
            return None

    def parse_head(self, key: bytes, raw: bytes | None) -> tuple[int, str] | str | None:
        """The anchor's (seq, hash); a string saying what is wrong with it; None if absent."""
        if raw is None:
            return None
        try:
            head = json.loads(raw)
            seq, digest, mac = head["seq"], head["hash"], head["mac"]
        except (ValueError, TypeError, KeyError, RecursionError):
            return f"the anchor {HEAD_FILE} is unreadable"
        if not (isinstance(seq, int) and isinstance(digest, str) and isinstance(mac, str)
                and same_digest(mac, self._head_mac(key, seq, digest))):
            return f"the anchor {HEAD_FILE} was altered (its MAC does not match)"
        return seq, digest

    def _write_head(self, key: bytes, seq: int, digest: str) -> None:
        content = dump_record({"v": FORMAT_VERSION, "seq": seq, "hash": digest,
                         "mac": self._head_mac(key, seq, digest)}) + b"\n"
        fd = os.open(self.head_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            os.pwrite(fd, content, 0)   # one small write in place: one sector, one fsync
            os.ftruncate(fd, len(content))
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- read ------------------------------------------------------------------------------

    def snapshot(self, f: BinaryIO) -> tuple[int, bytes | None]:
        """The log's size and the anchor's bytes at one instant between appends. Reading then
        goes on without the lock (appends only add past that size): a slow reader such as
        ``audit list | less`` never holds the server up."""
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)
        try:
            size = os.fstat(f.fileno()).st_size
            try:
                head = self.head_path.read_bytes()
            except FileNotFoundError:
                head = None
            return size, head
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete, parseable record, oldest first (nothing is verified here)."""
        try:
            f = open(self.log_path, "rb")
        except FileNotFoundError:
            return
        with f:
            size, _ = self.snapshot(f)
            for raw in lines_within(f, size):
                record = parse_record(raw[:-1]) if raw.endswith(b"\n") else None
                if record is not None:
                    yield record


def parse_record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int) \
            or not isinstance(record.get("hash"), str) or not isinstance(record.get("prev"), str):
        return None
    return record


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def lines_within(f: BinaryIO, size: int) -> Iterator[bytes]:
    """The lines within the first ``size`` bytes; a last line cut at ``size`` has no newline."""
    left = size
    while left > 0:
        raw = f.readline(left)
        if not raw:
            return
        left -= len(raw)
        yield raw


def _last_line(fd: int, size: int) -> tuple[bytes | None, int]:
    """The last complete line (without its newline) and the offset where complete lines end;
    bytes past that offset are an incomplete line."""
    buf, pos = b"", size
    while pos > 0:
        step = min(_BLOCK, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        end = buf.rfind(b"\n")
        if end < 0:
            continue
        start = buf.rfind(b"\n", 0, end)
        if start >= 0 or pos == 0:
            return buf[start + 1:end], pos + end + 1
    return None, 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
