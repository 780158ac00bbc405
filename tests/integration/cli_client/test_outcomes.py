"""`strongbox job wait` exits with a code per final status (0 Completed is in
test_commands), `job cancel` from another process ends a waiting `job wait` with 12, a
timeout gives 13 with the job still running, and `job logs [--follow]` prints the job's log."""

from __future__ import annotations

import os
import pty
import re
import threading

import pytest

from tests.integration.cli_client.conftest import CLI, Site, popen


def _slow_backup(site: Site, cli: CLI) -> str:
    for blob in (site.sources / "vm-big").iterdir():
        os.utime(blob)                  # changed files are read again (paced): the job runs for seconds
    started = cli("backup", "now", "vm-big")
    assert started.returncode == 0, started.stderr
    return started.stdout.strip()


@pytest.mark.parametrize(("vm", "status", "code", "named"), [
    ("vm-warn", "CompletedWithWarnings", 10, "pipe"),
    ("vm-gone", "Failed", 11, "SourceMissing"),
])
def test_wait_exit_code_per_final_status(site: Site, cli: CLI, vm: str, status: str, code: int,
                                         named: str) -> None:
    started = cli("backup", "now", vm)
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.strip()
    waited = cli("job", "wait", job_id, "--interval", "0.2")
    assert waited.returncode == code, (waited.stdout, waited.stderr)
    assert waited.stdout.startswith(f"job {job_id}: {status} (Backup of {vm}")
    assert named in waited.stderr                     # the job's errorDetails, on stderr
    assert site.arm.job(job_id)["properties"]["status"] == status
    again = cli("backup", "now", vm, "--wait", "--vault", "vault1")   # the same codes through --wait
    assert again.returncode == code, again.stderr


def test_cancel_from_another_process_ends_the_wait_with_12(site: Site, cli: CLI) -> None:
    job_id = _slow_backup(site, cli)
    screen, slave = pty.openpty()          # `job wait` on a terminal: the Rich progress bar
    waiter = popen(site, "job", "wait", job_id, "--interval", "0.2", stderr=slave)
    os.close(slave)
    drawn: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(screen, drawn), daemon=True)
    reader.start()
    try:
        site.arm.wait_progress(job_id)
        timed = cli("job", "wait", job_id, "--timeout", "0.3", "--interval", "0.1")
        assert timed.returncode == 13, timed.stderr
        assert "JobWaitTimeout" in timed.stderr and f"Job '{job_id}' is still InProgress" in timed.stderr
        assert "InProgress" in timed.stderr and "Backup vm-big" in timed.stderr   # the plain progress lines
        assert site.arm.job(job_id)["properties"]["status"] == "InProgress"

        cancelled = cli("job", "cancel", job_id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert waiter.wait(60) == 12
        assert waiter.stdout is not None and waiter.stdout.read().startswith(f"job {job_id}: Cancelled")
    finally:
        if waiter.poll() is None:
            waiter.kill()
        reader.join(10)
        os.close(screen)
    bar = b"".join(drawn).decode(errors="replace")
    assert "Backup vm-big" in bar and "%" in bar and "MB/s" in bar and "\u2501" in bar, bar[-2000:]
    assert site.arm.job(job_id)["properties"]["status"] == "Cancelled"

    refused = cli("job", "cancel", job_id)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: BMSUserErrorJobNotCancellable:")
    assert refused.stderr.count("\n") == 1


def _drain(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:                     # EIO: the other end is closed
            return
        if not chunk:
            return
        into.append(chunk)


@pytest.fixture
def logs_route(site: Site) -> None:
    """Per-job logs are served by a route added alongside this CLI: skip only while it is missing."""
    any_job = site.arm.get(f"{site.arm.vault_path}/backupJobs").json()["value"][0]["name"]
    probe = site.arm.get(f"{site.arm.vault_path}/backupJobs/{any_job}/logs")
    if probe.status_code == 404 and probe.json()["error"]["code"] == "PathNotFound":
        pytest.skip("the server has no GET .../backupJobs/{job}/logs route yet")


def _api_log(site: Site, job_id: str) -> list[str]:
    lines = site.arm.get(f"{site.arm.vault_path}/backupJobs/{job_id}/logs").json()["value"]
    return [line["message"] for line in lines]


def test_logs_and_follow_until_the_job_ends(site: Site, cli: CLI, logs_route: None) -> None:
    job_id = _slow_backup(site, cli)
    follower = popen(site, "job", "logs", job_id, "--follow", "--interval", "0.2")
    try:
        site.arm.wait_progress(job_id)
        assert follower.poll() is None, "--follow must keep reading while the job runs"
        site.arm.req("POST", f"{site.arm.vault_path}/backupJobs/{job_id}/cancel")
        assert follower.wait(60) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.stdout is not None
    followed = follower.stdout.read().splitlines()
    messages = _api_log(site, job_id)
    assert len(messages) >= 3 and site.arm.job(job_id)["properties"]["status"] == "Cancelled"
    assert [line.split(None, 3)[3] for line in followed] == messages     # every line once, in order
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  [A-Z]+ {2,}\S.*", line) for line in followed)

    whole = cli("job", "logs", job_id)
    assert whole.returncode == 0 and whole.stdout.splitlines() == followed
