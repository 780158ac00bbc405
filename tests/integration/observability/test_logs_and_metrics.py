"""Job logs and metrics on a real server: a backup and a restore (slowed by io_limit_mbps so
they can be watched), their logs read through the API while they run and after, and
``/metrics`` scraped before and after, with a token, without one, and public by config."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import RunningServer, serving, write_config

BLOCK = 6 << 20           # one random block, written into three files: a backup deduplicates two
SIZE = 3 * BLOCK
LOGS = "/backupJobs/{job}/logs"
LOGS_ROUTE = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
              "Microsoft.RecoveryServices/vaults/{vaultName}/backupJobs/{jobName}/logs")


def _config(root: Path, *, public: bool) -> tuple[Path, Path]:
    src = root / "sources" / "vm-dup"
    src.mkdir(parents=True)
    block = os.urandom(BLOCK)
    for i in range(3):
        (src / f"copy{i}.bin").write_bytes(block)
    data = root / "data"
    sources = [{"subscription": SUB, "resource_group": RG, "name": "vm-dup", "paths": [str(src)]}]
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1", "path": str(root / "restores")}]
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0, "io_limit_mbps": 8,
                                                     "lease_seconds": 6}, None, sources, locations)
    if public:
        config.write_text(config.read_text() + "\n[metrics]\npublic = true\n")
    return config, data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config, data = _config(tmp_path_factory.mktemp("observability"), public=False)
    with serving(config, data) as srv:
        yield srv


def _client(server: RunningServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=30.0, headers=headers)


@pytest.fixture(scope="module")
def arm(server: RunningServer) -> Iterator[Arm]:
    with _client(server, server.token(SUB)) as http:
        yield Arm(http)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(http: httpx.Client) -> Samples:
    r = http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _read_logs(arm: Arm, job: str, since: int = 0) -> dict[str, Any]:
    r = arm.get(arm.vault_path + LOGS.format(job=job), params={"since": str(since)})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _follow_logs(arm: Arm, job: str) -> tuple[list[dict[str, Any]], int]:
    """Read a job's log as a client tails it, to the end; returns the lines and how many
    of them were read while the job was still running."""
    lines: list[dict[str, Any]] = []
    since, while_running = 0, 0
    deadline = time.monotonic() + 120
    while True:
        page = _read_logs(arm, job, since)
        lines += page["value"]
        since = page["nextSeq"]
        status = arm.job(job)["properties"]["status"]
        if status == "InProgress":          # read before the job was seen still running
            while_running += len(page["value"])
        elif status not in ("Cancelling",):
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page = _read_logs(arm, job, since)      # every line is stored before the job is final
    lines += page["value"]
    assert page["nextSeq"] == (lines[-1]["seq"] if lines else 0)
    return lines, while_running


def _check_lines(lines: list[dict[str, Any]]) -> None:
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    for line in lines:
        assert set(line) == {"seq", "time", "level", "message"}
        assert line["level"] in ("INFO", "WARNING", "ERROR")
        assert line["time"].endswith("Z") and datetime.fromisoformat(line["time"][:26] + "+00:00")


def test_logs_while_jobs_run_and_metrics_that_moved_with_them(arm: Arm, server: RunningServer) -> None:
    before = _scrape(arm.http)
    assert _value(before, "strongbox_jobs", operation="Backup", status="Completed") == 0
    assert _value(before, "strongbox_database_up") == 1
    arm.create_vault(soft_delete=False)
    arm.create_policy()
    arm.wait_job(arm.enable("vm-dup"))

    _, backup = arm.backup("vm-dup")
    lines, while_running = _follow_logs(arm, backup)
    assert while_running > 0, lines
    _check_lines(lines)
    messages = [line["message"] for line in lines]
    assert messages[0].startswith("Backup of vm-dup started on worker ")
    assert "Take Snapshot: Completed" in " ".join(messages)
    assert "Transfer data to vault: started" in messages
    assert f"Transfer data to vault: Completed ({SIZE} bytes read" in " ".join(messages)
    assert messages[-1].startswith("Backup Completed after ") and lines[-1]["level"] == "INFO"
    assert arm.job(backup)["properties"]["status"] == "Completed"
    everything = _read_logs(arm, backup)
    assert everything["value"] == lines and everything["nextSeq"] == len(lines)
    assert _read_logs(arm, backup, since=len(lines)) == {"value": [], "nextSeq": len(lines)}
    assert _read_logs(arm, backup, since=3)["value"] == lines[3:]

    point = arm.points("vm-dup")[0]["name"]
    body = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                           "recoveryPointId": point, "sourceResourceId": arm.vm_id("vm-dup"),
                           "storageAccountId": arm.storage_account_id("restores1")}}
    r = arm.req("POST", f"{arm.item_path('vm-dup')}/recoveryPoints/{point}/restore", json=body)
    assert r.status_code == 202, r.text
    restore = arm.follow(r)
    lines, while_running = _follow_logs(arm, restore)
    assert while_running > 0, lines
    _check_lines(lines)
    assert any(line["message"].startswith("Transfer data to target: Completed") for line in lines), lines
    assert lines[-1]["message"].startswith("Restore Completed after ")

    after = _scrape(arm.http)
    for operation in ("ConfigureBackup", "Backup", "Restore"):
        assert _value(after, "strongbox_jobs", operation=operation, status="Completed") == 1
        assert _value(after, "strongbox_job_duration_seconds_count", operation=operation, status="Completed") == 1
    assert _value(after, "strongbox_jobs", operation="Backup", status="Failed") == 0   # every pair, zeros too
    assert _value(after, "strongbox_queue_depth") == 0
    assert _value(after, "strongbox_job_duration_seconds_sum", operation="Backup", status="Completed") > 1.5
    assert _value(after, "strongbox_bytes_read_total", operation="Backup") == SIZE
    assert _value(after, "strongbox_bytes_deduplicated_total", operation="Backup") >= BLOCK
    assert 0 < _value(after, "strongbox_bytes_written_total", operation="Backup") < 2 * BLOCK
    assert _value(after, "strongbox_bytes_written_total", operation="Restore") == SIZE
    heartbeats = sum(v for (name, _), v in after.items() if name == "strongbox_worker_heartbeats_total")
    assert heartbeats > 0
    seen = [v for (name, _), v in after.items() if name == "strongbox_worker_last_seen_timestamp_seconds"]
    assert seen and all(abs(time.time() - v) < 60 for v in seen)
    routes = {dict(labels)["route"] for (name, labels), _ in after.items()
              if name == "strongbox_http_request_duration_seconds_count"}
    assert LOGS_ROUTE in routes and "/metrics" in routes
    assert not any(backup in route for route in routes)      # templates, never raw paths
    logs_calls = sum(v for (name, labels), v in after.items()
                     if name == "strongbox_http_request_duration_seconds_count" and dict(labels)["route"] == LOGS_ROUTE)
    assert logs_calls >= 6


def test_logs_of_an_unknown_job_or_from_a_bad_line_number_are_refused(arm: Arm) -> None:
    r = arm.get(arm.vault_path + LOGS.format(job="00000000-0000-0000-0000-0000000000ff"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "BMSUserErrorJobNotFound"
    job = arm.get(f"{arm.vault_path}/backupJobs").json()["value"][0]["name"]
    for since in ("-1", "x", "1.5", "9" * 40):
        r = arm.get(arm.vault_path + LOGS.format(job=job), params={"since": since})
        assert r.status_code == 400, (since, r.text)
        assert r.json()["error"]["code"] == "InvalidParameterValue"


def test_metrics_need_a_valid_token(server: RunningServer) -> None:
    with _client(server) as anonymous:
        r = anonymous.get("/metrics")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AuthenticationFailed"
    with _client(server, "not-a-token") as bad:
        assert bad.get("/metrics").status_code == 401
    with _client(server, server.token(SUB, "Backup Reader")) as reader:
        assert _value(_scrape(reader), "strongbox_database_up") == 1


def test_public_metrics_are_served_without_a_token(tmp_path: Path) -> None:
    config, data = _config(tmp_path, public=True)
    with serving(config, data) as public, _client(public) as anonymous:
        samples = _scrape(anonymous)
        assert _value(samples, "strongbox_queue_depth") == 0
        assert ("strongbox_jobs", frozenset({("operation", "Restore"), ("status", "InProgress")})) in samples
        r = anonymous.get(f"/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/vaults",
                          params={"api-version": "2026-10-01"})
        assert r.status_code == 401       # only the metrics are public
