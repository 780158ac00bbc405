"""Two server processes on one database, both with the same webhook: every job event is
delivered exactly once (the receiver always answers 200, so nothing is retried)."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.webhooks.test_webhooks import Receiver, expected_signature
from tests.support.arm import SUB, Arm
from tests.support.servers import RunningServer, vm_pair

SECRET = "pair-secret-0123456789abcdef"
VMS = ("vm-1", "vm-2")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver
         ) -> Iterator[tuple[RunningServer, RunningServer]]:
    webhook = f'\n[[webhooks]]\nurl = "http://localhost:{receiver.port}/pair"\nsecret = "{SECRET}"\n'
    with vm_pair(request.param, tmp_path, VMS, {"retry_after": 0}, webhook) as servers:
        yield servers


def test_each_event_is_delivered_once_by_one_of_two_servers(pair: tuple[RunningServer, RunningServer],
                                                            receiver: Receiver) -> None:
    arms = [Arm(httpx.Client(base_url=s.base_url, verify=ssl.create_default_context(cafile=str(s.ca)), timeout=30,
                             headers={"Authorization": f"Bearer {s.token(SUB)}"})) for s in pair]
    try:
        arms[0].create_vault(soft_delete=False)
        arms[0].create_policy()
        job_ids = []
        for i, vm in enumerate(VMS):
            arm = arms[i % 2]            # queued through either server
            job_ids.append(arm.enable(vm))
            arm.wait_job(job_ids[-1])
            _, backup = arm.backup(vm)
            job_ids.append(backup)
        for job_id in job_ids:
            assert arms[0].wait_job(job_id)["properties"]["status"] == "Completed"
    finally:
        for arm in arms:
            arm.http.close()
    expected = {(job_id, kind) for job_id in job_ids for kind in ("job.started", "job.completed")}
    deadline = time.monotonic() + 20
    while {(r.doc["job"]["id"], r.doc["type"]) for r in receiver.at("/pair")} != expected \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)   # three more dispatcher passes on each server: a duplicate would show by now
    got = receiver.at("/pair")
    assert sorted((r.doc["job"]["id"], r.doc["type"]) for r in got) == sorted(expected)
    assert len({r.doc["id"] for r in got}) == len(got) == len(expected)
    assert all(r.headers["x-strongbox-signature"] == expected_signature(SECRET, r.headers["x-strongbox-timestamp"],
                                                                          r.body) for r in got)
    assert all(json.loads(r.body)["job"]["status"] == ("InProgress" if r.doc["type"] == "job.started" else "Completed")
               for r in got)
