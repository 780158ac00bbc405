"""Two server processes on one database and data folder (the scale-out shape): jobs queued
through either are each run exactly once, by one of them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.arm import SUB, Arm
from tests.support.servers import RunningServer, vm_pair

VMS = ("vm-1", "vm-2", "vm-3")


@pytest.fixture(params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    with vm_pair(request.param, tmp_path, VMS, {"retry_after": 0, "workers": 2}) as servers:
        yield servers


def _arm(server: RunningServer) -> Arm:
    http = httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=30, headers={"Authorization": f"Bearer {server.token(SUB)}"})
    return Arm(http)


def test_jobs_queued_through_either_server_run_exactly_once(pair: tuple[RunningServer, RunningServer]) -> None:
    a, b = (_arm(s) for s in pair)
    try:
        a.create_vault()
        a.create_policy()
        for i, vm in enumerate(VMS):
            (a if i % 2 else b).wait_job((a if i % 2 else b).enable(vm))
        jobs = []
        for round_ in range(2):
            started = [(a if (round_ + i) % 2 else b).backup(vm)[1] for i, vm in enumerate(VMS)]
            jobs += [a.wait_job(j) for j in started]
        assert all(j["properties"]["status"] == "Completed" for j in jobs), jobs
        point_ids = [j["properties"]["extendedInfo"]["propertyBag"]["Recovery Point Id"] for j in jobs]
        assert len(set(point_ids)) == len(jobs)
        for vm in VMS:
            assert len(a.points(vm)) == 2 and len(b.points(vm)) == 2
        listed = {j["name"] for j in b.get(f"{b.vault_path}/backupJobs", params={"$filter": "operation eq 'Backup'"})
                  .json()["value"]}
        assert listed == {j["name"] for j in jobs}
    finally:
        a.http.close()
        b.http.close()
