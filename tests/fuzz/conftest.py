"""One real strongbox server for the fuzz run (HTTPS, SQLite), with a vault, a policy, a
protected VM, a recovery point and finished jobs, so that generated requests can aim at
things that exist as well as at things that do not.

The run is bounded and repeatable: ``STRONGBOX_FUZZ_SEED`` (default :data:`SEED`) seeds every
generator, ``STRONGBOX_FUZZ_EXAMPLES`` (default :data:`EXAMPLES`) is the number of requests per
served operation and generation mode; everything else scales from it. The server uses SQLite;
``STRONGBOX_FUZZ_DATABASE=postgres`` runs it on PostgreSQL (by hand: CI runs SQLite only, to stay
within its minute).
"""

from __future__ import annotations

import dataclasses
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongbox.config import ServerSettings
from tests.fuzz import spec
from tests.fuzz.checks import tracebacks
from tests.support.arm import RG, SUB, Arm
from tests.support.servers import RunningServer, database_param, serving, write_config

SEED = 20264
EXAMPLES = 20
VAULT = "fuzzvault"
VM, SPARE_VM = "vm-fuzz", "vm-spare"


def seed() -> int:
    return int(os.environ.get("STRONGBOX_FUZZ_SEED", SEED))


def examples() -> int:
    return max(1, int(os.environ.get("STRONGBOX_FUZZ_EXAMPLES", EXAMPLES)))


@dataclass
class Target:
    """The live server and the names and ids that exist on it."""

    server: RunningServer
    token: str
    arm: Arm
    known: dict[str, str]             # path parameter -> a value that names something real

    @property
    def verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.server.ca))

    def assert_alive(self) -> None:
        """The server process runs, answers, and has logged no traceback."""
        assert self.server.process.poll() is None, self.server.log()[-3000:]
        assert self.arm.get(self.arm.vault_path).status_code == 200, "the server no longer answers"
        crash = tracebacks(self.server.log())
        assert not crash, crash


def _small_tree(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("fuzz\n")
    (root / "data.bin").write_bytes(os.urandom(64 << 10))


@pytest.fixture(scope="package")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if not spec.available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Azure's OpenAPI files are required in CI (looked in {spec.SPEC_DIR})")
        pytest.skip(f"Azure's OpenAPI files are not at {spec.SPEC_DIR}")
    root = tmp_path_factory.mktemp("fuzz")
    for vm in (VM, SPARE_VM):
        _small_tree(root / "sources" / vm)
    sources = [{"subscription": SUB, "resource_group": RG, "name": vm, "paths": [str(root / "sources" / vm)]}
               for vm in (VM, SPARE_VM)]
    locations = [{"subscription": SUB, "resource_group": RG, "name": "fuzzrestores", "path": str(root / "restores")}]
    server: dict[str, Any] = {"data_dir": str(root / "data"), "retry_after": 0, "page_size": 5, "workers": 1}
    # thousands of requests in a minute: lift the per-subscription hourly budgets where the server has them
    fields = {f.name for f in dataclasses.fields(ServerSettings)}
    server.update({key: 10_000_000 for key in ("reads_per_hour", "writes_per_hour") if key in fields})
    databases = database_param(os.environ.get("STRONGBOX_FUZZ_DATABASE", "sqlite"))
    database = next(databases)
    config = write_config(root / "strongbox.toml", server, database.url, sources, locations)
    with serving(config, root / "data") as srv:
        token = srv.token(SUB)
        with httpx.Client(base_url=srv.base_url, verify=ssl.create_default_context(cafile=str(srv.ca)),
                          timeout=30.0, headers={"Authorization": f"Bearer {token}"}) as http:
            arm = Arm(http, vault=VAULT)
            arm.create_vault()
            arm.create_policy()
            arm.wait_job(arm.enable(VM))
            arm.wait_job(arm.enable(SPARE_VM))
            response, job = arm.backup(VM)
            arm.wait_job(job)
            operation = response.headers["Azure-AsyncOperation"].split("?")[0].rsplit("/", 1)[-1]
            known = {
                "subscriptionId": SUB, "resourceGroupName": RG, "vaultName": VAULT, "fabricName": "Azure",
                "policyName": "daily", "containerName": arm.container(VM),
                "protectedItemName": f"VM;iaasvmcontainerv2;{RG};{VM}",
                "recoveryPointId": arm.points(VM)[0]["name"], "jobName": job, "operationId": operation,
            }
            yield Target(srv, token, arm, known)
    for _ in databases:     # drop the PostgreSQL database, if any
        pass
