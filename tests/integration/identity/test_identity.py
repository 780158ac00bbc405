"""Sign-in and discovery routes for the Azure CLI (identity_ops, compute_ops), over HTTPS
against a real server: the cloud metadata document, the OpenID configuration, the OAuth2
client-credentials token endpoint, /subscriptions, /tenants, and the read-only VM view."""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from strongbox.config import DEFAULT_TENANT_ID
from tests.support.servers import STRONGBOX, RunningServer, serving, write_config

SUB = "00000000-0000-0000-0000-0000000d1d01"
OTHER_SUB = "00000000-0000-0000-0000-0000000d1d02"
RG = "rg-id"
TENANT = DEFAULT_TENANT_ID
TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"
SCOPE = "https://management.core.windows.net//.default"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("identity")
    for name in ("vm-1", "vm-2", "vm-other"):
        (root / "src" / name).mkdir(parents=True)
        (root / "src" / name / "f.txt").write_text(name)
    sources = [
        {"subscription": SUB, "resource_group": RG, "name": "vm-1", "paths": [str(root / "src" / "vm-1")]},
        {"subscription": SUB, "resource_group": "rg-two", "name": "vm-2",
         "paths": [str(root / "src" / "vm-2")]},
        {"subscription": OTHER_SUB, "resource_group": RG, "name": "vm-other",
         "paths": [str(root / "src" / "vm-other")]},
    ]
    data = root / "data"
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0}, None,
                          sources, [])
    with serving(config, data) as srv:
        yield srv


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                      timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def token(server: RunningServer) -> str:
    return server.token(SUB)


def issue(server: RunningServer, *args: str) -> str:
    out = subprocess.run([STRONGBOX, "token", "issue", "--config", str(server.config), *args],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def form(secret: str | None = "", **extra: str) -> dict[str, str]:
    body = {"client_id": "strongbox", "grant_type": "client_credentials", "scope": SCOPE, "client_info": "1",
            "claims": '{"access_token": {"xms_cc": {"values": ["CP1"]}}}'}
    if secret is not None:
        body["client_secret"] = secret
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- metadata and OpenID configuration: no token, no api-version --------------------------

@pytest.mark.parametrize("path", ["/metadata/endpoints", "//metadata/endpoints"])
def test_metadata_endpoints_need_no_token(http: httpx.Client, server: RunningServer, path: str) -> None:
    # absolute, as az builds it from a URL with a trailing slash ("//metadata/..." in the path)
    r = http.get(server.base_url + path, params={"api-version": "2022-09-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["authentication"]["loginEndpoint"] == server.base_url + "/"
    assert body["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    assert body["resourceManager"] == server.base_url + "/"
    assert body["suffixes"] == {}
    assert http.get("/metadata/endpoints").status_code == 200          # no api-version either


def test_openid_configuration(http: httpx.Client, server: RunningServer) -> None:
    for tenant in (TENANT, TENANT.upper()):
        r = http.get(f"/{tenant}/v2.0/.well-known/openid-configuration")
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["token_endpoint"] == f"{server.base_url}{TOKEN_PATH}"
        assert doc["authorization_endpoint"].startswith(f"{server.base_url}/{TENANT}/")
        assert doc["issuer"].split("/")[3] == TENANT        # how az reads the tenant of a non-GUID --tenant


@pytest.mark.parametrize("tenant", ["00000000-0000-0000-0000-000000000bad", "contoso.onmicrosoft.com",
                                    "common"])
def test_openid_configuration_of_an_unknown_tenant(http: httpx.Client, tenant: str) -> None:
    r = http.get(f"/{tenant}/v2.0/.well-known/openid-configuration")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_tenant" and tenant in r.json()["error_description"]


# --- the token endpoint --------------------------------------------------------------------

def test_token_for_a_strongbox_token(http: httpx.Client, server: RunningServer) -> None:
    secret = issue(server, "--subscription", SUB, "--ttl", "1h")
    r = http.post(TOKEN_PATH, data=form(secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["access_token"] == secret
    assert 3500 < body["expires_in"] <= 3600
    assert r.headers["cache-control"] == "no-store"
    subs = http.get("/subscriptions", params={"api-version": "2022-12-01"},
                    headers=bearer(body["access_token"]))
    assert subs.status_code == 200 and [s["subscriptionId"] for s in subs.json()["value"]] == [SUB]


def test_token_for_a_client_assertion(http: httpx.Client, token: str) -> None:
    r = http.post(TOKEN_PATH, data=form(None, client_assertion=token,
                  client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
    assert r.status_code == 200 and r.json()["access_token"] == token


@pytest.mark.parametrize("secret", ["not-a-token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"])
def test_token_with_a_wrong_secret(http: httpx.Client, secret: str) -> None:
    r = http.post(TOKEN_PATH, data=form(secret))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client" and "strongbox token issue" in r.json()["error_description"]


def test_token_with_an_expired_secret(http: httpx.Client, server: RunningServer) -> None:
    secret = issue(server, "--subscription", SUB, "--ttl", "1s")
    time.sleep(1.2)
    r = http.post(TOKEN_PATH, data=form(secret))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client" and "expir" in r.json()["error_description"]


def test_token_from_another_servers_key(http: httpx.Client, tmp_path: Any) -> None:
    out = subprocess.run([STRONGBOX, "token", "issue", "--data-dir", str(tmp_path), "--subscription", SUB],
                         capture_output=True, text=True, check=True)
    r = http.post(TOKEN_PATH, data=form(out.stdout.strip()))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"client_secret": ""}, 401, "invalid_client"),
    ({"client_id": ""}, 400, "invalid_request"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"grant_type": ""}, 400, "unsupported_grant_type"),
])
def test_token_bad_requests(http: httpx.Client, token: str, change: dict[str, str], status: int,
                            error: str) -> None:
    body = {**form(token), **change}
    r = http.post(TOKEN_PATH, data=body)
    assert (r.status_code, r.json()["error"]) == (status, error), r.text


def test_token_of_an_unknown_tenant(http: httpx.Client, token: str) -> None:
    r = http.post("/00000000-0000-0000-0000-000000000bad/oauth2/v2.0/token", data=form(token))
    assert r.status_code == 400 and r.json()["error"] == "invalid_tenant"


def test_token_endpoint_takes_only_post(http: httpx.Client) -> None:
    assert http.get(TOKEN_PATH).status_code == 405


# --- what a token grants --------------------------------------------------------------------

def test_subscriptions_list_only_the_tokens_own(http: httpx.Client, server: RunningServer,
                                                token: str) -> None:
    r = http.get("/subscriptions", params={"api-version": "2022-12-01"}, headers=bearer(token))
    assert r.status_code == 200, r.text
    [sub] = r.json()["value"]
    assert (sub["id"], sub["subscriptionId"], sub["tenantId"], sub["state"]) == (
        f"/subscriptions/{SUB}", SUB, TENANT, "Enabled")
    other = http.get("/subscriptions", params={"api-version": "2022-12-01"},
                     headers=bearer(server.token(OTHER_SUB))).json()["value"]
    assert [s["subscriptionId"] for s in other] == [OTHER_SUB]


def test_subscription_get(http: httpx.Client, token: str) -> None:
    r = http.get(f"/subscriptions/{SUB}", params={"api-version": "2022-12-01"}, headers=bearer(token))
    assert r.status_code == 200 and r.json()["subscriptionId"] == SUB
    r = http.get(f"/subscriptions/{OTHER_SUB}", params={"api-version": "2022-12-01"}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["error"]["code"] == "SubscriptionNotFound"


def test_subscriptions_need_a_token_and_an_api_version(http: httpx.Client, token: str) -> None:
    r = http.get("/subscriptions", params={"api-version": "2022-12-01"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"
    r = http.get("/subscriptions", headers=bearer(token))
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"


def test_tenants(http: httpx.Client, token: str) -> None:
    r = http.get("/tenants", params={"api-version": "2022-12-01"}, headers=bearer(token))
    assert r.status_code == 200 and [t["tenantId"] for t in r.json()["value"]] == [TENANT]


# --- the virtual machines view ---------------------------------------------------------------

def vm_path(sub: str, rg: str, name: str = "") -> str:
    path = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines"
    return f"{path}/{name}" if name else path


def test_vm_get_and_list(http: httpx.Client, token: str) -> None:
    q = {"api-version": "2026-04-01"}
    r = http.get(vm_path(SUB, RG, "vm-1"), params=q, headers=bearer(token))
    assert r.status_code == 200, r.text
    vm = r.json()
    assert (vm["id"], vm["name"], vm["type"], vm["location"]) == (
        vm_path(SUB, RG, "vm-1"), "vm-1", "Microsoft.Compute/virtualMachines", "westeurope")
    assert http.get(vm_path(SUB, RG.upper(), "VM-1"), params=q, headers=bearer(token)).status_code == 200
    in_rg = http.get(vm_path(SUB, RG), params=q, headers=bearer(token)).json()["value"]
    assert [v["name"] for v in in_rg] == ["vm-1"]
    in_sub = http.get(f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", params=q,
                      headers=bearer(token)).json()["value"]
    assert sorted(v["name"] for v in in_sub) == ["vm-1", "vm-2"]


def test_vm_not_declared_or_not_visible(http: httpx.Client, token: str) -> None:
    q = {"api-version": "2026-04-01"}
    r = http.get(vm_path(SUB, RG, "nope"), params=q, headers=bearer(token))
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    r = http.get(vm_path(OTHER_SUB, RG, "vm-other"), params=q, headers=bearer(token))
    assert r.status_code == 404 and r.json()["error"]["code"] == "SubscriptionNotFound"
    assert http.put(vm_path(SUB, RG, "vm-1"), params=q, headers=bearer(token), json={}).status_code == 405


def test_vm_location_follows_the_vault(http: httpx.Client, server: RunningServer) -> None:
    token = server.token(OTHER_SUB)
    q = {"api-version": "2026-04-01"}
    vault = (f"/subscriptions/{OTHER_SUB}/resourceGroups/{RG}"
             "/providers/Microsoft.RecoveryServices/vaults/v-north")
    r = http.put(vault, params={"api-version": "2026-07-01"}, headers=bearer(token),
                 json={"location": "northeurope", "sku": {"name": "Standard"}, "properties": {}})
    assert r.status_code in (200, 201), r.text
    vm = http.get(vm_path(OTHER_SUB, RG, "vm-other"), params=q, headers=bearer(token)).json()
    assert vm["location"] == "northeurope"
