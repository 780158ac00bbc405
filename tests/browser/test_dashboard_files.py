"""The dashboard's files as the server serves them: public, each with its own Content-Type,
a strict Content-Security-Policy and nosniff; nothing outside the fixed list."""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.support.servers import RunningServer


@pytest.fixture(scope="module")
def http(server: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=10.0)


@pytest.mark.parametrize(("path", "content_type", "needle"), [
    ("/dashboard", "text/html; charset=utf-8", b'<script type="module" src="/dashboard/app.js">'),
    ("/dashboard/", "text/html; charset=utf-8", b"<title>strongbox dashboard</title>"),
    ("/dashboard/app.js", "text/javascript; charset=utf-8", b"Authorization: `Bearer"),
    ("/dashboard/style.css", "text/css; charset=utf-8", b".topbar"),
    ("/dashboard/favicon.svg", "image/svg+xml", b"<svg"),
])
def test_each_file_is_served_without_a_token_with_strict_headers(
        http: httpx.Client, path: str, content_type: str, needle: bytes) -> None:
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == content_type
    assert needle in r.content
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/dashboard/secret.txt", "/dashboard/..%2Fconfig.py", "/dashboard/%2e%2e",
                                  "/dashboard/app.js/x", "/dashboard/__init__.py"])
def test_nothing_else_is_served(http: httpx.Client, path: str) -> None:
    r = http.get(path)
    assert r.status_code in (400, 404), r.text
    assert r.json()["error"]["code"] in ("PathNotFound", "InvalidResourceName")
    assert b"strongbox dashboard" not in r.content


def test_the_page_has_no_inline_script_or_style(http: httpx.Client) -> None:
    html = http.get("/dashboard/").text
    assert "<script>" not in html and "style=" not in html and "<style" not in html and " on" + "click=" not in html
