"""The audit log end to end: a real server records every mutating request (refused ones
included, reads not, secrets never), `strongbox audit list` shows them, `strongbox audit
verify` passes, and after one line of the file is edited it fails naming that line."""

from __future__ import annotations

import json
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from strongbox.config import DEFAULT_TENANT_ID
from tests.support.arm import API, Arm
from tests.support.servers import STRONGBOX, RunningServer, serving, write_config

SUB = "00000000-0000-0000-0000-0000000a0d01"
OTHER_SUB = "00000000-0000-0000-0000-0000000a0d02"
RG = "rg-audit"
TOKEN_PATH = f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("audit")
    (root / "src" / "vm-1").mkdir(parents=True)
    (root / "src" / "vm-1" / "f.txt").write_text("data")
    sources = [{"subscription": SUB, "resource_group": RG, "name": "vm-1", "paths": [str(root / "src" / "vm-1")]}]
    data = root / "data"
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0, "workers": 1},
                          None, sources, [])
    with serving(config, data) as srv:
        yield srv


def audit(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STRONGBOX, "audit", *args, "--config", str(server.config)],
                          capture_output=True, text=True, timeout=60)


def listed(server: RunningServer, *args: str) -> list[dict[str, Any]]:
    done = audit(server, "list", "--output", "json", *args)
    assert done.returncode == 0, done.stderr
    records: list[dict[str, Any]] = json.loads(done.stdout)
    return records


def test_requests_are_recorded_listed_verified_and_an_edit_is_found(server: RunningServer) -> None:
    owner, reader = server.token(SUB), server.token(SUB, role="Backup Reader")
    owner_id = jwt.decode(owner, options={"verify_signature": False})["jti"]
    reader_id = jwt.decode(reader, options={"verify_signature": False})["jti"]
    tls = ssl.create_default_context(cafile=str(server.ca))
    with httpx.Client(base_url=server.base_url, verify=tls, timeout=30) as http:
        arm = Arm(http, subscription=SUB, resource_group=RG, vault="audited")
        tracked = str(uuid.uuid4())
        put = http.put(arm.vault_path, params={"api-version": API},
                       json={"location": "westeurope", "sku": {"name": "Standard"}},
                       headers={"Authorization": f"Bearer {owner}", "x-ms-client-request-id": tracked})
        assert put.status_code in (200, 201), put.text
        read = http.get(arm.vault_path, params={"api-version": API}, headers={"Authorization": f"Bearer {owner}"})
        assert read.status_code == 200
        anonymous = http.delete(arm.vault_path, params={"api-version": API})
        assert anonymous.status_code == 401
        refused = http.delete(arm.vault_path, params={"api-version": API},
                              headers={"Authorization": f"Bearer {reader}"})
        assert refused.status_code == 403, refused.text
        elsewhere = http.put(arm.vault_path.replace(SUB, OTHER_SUB), params={"api-version": API},
                             json={"location": "westeurope", "sku": {"name": "Standard"}},
                             headers={"Authorization": f"Bearer {owner}"})
        assert elsewhere.status_code == 404
        sign_in = http.post(TOKEN_PATH, data={"client_id": "strongbox", "grant_type": "client_credentials",
                                              "client_secret": owner,
                                              "scope": "https://management.core.windows.net//.default"})
        assert sign_in.status_code == 200, sign_in.text

    records = listed(server)
    assert [(r["method"], r["status"]) for r in records] == [
        ("PUT", put.status_code), ("DELETE", 401), ("DELETE", 403), ("PUT", 404), ("POST", 200)]
    created, anon, denied, other, token_route = records
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert (created["token_id"], created["role"], created["subscription"]) == (owner_id, "Owner", SUB)
    assert created["operation"] == "vaults_create_or_update" and created["result"] == "Succeeded"
    assert created["resource"] == arm.vault_path and created["client_request_id"] == tracked
    assert created["request_id"] == put.headers["x-ms-request-id"] and created["error"] is None
    assert (anon["token_id"], anon["error"], anon["result"]) == (None, "AuthenticationFailed", "Failed")
    assert (denied["token_id"], denied["role"], denied["error"]) == (reader_id, "Backup Reader", "AuthorizationFailed")
    assert denied["operation"] == "vaults_delete"
    assert (other["token_id"], other["error"]) == (owner_id, "SubscriptionNotFound")
    assert token_route["operation"] == "token" and token_route["token_id"] is None
    log_text = (server.data_dir / "audit" / "audit.log").read_text()
    assert owner not in log_text and reader not in log_text, "tokens are never recorded"
    assert "client_secret" not in log_text and "api-version" not in log_text

    assert [r["seq"] for r in listed(server, "--token-id", owner_id)] == [1, 4]
    assert [r["seq"] for r in listed(server, "--limit", "2")] == [4, 5]
    assert listed(server, "--since", "2000-01-01", "--until", created["time"]) == []
    table = audit(server, "list")
    assert table.returncode == 0 and "vaults_delete" in table.stdout and "AuthorizationFailed" in table.stdout

    intact = audit(server, "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact, 5 records" in intact.stdout

    log_path = server.data_dir / "audit" / "audit.log"
    lines = log_path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"status":403', '"status":200')   # hide the refused delete
    log_path.write_text("".join(lines))
    tampered = audit(server, "verify")
    assert tampered.returncode == 8, (tampered.stdout, tampered.stderr)
    assert tampered.stderr.startswith("error: AuditLogTampered: ")
    assert f"line 3 of {log_path}" in tampered.stderr and "edited" in tampered.stderr
