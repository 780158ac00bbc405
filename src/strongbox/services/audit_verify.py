"""Checking the audit log (:mod:`strongbox.services.audit`): every line's hash, the chain,
seq continuity and the anchor, in one pass and constant memory.

The verdict names the first problem, its line (1-based) and its kind:

``edited``     the line's hash does not match its content (or the key is not the log's)
``malformed``  the line is not a record at all
``deleted``    records are missing before this line (a seq gap, the missing ones nowhere)
``reordered``  the expected record is elsewhere in the file, or this one came before
``replaced``   an authentic record that does not follow its predecessor (``prev``), or
               not the record the anchor names
``break``      the server found the log altered when it wrote this record
``truncated``  the anchor names a record past the end: the last line was cut short, or
               records were removed from the end
``anchor``     ``audit.head`` is missing (with more than one record), unreadable or altered
``key``        ``keys/audit.key`` is missing

An incomplete last line after intact, anchored records is what a crash mid-append leaves:
a warning, not a problem (the next append drops it).
"""

from __future__ import annotations

from dataclasses import dataclass

from strongbox.services.audit import (
    GENESIS,
    HEAD_FILE,
    LOG_FILE,
    AuditLog,
    dump_record,
    lines_within,
    parse_record,
    record_mac,
    same_digest,
)


@dataclass(frozen=True)
class Problem:
    line: int | None        # 1-based; None when the problem is the anchor or the key
    kind: str               # one of the kinds above
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


def verify(log: AuditLog) -> Verdict:
    """Walk the chain; the first problem found, with its line number and what it means."""
    try:
        f = open(log.log_path, "rb")
    except FileNotFoundError:
        if log.head_path.exists():
            return Verdict(0, GENESIS, Problem(None, "deleted", f"{LOG_FILE} is missing but its anchor exists"))
        return Verdict(0, GENESIS)
    with f:
        key = log.stored_key()
        if key is None:
            return Verdict(0, GENESIS, Problem(None, "key", f"the key {log.key_path} is missing: "
                                                            "the log cannot be verified"))
        size, head = log.snapshot(f)
        anchor = log.parse_head(key, head)
        walk = _Walk(key, anchor[0] if isinstance(anchor, tuple) else None)
        for raw in lines_within(f, size):
            walk.line(raw)
    return walk.verdict(anchor)


class _Walk:
    """One pass over the log in constant memory: the first problem, and what is needed to name
    it. Up to the first problem, record ``n`` is on line ``n`` (the chain starts at 1 on line 1
    and every line before a problem is a good record); after a gap, the walk only looks for
    the record that was expected there, to tell a moved record from a deleted one."""

    def __init__(self, key: bytes, anchor_seq: int | None) -> None:
        self.key, self.anchor_seq = key, anchor_seq
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
        record = parse_record(raw[:-1])
        if record is None:
            self._fail("malformed", "the line is not an audit record")
            return
        body = {k: v for k, v in record.items() if k != "hash"}
        if list(record)[-1:] != ["hash"] or not same_digest(record["hash"], record_mac(self.key, body)) \
                or dump_record(record) + b"\n" != raw:
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
