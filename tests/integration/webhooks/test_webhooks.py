"""Webhooks end to end: a real server with [[webhooks]] POSTs signed job events to a real HTTP
receiver in this test, retries after a 500, filters to problems, gives up after
max_attempts, and ``strongbox webhook log`` shows every attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import STRONGBOX, RunningServer, free_port, server_env, serving, write_config
from tests.support.trees import make_tree

ALL_SECRET = "all-events-secret-0123456789"
PROBLEMS_SECRET = "problems-only-secret-0123456789"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def doc(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """A threaded HTTP server: ``/all`` answers 500 to its first request and 200 after;
    ``/problems`` always 200. Every request is recorded with the answer it got."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    first_at_all = self.path == "/all" and not any(r.path == "/all" for r in receiver.received)
                    code = 500 if first_at_all else 200
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body, code))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, job_ids: set[str], types: set[str], timeout: float = 30.0) -> list[Received]:
        """Wait until ``path`` was answered 200 for an event of each type for each job."""
        deadline = time.monotonic() + timeout
        while True:
            got = {(r.doc["job"]["id"], r.doc["type"]) for r in self.at(path) if r.answered == 200}
            if all((j, t) in got for j in job_ids for t in types) or time.monotonic() > deadline:
                return self.at(path)
            time.sleep(0.1)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Computed here as the README tells a receiver to, not with strongbox's own function."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def server(receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("webhooks")
    src = root / "sources"
    make_tree(src / "vm-a")
    (src / "vm-warn").mkdir(parents=True)
    (src / "vm-warn" / "ok.txt").write_text("fine\n")
    os.mkfifo(src / "vm-warn" / "pipe")          # not a file it can read: CompletedWithWarnings
    (src / "vm-gone").mkdir()                     # its path does not exist: Failed
    (root / "problems.secret").write_text(PROBLEMS_SECRET + "\n")
    data = root / "data"
    sources = [{"subscription": SUB, "resource_group": RG, "name": name, "paths": [str(path)]}
               for name, path in (("vm-a", src / "vm-a"), ("vm-warn", src / "vm-warn"),
                                  ("vm-gone", src / "vm-gone" / "x"))]
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0}, None, sources, [])
    base = f"http://127.0.0.1:{receiver.port}"
    dead = f"http://127.0.0.1:{free_port()}/nobody"   # connection refused, every time
    with config.open("a") as f:
        f.write(f'\n[[webhooks]]\nurl = "{base}/all"\nsecret = "{ALL_SECRET}"\nretry_base_seconds = 0.2\n'
                f'\n[[webhooks]]\nurl = "{base}/problems"\nsecret_file = "problems.secret"\nevents = "problems"\n'
                f'\n[[webhooks]]\nurl = "{dead}"\nsecret = "{ALL_SECRET}"\nevents = "problems"\n'
                f'max_attempts = 2\nretry_base_seconds = 0.1\ntimeout_seconds = 2\n')
    with serving(config, data) as srv:
        srv.dead_url = dead  # type: ignore[attr-defined]
        yield srv


@pytest.fixture(scope="module")
def jobs(server: RunningServer, receiver: Receiver) -> dict[str, str]:
    """Back up the three machines once: the backup job id of each."""
    token = server.token(SUB)
    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                      timeout=30.0, headers={"Authorization": f"Bearer {token}"}) as http:
        arm = Arm(http)
        arm.create_vault(soft_delete=False)
        arm.create_policy()
        ids: dict[str, str] = {}
        for vm in ("vm-a", "vm-warn", "vm-gone"):
            arm.wait_job(arm.enable(vm))
            _, ids[vm] = arm.backup(vm)
        statuses = {vm: arm.wait_job(job_id)["properties"]["status"] for vm, job_id in ids.items()}
    assert statuses == {"vm-a": "Completed", "vm-warn": "CompletedWithWarnings", "vm-gone": "Failed"}
    return ids


def webhook_log(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STRONGBOX, "webhook", "log", "--config", str(server.config), *args],
                          capture_output=True, text=True, timeout=60, env=server_env(server.data_dir))


def test_every_transition_is_delivered_signed_and_retried_after_a_500(receiver: Receiver, jobs: dict[str, str]
                                                                      ) -> None:
    got = receiver.wait_for("/all", set(jobs.values()), {"job.started"})
    got = receiver.wait_for("/all", {jobs["vm-a"]}, {"job.completed"})
    got = receiver.wait_for("/all", {jobs["vm-warn"]}, {"job.completed_with_warnings"})
    got = receiver.wait_for("/all", {jobs["vm-gone"]}, {"job.failed"})
    for r in got:
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-strongbox-signature"] == expected_signature(ALL_SECRET, r.headers["x-strongbox-timestamp"],
                                                                        r.body)
        assert abs(int(r.headers["x-strongbox-timestamp"]) - time.time()) < 120
        assert r.headers["x-strongbox-event"] == r.doc["type"]
    # the first request was answered 500; the same delivery came again, byte for byte, and got a 200
    first = got[0]
    assert first.answered == 500
    again = [r for r in got[1:] if r.headers["x-strongbox-delivery"] == first.headers["x-strongbox-delivery"]]
    assert [r.answered for r in again] == [200] and again[0].body == first.body
    # each event reached the receiver once with a 200: a delivery is not repeated once answered
    delivered = [r.doc["id"] for r in got if r.answered == 200]
    assert len(delivered) == len(set(delivered))
    # the events of the vm-a backup: what the job was, with times and duration
    by_type = {r.doc["type"]: r.doc for r in got if r.doc["job"]["id"] == jobs["vm-a"]}
    assert set(by_type) == {"job.started", "job.completed"}
    done = by_type["job.completed"]["job"]
    assert (done["operation"], done["status"], done["vault"], done["errorCodes"]) == ("Backup", "Completed", "vault1", [])
    assert done["vaultId"] == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/vault1"
    assert done["armId"] == f"{done['vaultId']}/backupJobs/{jobs['vm-a']}"
    assert "vm-a" in done["entity"] and done["startTime"] and done["endTime"]
    assert isinstance(done["durationSeconds"], float) and done["durationSeconds"] >= 0
    failed = next(r.doc for r in got if r.doc["type"] == "job.failed")
    assert failed["job"]["status"] == "Failed" and failed["job"]["errorCodes"]


def test_a_problems_webhook_gets_only_failures_warnings_and_cancellations(receiver: Receiver, jobs: dict[str, str]
                                                                          ) -> None:
    got = receiver.wait_for("/problems", {jobs["vm-warn"]}, {"job.completed_with_warnings"})
    got = receiver.wait_for("/problems", {jobs["vm-gone"]}, {"job.failed"})
    receiver.wait_for("/all", {jobs["vm-a"]}, {"job.completed"})   # the Completed job's events are out by now
    time.sleep(1.0)                                                # (and would have reached /problems too)
    got = receiver.at("/problems")
    assert sorted((r.doc["job"]["id"], r.doc["type"]) for r in got) == sorted(
        [(jobs["vm-warn"], "job.completed_with_warnings"), (jobs["vm-gone"], "job.failed")])
    for r in got:
        assert r.headers["x-strongbox-signature"] == expected_signature(
            PROBLEMS_SECRET, r.headers["x-strongbox-timestamp"], r.body)
        assert r.headers["x-strongbox-signature"] != expected_signature(
            ALL_SECRET, r.headers["x-strongbox-timestamp"], r.body)


def test_the_delivery_log_shows_each_attempt_and_the_deliveries_that_failed(server: RunningServer,
                                                                            receiver: Receiver,
                                                                            jobs: dict[str, str]) -> None:
    receiver.wait_for("/all", {jobs["vm-gone"]}, {"job.failed"})
    dead = server.dead_url  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while True:
        out = webhook_log(server, "--limit", "500", "--output", "json")
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines()]
        to_dead = [line for line in lines if line["url"] == dead]
        if (len(to_dead) == 4 and all(line["deliveryStatus"] == "Failed" for line in to_dead)) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    # the receiver's 500, then the 200 of the same delivery
    first = [line for line in lines if line["url"].endswith("/all") and line["statusCode"] == 500]
    assert len(first) == 1 and first[0]["attempt"] == 1 and first[0]["error"] == "HTTP 500"
    retried = [line for line in lines if line["deliveryId"] == first[0]["deliveryId"]]
    assert sorted((line["attempt"], line["statusCode"]) for line in retried) == [(1, 500), (2, 200)]
    assert {line["deliveryStatus"] for line in retried} == {"Delivered"}
    assert all(isinstance(line["durationMs"], int) and line["durationMs"] >= 0 for line in lines)
    # the refused connection: two problem events, two attempts each (max_attempts = 2), then Failed
    assert sorted((line["event"], line["attempt"]) for line in to_dead) == [
        ("job.completed_with_warnings", 1), ("job.completed_with_warnings", 2), ("job.failed", 1), ("job.failed", 2)]
    assert all(line["statusCode"] is None and "Connect" in line["error"] for line in to_dead), to_dead
    assert {line["deliveryStatus"] for line in to_dead} == {"Failed"}
    # the table: newest first, one line per attempt, and --limit is honoured
    table = webhook_log(server, "--limit", "3")
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()
    assert len(rows) == 3 and all(row.startswith("20") for row in rows)
    assert any(" 500 " in row for row in webhook_log(server, "--limit", "500").stdout.splitlines())
