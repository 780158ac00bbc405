"""A real strongbox server (SQLite) with a vault, a policy and two protected items, and a
headless Debian Chromium driven by Playwright against its dashboard.

Chromium is Debian's ``/usr/bin/chromium`` (``scripts/test`` installs it when missing); the
Playwright wheel brings its own driver, and no browser is ever downloaded. Without Chromium
the browser tests skip on a laptop and fail under ``CI=true``. Screenshots land in
``test-artifacts/`` at the top of the repository (git-ignored).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import RunningServer, serving, write_config
from tests.support.trees import make_big_source, make_tree

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BIG_MB = 64         # vm-big: read at IO_LIMIT_MBPS, a backup runs for several seconds
IO_LIMIT_MBPS = 10


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("dashboard")
    src = root / "sources"
    make_big_source(src / "vm-big", BIG_MB << 20)
    make_tree(src / "vm-small" / "www")
    sources = [
        {"subscription": SUB, "resource_group": RG, "name": "vm-big", "paths": [str(src / "vm-big")]},
        {"subscription": SUB, "resource_group": RG, "name": "vm-small", "paths": [str(src / "vm-small")]},
    ]
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1", "path": str(root / "restores")}]
    data = root / "data"
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0,
                                                     "io_limit_mbps": IO_LIMIT_MBPS},
                          None, sources, locations)
    with serving(config, data) as srv:
        srv.restores = root / "restores"  # type: ignore[attr-defined]
        yield srv


@pytest.fixture(scope="package")
def arm(server: RunningServer) -> Iterator[Arm]:
    """The Owner's client: sets the stage (vault, policy, both items protected, one backup of
    vm-small so that it has a recovery point) and checks what the browser did."""
    token = server.token(SUB)
    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                      timeout=30.0, headers={"Authorization": f"Bearer {token}"}) as http:
        a = Arm(http)
        a.create_vault()
        a.create_policy()
        for vm in ("vm-big", "vm-small"):
            a.wait_job(a.enable(vm))
        _, job = a.backup("vm-small")
        assert a.wait_job(job)["properties"]["status"] == "Completed"
        yield a


@pytest.fixture(scope="package")
def tokens(server: RunningServer) -> dict[str, str]:
    return {role: server.token(SUB, role) for role in ("Backup Reader", "Backup Operator")}


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required in CI (scripts/test installs Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        # launch() gives every run a fresh, empty profile (its own --user-data-dir)
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: RunningServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new browser context (its own sessionStorage) on the dashboard; the server's generated
    certificate is not in the browser's trust store, so the context accepts it."""
    context = browser.new_context(ignore_https_errors=True, base_url=server.base_url,
                                  viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    try:
        yield pg
    finally:
        context.close()
    # no script error and no CSP violation, whatever the test did (4xx answers the page asked
    # for on purpose are logged by Chromium as failed loads: those are allowed)
    assert not [p for p in problems if "Failed to load resource" not in p], problems


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
