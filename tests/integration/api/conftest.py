"""One strongbox server per database kind (SQLite, PostgreSQL) for the API tests, with
declared sources made of real files and one declared restore location."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import RunningServer, database_param, serving, write_config
from tests.support.trees import make_big_source, make_tree

SLOW_MBPS = 20      # io_limit_mbps: long jobs are observable and cancellable mid-run


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    gen = database_param(request.param)
    db = next(gen)
    root = tmp_path_factory.mktemp(f"api-{db.kind}")
    src = root / "sources"
    make_tree(src / "vm-a" / "www")
    (src / "vm-a" / "disk0.img").write_bytes(os.urandom(4096) + bytes(3 << 20) + os.urandom(4096))
    make_big_source(src / "vm-big", 48 << 20)
    (src / "vm-warn").mkdir(parents=True)
    (src / "vm-warn" / "ok.txt").write_text("fine\n")
    os.mkfifo(src / "vm-warn" / "pipe")
    (src / "vm-gone").mkdir()
    (src / "vm-grow").mkdir()
    make_tree(src / "vm-links" / "tree")
    os.symlink("/etc/hostname", src / "vm-links" / "tree" / "absolute-link")
    (src / "vm-grow" / "growing.log").write_bytes(os.urandom(96 << 20))  # longer than the reader can run ahead
    data = root / "data"
    sources = [
        {"subscription": SUB, "resource_group": RG, "name": "vm-a",
         "paths": [str(src / "vm-a" / "www"), str(src / "vm-a" / "disk0.img")]},
        {"subscription": SUB, "resource_group": RG, "name": "vm-big", "paths": [str(src / "vm-big")]},
        {"subscription": SUB, "resource_group": RG, "name": "vm-warn", "paths": [str(src / "vm-warn")]},
        {"subscription": SUB, "resource_group": RG, "name": "vm-gone", "paths": [str(src / "vm-gone" / "x")]},
        {"subscription": SUB, "resource_group": RG, "name": "vm-grow", "paths": [str(src / "vm-grow")]},
        {"subscription": SUB, "resource_group": RG, "name": "vm-links", "paths": [str(src / "vm-links" / "tree")]},
    ]
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1", "path": str(root / "restores")}]
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0, "page_size": 5,
                                                     "io_limit_mbps": SLOW_MBPS, "lease_seconds": 6},
                          db.url, sources, locations)
    try:
        with serving(config, data) as srv:
            srv.sources = src  # type: ignore[attr-defined]
            srv.restores = root / "restores"  # type: ignore[attr-defined]
            yield srv
    finally:
        for _ in gen:   # drop the PostgreSQL database, if any
            pass


@pytest.fixture(scope="module")
def arm(server: RunningServer) -> Iterator[Arm]:
    token = server.token(SUB)
    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30.0,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        a = Arm(http)
        a.create_vault(soft_delete=False)   # these tests delete data and protect the VM again at once
        a.create_policy()
        yield a
