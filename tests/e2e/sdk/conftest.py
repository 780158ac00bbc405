"""One real strongbox server for the SDK suite (HTTPS with its generated CA, SQLite, small
pages, paced I/O), and factories for the official Azure SDK clients pointed at it.

Every api-version the suite runs gets its own vault and its own declared sources, so the
flows are independent and can run in any order against the one server.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient

from tests.e2e.sdk.env import (API_VERSIONS, BIG_SOURCE, IO_LIMIT_MBPS, PAGE_SIZE, POLLING_INTERVAL,
                                  RESTORE_ACCOUNT, RG, SUB, Names, StaticToken)
from tests.support.servers import RunningServer, serving, write_config
from tests.support.trees import make_big_source, make_tree

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("sdk-e2e")
    src = root / "sources"
    sources: list[dict[str, Any]] = []
    for api in API_VERSIONS:
        n = Names(api)
        make_tree(src / n.vm / "www")
        (src / n.vm / "disk0.img").write_bytes(os.urandom(4096) + bytes(2 << 20) + os.urandom(4096))
        make_big_source(src / n.big_vm, BIG_SOURCE)
        sources += [
            {"subscription": SUB, "resource_group": RG, "name": n.vm,
             "paths": [str(src / n.vm / "www"), str(src / n.vm / "disk0.img")]},
            {"subscription": SUB, "resource_group": RG, "name": n.big_vm, "paths": [str(src / n.big_vm)]},
        ]
    data = root / "data"
    locations = [{"subscription": SUB, "resource_group": RG, "name": RESTORE_ACCOUNT,
                  "path": str(root / "restores")}]
    config = write_config(root / "strongbox.toml",
                          {"data_dir": str(data), "retry_after": 0, "page_size": PAGE_SIZE,
                           "io_limit_mbps": IO_LIMIT_MBPS, "lease_seconds": 6},
                          None, sources, locations)
    with serving(config, data) as srv:
        srv.sources = src  # type: ignore[attr-defined]
        srv.restores = root / "restores"  # type: ignore[attr-defined]
        yield srv


@pytest.fixture(scope="module")
def credential(server: RunningServer) -> StaticToken:
    return StaticToken(server.token(SUB))


@pytest.fixture(scope="module")
def vault_client(server: RunningServer, credential: StaticToken) -> Iterator[RecoveryServicesClient]:
    with RecoveryServicesClient(credential, SUB, base_url=server.base_url, connection_verify=str(server.ca),
                                polling_interval=POLLING_INTERVAL) as client:
        yield client


@pytest.fixture(scope="module")
def backup_client_for(server: RunningServer,
                      credential: StaticToken) -> Iterator[Callable[[str], RecoveryServicesBackupClient]]:
    """``backup_client_for(api_version)``: one RecoveryServicesBackupClient per api-version."""
    clients: dict[str, RecoveryServicesBackupClient] = {}

    def get(api_version: str) -> RecoveryServicesBackupClient:
        if api_version not in clients:
            clients[api_version] = RecoveryServicesBackupClient(
                credential, SUB, base_url=server.base_url, connection_verify=str(server.ca),
                polling_interval=POLLING_INTERVAL, api_version=api_version)
        return clients[api_version]

    yield get
    for c in clients.values():
        c.close()
    # An error response (404, 409, ...) is never released to the client's connection pool, so
    # closing the client leaves its TLS connection open until it is garbage collected; and
    # `strongbox serve` (uvicorn) waits for open connections before it exits on SIGTERM.
    gc.collect()

