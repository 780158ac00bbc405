"""The audit log's chain on real files: appends verify, and every kind of tampering is found
and named by its line (edited, deleted, reordered, replaced, cut short, removed from the end,
an altered anchor, a replaced key), while a crash's leftovers are not mistaken for tampering.
Concurrent appends from threads and from two processes keep one unbroken chain."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strongbox.services import audit
from strongbox.services.audit import GENESIS, AuditEvent, AuditLog
from strongbox.services.audit_verify import verify

TOKEN = "0123456789abcdef0123456789abcdef"
VAULT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"


def event(n: int = 0, status: int = 200, **fields: object) -> AuditEvent:
    base: dict[str, object] = dict(method="PUT", resource=f"{VAULT}{n}", status=status,
                                   operation="vaults_create_or_update", token_id=TOKEN, role="Owner",
                                   subscription="00000000-0000-0000-0000-000000000001", client="127.0.0.1",
                                   request_id=f"req-{n}", client_request_id=None)
    base.update(fields)
    return AuditEvent(**base)  # type: ignore[arg-type]


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit", tmp_path / "keys")


def filled(log: AuditLog, count: int = 5) -> list[bytes]:
    for n in range(count):
        log.append(event(n))
    return log.log_path.read_bytes().splitlines(keepends=True)


def rewrite(log: AuditLog, lines: list[bytes]) -> None:
    log.log_path.write_bytes(b"".join(lines))


def test_records_chain_and_verify(log: AuditLog) -> None:
    first = log.append(event(0, error=None))
    second = log.append(event(1, status=403, error="AuthorizationFailed", method="DELETE"))
    third = log.append(event(2, status=202, method="POST", operation="backups_trigger"))
    assert [r["seq"] for r in (first, second, third)] == [1, 2, 3]
    assert first["prev"] == GENESIS and second["prev"] == first["hash"] and third["prev"] == second["hash"]
    assert (first["result"], second["result"], third["result"]) == ("Succeeded", "Failed", "Accepted")
    assert second["error"] == "AuthorizationFailed"
    assert datetime.fromisoformat(first["time"]).tzinfo is not None and first["time"].endswith("Z")
    assert list(log.records()) == [first, second, third]

    verdict = verify(log)
    assert verdict.intact and verdict.records == 3 and verdict.head == third["hash"] and verdict.warning is None
    assert stat.S_IMODE(log.directory.stat().st_mode) == 0o700
    for path in (log.log_path, log.head_path, log.key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # a fresh object (another process) continues the same chain
    fourth = AuditLog(log.directory, log.key_path.parent).append(event(3))
    assert fourth["seq"] == 4 and fourth["prev"] == third["hash"] and verify(log).intact


def test_an_empty_or_new_log_is_intact(log: AuditLog) -> None:
    assert verify(log).intact and verify(log).records == 0
    log.prepare()
    assert verify(log).intact and list(log.records()) == []


def test_hostile_values_stay_on_one_line(log: AuditLog) -> None:
    log.append(event(0, resource="/x\n{\"seq\": 99}\u2028" + "a" * 5000, client_request_id="id\r\nX: y"))
    lines = log.log_path.read_bytes().splitlines()
    assert len(lines) == 1 and lines[0].isascii()
    record = json.loads(lines[0])
    assert record["resource"].startswith("/x\n{") and record["resource"].endswith("more characters]")
    assert len(record["resource"]) < 2200
    assert verify(log).intact


def test_an_edited_field_is_found_on_its_line(log: AuditLog) -> None:
    lines = filled(log)
    lines[2] = lines[2].replace(b'"status":200', b'"status":201')
    rewrite(log, lines)
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (3, "edited")


def test_a_reformatted_line_is_an_edit(log: AuditLog) -> None:
    lines = filled(log, 3)
    lines[1] = lines[1].replace(b'"v":1,', b'"v": 1,')
    rewrite(log, lines)
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (2, "edited")


def test_a_deleted_line(log: AuditLog) -> None:
    lines = filled(log)
    rewrite(log, lines[:1] + lines[2:])
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (2, "deleted")
    assert "record 2 is missing" in problem.detail


def test_deleted_first_lines(log: AuditLog) -> None:
    lines = filled(log)
    rewrite(log, lines[2:])
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (1, "deleted")
    assert "records 1 to 2 are missing" in problem.detail


def test_reordered_lines(log: AuditLog) -> None:
    lines = filled(log)
    lines[1], lines[3] = lines[3], lines[1]
    rewrite(log, lines)
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (2, "reordered")
    assert "record 2 is at line 4" in problem.detail


def test_a_repeated_line(log: AuditLog) -> None:
    lines = filled(log)
    rewrite(log, lines[:3] + [lines[1]] + lines[3:])
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (4, "reordered")


def test_a_line_from_another_log_with_the_same_key(tmp_path: Path, log: AuditLog) -> None:
    lines = filled(log)
    other = AuditLog(tmp_path / "other", tmp_path / "keys")
    other_lines = filled(other)
    lines[2] = other_lines[2]   # same key, same seq, different chain
    rewrite(log, lines)
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (3, "replaced")


def test_a_last_line_cut_short(log: AuditLog) -> None:
    lines = filled(log)
    data = b"".join(lines)
    log.log_path.write_bytes(data[: len(data) - len(lines[-1]) // 2])
    verdict = verify(log)
    assert verdict.problem is not None and (verdict.problem.line, verdict.problem.kind) == (5, "truncated")
    assert "cut short" in verdict.problem.detail
    assert len(list(log.records())) == 4


def test_records_removed_from_the_end(log: AuditLog) -> None:
    lines = filled(log)
    rewrite(log, lines[:3])
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (4, "truncated")
    assert "anchor names record 5" in problem.detail and "2 record(s) were removed" in problem.detail


def test_the_next_append_keeps_the_evidence_of_a_removed_end(log: AuditLog) -> None:
    lines = filled(log)
    rewrite(log, lines[:3])
    record = log.append(event(9))
    assert record["seq"] == 4 and "records were removed from the end" in record["break"]
    log.append(event(10))
    problem = verify(log).problem
    assert problem is not None and (problem.line, problem.kind) == (4, "break")


def test_an_altered_or_missing_anchor(log: AuditLog) -> None:
    filled(log)
    head = json.loads(log.head_path.read_bytes())
    log.head_path.write_text(json.dumps({**head, "seq": 3}))
    problem = verify(log).problem
    assert problem is not None and problem.kind == "anchor" and "MAC" in problem.detail
    log.head_path.unlink()
    problem = verify(log).problem
    assert problem is not None and problem.kind == "anchor" and "missing" in problem.detail


def test_a_replaced_key_fails_from_the_first_line(log: AuditLog) -> None:
    filled(log, 2)
    log.key_path.write_bytes(os.urandom(32))
    problem = verify(AuditLog(log.directory, log.key_path.parent)).problem
    assert problem is not None and (problem.line, problem.kind) == (1, "edited") and "key" in problem.detail
    log.key_path.unlink()
    problem = verify(AuditLog(log.directory, log.key_path.parent)).problem
    assert problem is not None and problem.kind == "key"


def test_a_crash_mid_append_is_repaired_not_reported(log: AuditLog) -> None:
    lines = filled(log, 3)
    torn = lines[0][:40]   # what a crash between write and fsync may leave (no anchor update follows)
    with open(log.log_path, "ab") as f:
        f.write(torn)
    verdict = verify(log)
    assert verdict.intact and verdict.records == 3
    assert verdict.warning is not None and "line 4 is an incomplete record" in verdict.warning
    record = log.append(event(7))
    assert record["seq"] == 4 and f"dropped {len(torn)} bytes" in record["note"] and "break" not in record
    verdict = verify(log)
    assert verdict.intact and verdict.records == 4 and verdict.warning is None


def test_a_failed_write_leaves_no_half_line(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    filled(log, 2)
    before = log.log_path.read_bytes()

    def half_then_full_disk(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit, "_write_all", half_then_full_disk)
    with pytest.raises(OSError):
        log.append(event(5))
    assert log.log_path.read_bytes() == before
    monkeypatch.undo()
    assert log.append(event(6))["seq"] == 3 and verify(log).intact


def test_appends_from_many_threads_form_one_chain(log: AuditLog) -> None:
    def worker(t: int) -> None:
        for n in range(25):
            log.append(event(t * 100 + n))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    verdict = verify(log)
    assert verdict.intact and verdict.records == 200
    assert sorted(r["request_id"] for r in log.records()) == sorted(f"req-{t * 100 + n}" for t in range(8)
                                                                    for n in range(25))


APPENDER = """
import sys
from pathlib import Path
from strongbox.services.audit import AuditEvent, AuditLog
log = AuditLog(Path(sys.argv[1]), Path(sys.argv[2]))
sys.stdin.readline()   # start together
for n in range(int(sys.argv[4])):
    log.append(AuditEvent(method="POST", resource="/p", status=202, request_id=f"{sys.argv[3]}-{n}"))
"""


def test_appends_from_two_processes_form_one_chain(log: AuditLog) -> None:
    log.prepare()
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(log.directory), str(log.key_path.parent),
                               name, "60"], stdin=subprocess.PIPE) for name in ("a", "b")]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.close()
    for p in procs:
        assert p.wait(60) == 0
    log.append(event(0))
    verdict = verify(log)
    assert verdict.intact and verdict.records == 121
    ids = [r["request_id"] for r in log.records()]
    assert {f"a-{n}" for n in range(60)} | {f"b-{n}" for n in range(60)} <= set(ids)
    assert [r["seq"] for r in log.records()] == list(range(1, 122))


def test_times_come_from_the_clock(tmp_path: Path) -> None:
    moment = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    log = AuditLog(tmp_path / "audit", tmp_path / "keys", clock=lambda: moment)
    assert log.append(event())["time"] == "2026-05-01T12:30:15.123Z"
