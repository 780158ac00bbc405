"""Transport and throttling: an operator's certificate is served as given, HTTPS answers carry
HSTS, a bad certificate stops the server with a clear message, and a subscription past its
request budget gets 429 with a true Retry-After while others flow."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import httpx

from strongbox.certs import ensure_tls
from tests.integration.security.conftest import SUB_B
from tests.support.arm import SUB, Arm
from tests.support.servers import STRONGBOX, free_port, server_env, serving, write_config

VAULT = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}


def _served_certificate(port: int, ca: Path) -> bytes:
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def test_an_operator_certificate_is_served_with_hsts(tmp_path: Path) -> None:
    operator = ensure_tls(tmp_path / "operator-pki", ["127.0.0.1"])
    data = tmp_path / "data"
    (data / "tls").mkdir(parents=True)
    shutil.copy(operator.ca_cert, data / "tls" / "ca.pem")   # what the test client trusts
    config = write_config(tmp_path / "strongbox.toml",
                          {"data_dir": str(data), "tls_cert": str(operator.cert), "tls_key": str(operator.key)},
                          None, [], [])
    with serving(config, data) as server:
        served = _served_certificate(server.port, operator.ca_cert)
        expected = ssl.PEM_cert_to_DER_cert(operator.cert.read_text())
        assert served == expected
        assert not (data / "tls" / "server.pem").exists()     # nothing generated beside it
        with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(operator.ca_cert)),
                          headers={"Authorization": f"Bearer {server.token(SUB)}"}) as http:
            r = Arm(http).get("/subscriptions", api="2022-12-01")
            assert r.status_code == 200
            assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
            # Refusals carry it too.
            assert Arm(http).get("/nowhere").headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_certificate_that_cannot_serve_stops_the_server_with_a_clear_error(tmp_path: Path) -> None:
    other = ensure_tls(tmp_path / "other-pki", ["127.0.0.1"])
    mine = ensure_tls(tmp_path / "mine-pki", ["127.0.0.1"])
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    cases = [({"tls_cert": str(mine.cert), "tls_key": str(other.key)}, "cannot serve TLS"),
             ({"tls_cert": str(tmp_path / "garbage.pem"), "tls_key": str(mine.key)}, "cannot serve TLS"),
             ({"tls_cert": str(tmp_path / "missing.pem"), "tls_key": str(mine.key)}, "is not a readable file"),
             ({"tls_cert": str(mine.cert)}, "go together")]
    for i, (tls, message) in enumerate(cases):
        data = tmp_path / f"data{i}"
        config = write_config(tmp_path / f"bad{i}.toml", {"data_dir": str(data), **tls}, None, [], [])
        run = subprocess.run([STRONGBOX, "serve", "--config", str(config), "--port", str(free_port())],
                             capture_output=True, text=True, timeout=60, env=server_env(data))
        assert run.returncode != 0, (tls, run.stdout)
        assert message in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_past_its_budget_a_subscription_is_throttled_with_retry_after(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "strongbox.toml",
                          {"data_dir": str(data), "reads_per_hour": 6, "writes_per_hour": 3}, None, [], [])
    with serving(config, data) as server:
        verify = ssl.create_default_context(cafile=str(server.ca))
        with httpx.Client(base_url=server.base_url, verify=verify,
                          headers={"Authorization": f"Bearer {server.token(SUB)}"}) as http, \
                httpx.Client(base_url=server.base_url, verify=verify,
                             headers={"Authorization": f"Bearer {server.token(SUB_B)}"}) as http_b, \
                httpx.Client(base_url=server.base_url, verify=verify) as anonymous:
            arm = Arm(http)
            for _ in range(5):   # requests without a token spend nobody's budget
                assert Arm(anonymous).get(arm.vault_path).status_code == 401
            left = []
            for name in ("v1", "v2", "v3"):
                r = arm.req("PUT", arm.vault_path.replace("/vault1", f"/{name}"), json=VAULT)
                assert r.status_code in (200, 201), r.text
                left.append(int(r.headers["x-ms-ratelimit-remaining-subscription-writes"]))
            assert left == [2, 1, 0]
            r = arm.req("PUT", arm.vault_path.replace("/vault1", "/v4"), json=VAULT)
            assert r.status_code == 429, r.text
            assert r.json()["error"]["code"] == "SubscriptionRequestsThrottled"
            assert 1180 <= int(r.headers["Retry-After"]) <= 1200     # 3 an hour: one every 20 minutes
            assert r.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
            # The refused write did nothing; reads have their own budget; other subscriptions are untouched.
            got = arm.get(arm.vault_path.replace("/vault1", "/v4"))
            assert got.status_code == 404
            assert int(got.headers["x-ms-ratelimit-remaining-subscription-reads"]) == 5
            b = Arm(http_b, subscription=SUB_B)
            assert b.req("PUT", b.vault_path, json=VAULT).status_code in (200, 201)
            for _ in range(5):
                assert arm.get(arm.vault_path).status_code == 404
            last = arm.get(arm.vault_path)
            assert last.status_code == 429 and 580 <= int(last.headers["Retry-After"]) <= 600
