"""The audit log: every mutating API request, one line each, in a keyed hash chain.

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
  ``write``, fsyncs, then rewrites the anchor and fsyncs it. Readers (``verify``) take
  ``LOCK_SH``. A failed write is cut back off before the lock is released.
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
from strongbox.keyfiles import create_private_file, private_dir

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


@dataclass(frozen=True)
class Problem:
    line: int | None        # 1-based; None when the problem is the anchor or the key
    kind: str               # edited, deleted, reordered, replaced, truncated, malformed, break, anchor, key
    detail: str


@dataclass(frozen=True)
class Verdict:
    records: int
    head: str               # the newest record's hash (GENESIS for an empty log)
    problem: Problem | None = None
    warning: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def result_of(status: int) -> str:
    return "Failed" if status >= 400 else "Accepted" if status == 202 else "Succeeded"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _clip(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_FIELD:
        return value
    return value[:MAX_FIELD] + f"…[{len(value) - MAX_FIELD} more characters]"


def _dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("ascii")


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

    def _checked(self, key: bytes) -> bytes:
        if len(key) != KEY_BYTES:
            raise AuditLogTampered(where=str(self.key_path), detail=f"the key has {len(key)} bytes, not {KEY_BYTES}")
        return key

    def _mac(self, key: bytes, body: dict[str, Any]) -> str:
        return hmac.new(key, _dump(body), hashlib.sha256).hexdigest()

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
            record["hash"] = self._mac(key, record)
            try:
                _write_all(fd, _dump(record) + b"\n")
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, complete)   # never leave a half line behind
                raise
            self._write_head(key, record["seq"], record["hash"])
            if size == 0:
                _fsync_dir(self.directory)
            return record
        finally:
            os.close(fd)   # releases the lock

    def _predecessor(self, key: bytes, last: bytes | None) -> tuple[int, str, str | None]:
        """(seq, hash) to chain the next record to, and what is wrong, if anything."""
        head = self._read_head(key)
        record = _parse(last) if last is not None else None
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
            return self._parse_head(key, self.head_path.read_bytes())
        except FileNotFoundError:
            return None

    def _parse_head(self, key: bytes, raw: bytes | None) -> tuple[int, str] | str | None:
        """The anchor's (seq, hash); a string saying what is wrong with it; None if absent."""
        if raw is None:
            return None
        try:
            head = json.loads(raw)
            seq, digest, mac = head["seq"], head["hash"], head["mac"]
        except (ValueError, TypeError, KeyError, RecursionError):
            return f"the anchor {HEAD_FILE} is unreadable"
        if not (isinstance(seq, int) and isinstance(digest, str) and isinstance(mac, str)
                and _same(mac, self._head_mac(key, seq, digest))):
            return f"the anchor {HEAD_FILE} was altered (its MAC does not match)"
        return seq, digest

    def _write_head(self, key: bytes, seq: int, digest: str) -> None:
        content = _dump({"v": FORMAT_VERSION, "seq": seq, "hash": digest,
                         "mac": self._head_mac(key, seq, digest)}) + b"\n"
        fd = os.open(self.head_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            os.pwrite(fd, content, 0)   # one small write in place: one sector, one fsync
            os.ftruncate(fd, len(content))
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- read ------------------------------------------------------------------------------

    def _snapshot(self, f: BinaryIO) -> tuple[int, bytes | None]:
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
            size, _ = self._snapshot(f)
            for raw in _lines(f, size):
                record = _parse(raw[:-1]) if raw.endswith(b"\n") else None
                if record is not None:
                    yield record

    def verify(self) -> Verdict:
        """Walk the chain; the first problem found, with its line number and what it means."""
        try:
            f = open(self.log_path, "rb")
        except FileNotFoundError:
            if self.head_path.exists():
                return Verdict(0, GENESIS, Problem(None, "deleted", f"{LOG_FILE} is missing but its anchor exists"))
            return Verdict(0, GENESIS)
        with f:
            try:
                key = self._checked(self.key_path.read_bytes())
            except FileNotFoundError:
                return Verdict(0, GENESIS, Problem(None, "key", f"the key {self.key_path} is missing: "
                                                                 "the log cannot be verified"))
            size, head = self._snapshot(f)
            anchor = self._parse_head(key, head)
            walk = _Walk(self, key, anchor[0] if isinstance(anchor, tuple) else None)
            for raw in _lines(f, size):
                walk.line(raw)
        return walk.verdict(anchor)


class _Walk:
    """One pass over the log in constant memory: the first problem, and what is needed to name
    it. Up to the first problem, record ``n`` is on line ``n`` (the chain starts at 1 on line 1
    and every line before a problem is a good record); after a gap, the walk only looks for
    the record that was expected there, to tell a moved record from a deleted one."""

    def __init__(self, log: AuditLog, key: bytes, anchor_seq: int | None) -> None:
        self.log, self.key, self.anchor_seq = log, key, anchor_seq
        self.number = 0                        # lines seen
        self.records = 0                       # lines that are authentic records
        self.expected, self.prev = 1, GENESIS
        self.anchored: tuple[int, str] | None = None   # (line, hash) of the record the anchor names
        self.first: Problem | None = None
        self.gap: tuple[int, int, int] | None = None   # (line, expected seq, found seq)
        self.moved_to: int | None = None       # where the missing record of a gap turned up
        self.torn = False                      # the last line has no newline

    def _found(self) -> bool:
        return self.first is not None or self.gap is not None

    def _fail(self, kind: str, detail: str) -> None:
        if not self._found():
            self.first = Problem(self.number, kind, detail)

    def line(self, raw: bytes) -> None:
        self.number += 1
        if not raw.endswith(b"\n"):   # only ever the last line
            self.torn = True
            return
        record = _parse(raw[:-1])
        if record is None:
            self._fail("malformed", "the line is not an audit record")
            return
        body = {k: v for k, v in record.items() if k != "hash"}
        if list(record)[-1:] != ["hash"] or not _same(record["hash"], self.log._mac(self.key, body)) \
                or _dump(record) + b"\n" != raw:
            hint = " (or the key is not the one this log was written with)" if self.number == 1 else ""
            self._fail("edited", f"its hash does not match its content: the line was edited{hint}")
            return
        seq = record["seq"]
        self.records += 1
        if seq == self.anchor_seq and self.anchored is None:
            self.anchored = (self.number, record["hash"])
        if self.gap is not None and seq == self.gap[1] and self.moved_to is None:
            self.moved_to = self.number
        if seq != self.expected:
            if not self._found():
                self.gap = (self.number, self.expected, seq)
        elif record["prev"] != self.prev:
            self._fail("replaced", f"record {seq} does not follow the line before it (its prev differs): "
                                   "a record was replaced")
        elif "break" in record:
            self._fail("break", f"the server found the log altered when it wrote this record: {record['break']}")
        self.expected, self.prev = seq + 1, record["hash"]

    def _gap_problem(self, line: int, expected: int, found: int) -> Problem:
        if found < expected:
            return Problem(line, "reordered", f"record {found} comes after record {expected - 1} "
                                              f"(it is also at line {found}): lines were reordered or repeated")
        if self.moved_to is not None:
            return Problem(line, "reordered", f"record {found} stands where record {expected} belongs "
                                              f"(record {expected} is at line {self.moved_to}): "
                                              "lines were reordered")
        missing = f"record {expected} is" if found == expected + 1 else f"records {expected} to {found - 1} are"
        return Problem(line, "deleted", f"{missing} missing before this line: lines were deleted")

    def verdict(self, head: tuple[int, str] | str | None) -> Verdict:
        problem = self._gap_problem(*self.gap) if self.gap is not None else self.first
        if problem is None:
            problem = self._anchor_problem(head)
        warning = None
        if problem is None and self.torn:
            warning = (f"line {self.number} is an incomplete record from an interrupted append "
                       "(the records before it are intact; the next append removes it)")
        return Verdict(self.records, self.prev, problem, warning)

    def _anchor_problem(self, head: tuple[int, str] | str | None) -> Problem | None:
        last_seq = self.expected - 1
        if isinstance(head, str):
            return Problem(None, "anchor", head)
        if head is None:
            # The first append writes the log, then the anchor: a crash in between is no tampering.
            return None if last_seq <= 1 else Problem(None, "anchor", f"the anchor {HEAD_FILE} is missing")
        seq, anchored = head
        if seq > last_seq:
            where = "the log holds no record" if last_seq == 0 else f"the log ends at record {last_seq}"
            if self.torn:
                return Problem(self.number, "truncated",
                               f"{where} but its anchor names record {seq}: the last line was cut short")
            return Problem(self.number + 1, "truncated", f"{where} but its anchor names record {seq}: "
                                                         f"{seq - last_seq} record(s) were removed from the end")
        if self.anchored is None or self.anchored[1] != anchored:
            return Problem(self.anchored[0] if self.anchored else None, "replaced",
                           f"record {seq} is not the one its anchor names")
        return None   # records past the anchor (a crash between the two writes) are chained and MACed


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int) \
            or not isinstance(record.get("hash"), str) or not isinstance(record.get("prev"), str):
        return None
    return record


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _lines(f: BinaryIO, size: int) -> Iterator[bytes]:
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
