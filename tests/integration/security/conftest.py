"""One server for the security tests: two subscriptions, two resource groups in the first,
real source folders, a restore location, and the virtual clock (so /admin routes exist)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import RunningServer, serving, write_config
from tests.support.trees import make_big_source, make_tree

SUB_B = "00000000-0000-0000-0000-00000000b002"
RG_OTHER = "rg-other"
VMS = ("vm-main", "vm-op", "vm-c", "vm-o", "vm-d")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("security")
    src = root / "sources"
    sources = []
    for vm in VMS:
        make_tree(src / vm)
        sources.append({"subscription": SUB, "resource_group": RG, "name": vm, "paths": [str(src / vm)]})
    make_big_source(src / "vm-slow", 48 << 20)
    sources.append({"subscription": SUB, "resource_group": RG, "name": "vm-slow", "paths": [str(src / "vm-slow")]})
    make_tree(src / "vm-other")
    sources.append({"subscription": SUB, "resource_group": RG_OTHER, "name": "vm-other",
                    "paths": [str(src / "vm-other")]})
    make_tree(src / "vm-b")
    sources.append({"subscription": SUB_B, "resource_group": RG, "name": "vm-b", "paths": [str(src / "vm-b")]})
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1", "path": str(root / "restores")}]
    data = root / "data"
    config = write_config(root / "strongbox.toml",
                          {"data_dir": str(data), "retry_after": 0, "io_limit_mbps": 16, "virtual_clock": True},
                          None, sources, locations)
    with serving(config, data) as srv:
        yield srv


def client(server: RunningServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=30.0, headers=headers)


@pytest.fixture(scope="module")
def owner(server: RunningServer) -> Iterator[Arm]:
    with client(server, server.token(SUB)) as http:
        yield Arm(http)


def arm_for(http: httpx.Client, **kw: str) -> Arm:
    return Arm(http, **kw)


__all__ = ["RG", "RG_OTHER", "SUB", "SUB_B", "Path", "arm_for", "client"]
