"""Bad input gets a 4xx CloudError with a specific code, never a 500, and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.support.arm import Arm
from tests.support.servers import RunningServer


def _code(r: httpx.Response) -> str:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert r.headers["x-ms-request-id"] and r.headers["Cache-Control"] == "no-cache"
    return str(body["error"]["code"])


def test_api_version_is_required_and_checked(arm: Arm) -> None:
    assert _code(arm.http.get(arm.vault_path)) == "MissingApiVersionParameter"
    for bad in ("2017-7-1", "yesterday", "2031-01-01", "2016-13-01"):
        assert _code(arm.http.get(arm.vault_path, params={"api-version": bad})) == "InvalidApiVersionParameter"
    for good in ("2016-12-01", "2017-07-01", "2021-12-01", "2026-10-01", "2026-11-01"):
        assert arm.http.get(arm.vault_path, params={"api-version": good}).status_code == 200


def test_auth_is_required(server: RunningServer, arm: Arm) -> None:
    import ssl

    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca))) as anon:
        r = anon.get(arm.vault_path, params={"api-version": "2026-10-01"})
        assert r.status_code == 401 and "WWW-Authenticate" in r.headers
        assert _code(r) == "AuthenticationFailed"
        r = anon.get(arm.vault_path, params={"api-version": "2026-10-01"}, headers={"Authorization": "Bearer junk"})
        assert r.status_code == 401 and _code(r) == "InvalidAuthenticationToken"
    other = arm.vault_path.replace(arm.subscription, "11111111-1111-1111-1111-111111111111")
    assert _code(arm.get(other)) == "SubscriptionNotFound"


@pytest.mark.parametrize("body, code", [
    (b"{not json", "InvalidRequestContent"),
    (b"[]", "InvalidRequestContent"),
    (b'{"properties": {"objectType": "AzureFileShareBackupRequest"}}', "InvalidBackupRequest"),
    (b'{"properties": "x"}', "InvalidRequestContent"),
])
def test_malformed_backup_bodies(arm: Arm, body: bytes, code: str) -> None:
    arm.wait_job(arm.enable("vm-a"))
    r = arm.req("POST", f"{arm.item_path('vm-a')}/backup", content=body)
    assert _code(r) == code


def test_unknown_things_are_404_with_their_own_codes(arm: Arm) -> None:
    v = arm.vault_path
    assert _code(arm.get(v.replace("vault1", "nope"))) == "ResourceNotFound"
    assert _code(arm.get(f"{v}/backupJobs/00000000-0000-0000-0000-000000000999")) == "BMSUserErrorJobNotFound"
    assert _code(arm.get(f"{v}/backupPolicies/nope")) == "BMSUserErrorPolicyNotFound"
    assert _code(arm.get(arm.item_path("vm-nope"))) == "BMSUserErrorContainerObjectNotFound"
    assert _code(arm.get(f"{v}/backupOperations/00000000-0000-0000-0000-000000000999")) == "BMSUserErrorOperationNotFound"
    assert _code(arm.get(f"{v}/backupWidgets")) == "PathNotFound"
    assert arm.req("PATCH", f"{v}/backupJobs").status_code == 405


def test_wrong_object_types_and_values(arm: Arm) -> None:
    bad_policy = {"properties": {"backupManagementType": "AzureIaasVM",
                                 "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                                    "scheduleRunFrequency": "Sometimes"},
                                 "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy"}}}
    assert _code(arm.req("PUT", f"{arm.vault_path}/backupPolicies/bad", json=bad_policy)) == "BMSUserErrorInvalidPolicyInput"
    assert arm.get(f"{arm.vault_path}/backupPolicies/bad").status_code == 404
    wrong_item = {"properties": {"protectedItemType": "AzureFileShareProtectedItem"}}
    assert _code(arm.req("PUT", arm.item_path("vm-a"), json=wrong_item)) == "InvalidProtectedItemType"
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    point = arm.points("vm-a")[0]["name"]
    restore = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                              "recoveryPointId": point, "storageAccountId": arm.storage_account_id("elsewhere")}}
    r = arm.req("POST", f"{arm.item_path('vm-a')}/recoveryPoints/{point}/restore", json=restore)
    assert _code(r) == "UserErrorStorageAccountNotFound"
    assert _code(arm.req("PUT", arm.vault_path.replace("vault1", "v"), api="2026-11-01", json={"sku": {}})) == "LocationRequired"


# a raw ".." is resolved by the HTTP client before it is sent; its encoded form reaches us
@pytest.mark.parametrize("name", ["a%2Fb", "bad%01name", "sp ace", "%2E%2E", "a%5Cb"])
def test_hostile_names(arm: Arm, name: str) -> None:
    path = arm.vault_path.replace("/vaults/vault1", f"/vaults/{name}")
    r = arm.req("PUT", path, api="2026-11-01", json={"location": "westeurope"})
    assert _code(r) in ("InvalidResourceName", "PathNotFound")
    r = arm.get(f"{arm.vault_path}/backupPolicies/{name}")
    assert _code(r) in ("InvalidResourceName", "BMSUserErrorPolicyNotFound", "PathNotFound")


def test_oversized_body_is_refused(arm: Arm) -> None:
    r = arm.req("PUT", f"{arm.vault_path}/backupPolicies/huge", content=b'{"x": "' + b"a" * (2 << 20) + b'"}')
    assert r.status_code == 413 and _code(r) == "RequestEntityTooLarge"


def test_ratelimit_headers_count_down(arm: Arm) -> None:
    first = arm.get(arm.vault_path).headers
    second = arm.get(arm.vault_path).headers
    reads = int(first["x-ms-ratelimit-remaining-subscription-reads"])
    assert int(second["x-ms-ratelimit-remaining-subscription-reads"]) == reads - 1
    assert second["x-ms-ratelimit-remaining-subscription-writes"] == first["x-ms-ratelimit-remaining-subscription-writes"]
