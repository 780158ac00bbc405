"""The server-facing commands as subprocesses against a real server: back up now and wait,
show the job, list jobs across vaults with the API's filters (tables and JSON, pages
followed), list items and recovery points, restore into a declared location."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.integration.cli_client.conftest import CLI, Site
from tests.support.trees import describe


def _json(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _api_jobs(site: Site, flt: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for arm in (site.arm, site.arm2):
        url = f"{arm.vault_path}/backupJobs"
        page = arm.get(url, params={"$filter": flt} if flt else None).json()
        found += page["value"]
        while page.get("nextLink"):
            page = arm.http.get(page["nextLink"]).json()
            found += page["value"]
    return found


def test_backup_now_wait_show_points_and_restore(site: Site, cli: CLI) -> None:
    done = cli("backup", "now", "vm-a", "--wait", "--interval", "0.2")
    assert done.returncode == 0, done.stderr
    job_id, final = done.stdout.splitlines()           # the id alone first, then the outcome
    assert final.startswith(f"job {job_id}: Completed (Backup of vm-a")
    job = site.arm.job(job_id)["properties"]
    assert job["operation"] == "Backup" and job["status"] == "Completed"
    assert f"job {job_id}" in done.stderr

    waited = cli("job", "wait", job_id)
    assert waited.returncode == 0 and waited.stdout.startswith(f"job {job_id}: Completed")

    shown = cli("job", "show", job_id)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^Status\s+Completed$", shown.stdout, re.MULTILINE), shown.stdout
    assert re.search(r"^Vault\s+vault1 \(resource group rg-test\)$", shown.stdout, re.MULTILINE)
    assert re.search(r"^Transfer data to vault\s+Completed\s+100%", shown.stdout, re.MULTILINE), shown.stdout
    bag = job["extendedInfo"]["propertyBag"]
    assert re.search(rf"^  Backup Size\s+{re.escape(bag['Backup Size'])}$", shown.stdout, re.MULTILINE)
    assert _json(cli("job", "show", job_id, "--output", "json")) == site.arm.job(job_id)

    point = bag["Recovery Point Id"]
    listed = cli("point", "list", "vm-a")
    assert listed.returncode == 0, listed.stderr
    header, first, *_ = listed.stdout.splitlines()
    assert header.split()[:2] == ["POINT", "ID"] and first.split()[0] == point   # newest first
    points = _json(cli("point", "list", "vm-a", "-o", "json"))
    assert {p["name"] for p in points} == {p["name"] for p in site.arm.points("vm-a")}

    undeclared = cli("restore", "vm-a", "--to", "elsewhere")
    assert undeclared.returncode == 2
    assert undeclared.stderr.startswith(
        "error: UserErrorStorageAccountNotFound: Storage account '/subscriptions/")

    restored = cli("restore", "vm-a", "--to", "restores1", "--wait")
    assert restored.returncode == 0, restored.stderr
    restore_id = restored.stdout.splitlines()[0]
    props = site.arm.job(restore_id)["properties"]
    assert props["operation"] == "Restore" and props["status"] == "Completed"
    assert f"from point {point}" in restored.stderr
    target = Path(props["extendedInfo"]["propertyBag"]["Restore Location"])
    assert target.parent == site.restores / "vm-a"
    assert describe(target / "vm-a") == describe(site.sources / "vm-a")

    by_id = cli("restore", "vm-a", "--point", point, "--vault", "vault1",
                "--to", f"{site.arm.resource_group}/restores1")
    assert by_id.returncode == 0, by_id.stderr
    assert site.arm.wait_job(by_id.stdout.strip())["properties"]["status"] == "Completed"


def test_items_of_every_vault(site: Site, cli: CLI) -> None:
    table = cli("item", "list")
    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert set(rows) == {"vm-a", "vm-b", "vm-big", "vm-warn", "vm-gone"}
    assert rows["vm-b"][1:4] == ["rg-test", "vault2", "daily"]
    assert rows["vm-a"][2] == "vault1"
    items = _json(cli("item", "list", "--vault", "vault2", "-o", "json"))
    assert [i["name"] for i in items] == ["VM;iaasvmcontainerv2;rg-test;vm-b"]


def test_job_list_across_vaults_and_filters(site: Site, cli: CLI) -> None:
    everything = _json(cli("job", "list", "-o", "json"))
    expected = _api_jobs(site)       # page_size 3: the CLI must follow nextLink to see them all
    assert len(expected) > 3
    assert sorted(j["name"] for j in everything) == sorted(j["name"] for j in expected)
    starts = [j["properties"]["startTime"] for j in everything]
    assert starts == sorted(starts)

    table = cli("job", "list")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["JOB", "ID", "OPERATION", "STATUS"]
    assert len(lines) == len(expected) + 1
    vm_b = next(j for j in expected if j["properties"]["entityFriendlyName"] == "vm-b")
    row = next(line for line in lines if line.startswith(vm_b["name"]))
    assert row.split()[1:5] == ["ConfigureBackup", "Completed", "vm-b", "vault2"]

    in_vault2 = _json(cli("job", "list", "--vault", "vault2", "-o", "json"))
    assert in_vault2 and all("/vaults/vault2/" in j["id"] for j in in_vault2)

    filtered = _json(cli("job", "list", "--status", "completed", "--operation", "ConfigureBackup",
                         "-o", "json"))
    wanted = _api_jobs(site, "status eq 'Completed' and operation eq 'ConfigureBackup'")
    assert sorted(j["name"] for j in filtered) == sorted(j["name"] for j in wanted)
    assert len(filtered) >= 5 and all(j["properties"]["operation"] == "ConfigureBackup" for j in filtered)

    assert _json(cli("job", "list", "--since", "2099-01-01", "-o", "json")) == []
    assert _json(cli("job", "list", "--until", "2000-01-01T00:00:00Z", "-o", "json")) == []
    recent = _json(cli("job", "list", "--since", "1h", "--until", "2099-01-01", "-o", "json"))
    assert sorted(j["name"] for j in recent) == sorted(j["name"] for j in expected)
