"""backupJobs $filter (every field, the eq time window), paging by nextLink that carries the
filter, export with its downloadable result, recovery point filters, discovery lists."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from tests.support.arm import Arm


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %I:%M:%S %p")   # as the Azure CLI writes it


def _all_pages(arm: Arm, params: dict[str, str]) -> tuple[list[dict], int]:
    r = arm.get(f"{arm.vault_path}/backupJobs", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    values, pages = list(body["value"]), 1
    while body.get("nextLink"):
        link = body["nextLink"]
        if "$filter" in params:
            assert parse_qs(urlparse(link).query)["$filter"] == [params["$filter"]]
        r = arm.http.get(link)
        assert r.status_code == 200, r.text
        body = r.json()
        values += body["value"]
        pages += 1
    return values, pages


def test_filters_and_paging(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-a"))
    for _ in range(5):
        arm.wait_job(arm.backup("vm-a")[1])
    everything, pages = _all_pages(arm, {})
    assert pages >= 2 and len(everything) >= 6          # page_size is 5 on this server
    ids = [j["name"] for j in everything]
    assert len(ids) == len(set(ids))
    starts = [j["properties"]["startTime"] for j in everything]
    assert starts == sorted(starts, reverse=True)

    backups, _ = _all_pages(arm, {"$filter": "operation eq 'Backup' and status eq 'Completed' and "
                                             "backupManagementType eq 'AzureIaasVM'"})
    assert backups and all(j["properties"]["operation"] == "Backup" and j["properties"]["status"] == "Completed"
                           for j in backups)
    assert len(backups) == sum(1 for j in everything if j["properties"]["operation"] == "Backup"
                               and j["properties"]["status"] == "Completed")
    one = everything[3]["name"]
    by_id, _ = _all_pages(arm, {"$filter": f"jobId eq '{one}'"})
    assert [j["name"] for j in by_id] == [one]

    now = datetime.now(timezone.utc)
    window = f"startTime eq '{_fmt(now - timedelta(hours=2))}' and endTime eq '{_fmt(now + timedelta(minutes=5))}'"
    recent, _ = _all_pages(arm, {"$filter": window})
    assert len(recent) == len(everything)
    past = f"startTime eq '{_fmt(now - timedelta(days=3))}' and endTime eq '{_fmt(now - timedelta(days=2))}'"
    assert _all_pages(arm, {"$filter": past})[0] == []
    spec_style = "startTime eq '2016-01-01 00:00:00 AM' and endTime eq '2017-11-29 00:00:00 AM'"
    assert _all_pages(arm, {"$filter": spec_style})[0] == []


def test_bad_filters_are_specific_400s(arm: Arm) -> None:
    for bad in ("status eq 'Sleeping'", "operation ne 'Backup'", "startTime eq 'yesterday'",
                "colour eq 'blue'", "status eq 'Completed' and", "status eq Completed"):
        r = arm.get(f"{arm.vault_path}/backupJobs", params={"$filter": bad})
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] in ("InvalidFilter", "InvalidDateTime"), (bad, r.text)
    r = arm.get(f"{arm.vault_path}/backupJobs", params={"$skiptoken": "not-a-token"})
    assert r.status_code == 400


def test_export_jobs_downloads_the_matching_jobs(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    r = arm.req("POST", f"{arm.vault_path}/backupJobsExport", params={"$filter": "operation eq 'Backup'"})
    assert r.status_code == 202
    result = arm.http.get(r.headers["Location"])
    assert result.status_code == 200
    op = result.json()["operation"]
    assert op["objectType"] == "ExportJobsOperationResultInfo"
    blob = arm.http.get(op["blobUrl"] + op["blobSasKey"], headers={"Authorization": ""})
    assert blob.status_code == 200
    exported = blob.json()["value"]
    listed, _ = _all_pages(arm, {"$filter": "operation eq 'Backup'"})
    assert {j["name"] for j in exported} == {j["name"] for j in listed}
    forged = arm.http.get(op["blobUrl"] + op["blobSasKey"].replace("sig=", "sig=0"))
    assert forged.status_code == 401


def test_recovery_points_filter_and_get(arm: Arm) -> None:
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    points = arm.points("vm-a")
    assert points
    first = points[0]
    got = arm.get(f"{arm.item_path('vm-a')}/recoveryPoints/{first['name']}")
    assert got.status_code == 200 and got.json()["properties"]["recoveryPointTime"] == first["properties"]["recoveryPointTime"]
    now = datetime.now(timezone.utc)
    flt = f"startDate eq '{_fmt(now - timedelta(days=2))}' and endDate eq '{_fmt(now - timedelta(days=1))}'"
    r = arm.get(f"{arm.item_path('vm-a')}/recoveryPoints", params={"$filter": flt})
    assert r.status_code == 200 and r.json()["value"] == []
    missing = arm.get(f"{arm.item_path('vm-a')}/recoveryPoints/123")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "BMSUserErrorRecoveryPointNotFound"


def test_discovery_lists(arm: Arm) -> None:
    r = arm.req("POST", f"{arm.vault_path}/backupFabrics/Azure/refreshContainers",
                params={"$filter": "backupManagementType eq 'AzureIaasVM'"})
    assert r.status_code == 202
    assert arm.http.get(r.headers["Location"]).status_code == 204
    items = arm.get(f"{arm.vault_path}/backupProtectableItems",
                    params={"$filter": "backupManagementType eq 'AzureIaasVM'"}).json()["value"]
    names = {i["properties"]["friendlyName"] for i in items}
    assert {"vm-a", "vm-big", "vm-warn", "vm-gone"} <= names
    assert all("/protectionContainers/" in i["id"] and "/protectableItems/" in i["id"] for i in items)
    containers = arm.get(f"{arm.vault_path}/backupProtectionContainers",
                         params={"$filter": "backupManagementType eq 'AzureIaasVM'"}).json()["value"]
    assert containers and all(c["properties"]["containerType"] == "Microsoft.Compute/virtualMachines"
                              for c in containers)
    protected = arm.get(f"{arm.vault_path}/backupProtectedItems").json()["value"]
    assert {p["properties"]["friendlyName"] for p in protected} >= {"vm-a"}
