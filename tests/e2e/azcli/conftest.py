"""The Azure CLI, unmodified, against a real strongbox process.

``az`` lives in a virtual environment of its own (``.venv-az/`` in the repo root, created on
first use: it pins other SDK versions than the project's test venv). Every ``az`` run gets
a fresh ``AZURE_CONFIG_DIR`` per test module and ``REQUESTS_CA_BUNDLE`` set to the server's
generated CA; nothing else is configured, and no client code is patched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import RunningServer, serving, write_config
from tests.support.trees import make_big_source, make_tree

REPO = Path(__file__).resolve().parents[3]
AZ_VENV = REPO / ".venv-az"
AZURE_CLI = "azure-cli==2.91.0"            # the version docs/spec/clients/azure-cli.md was checked with
AZ_INSTALL_TIMEOUT = 900

SUB = "00000000-0000-0000-0000-0000000a2c11"
RG = "rg-az"
VM = "web-01"
BIG_VM = "big-01"
BIG_SOURCE = 64 << 20          # at IO_LIMIT_MBPS: a backup that runs for several seconds
IO_LIMIT_MBPS = 8
RESTORE_ACCOUNT = "azrestores"
LOCATION = "westeurope"


def ensure_az() -> Path:
    """``.venv-az/bin/az``, installing ``azure-cli`` into ``.venv-az`` if it is not there."""
    az = AZ_VENV / "bin" / "az"
    marker = AZ_VENV / f".installed-{AZURE_CLI}"
    if az.exists() and marker.exists():
        return az
    if not (AZ_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(AZ_VENV)], check=True)
    started = time.monotonic()
    out = subprocess.run([str(AZ_VENV / "bin" / "python"), "-m", "pip", "install", "-q", AZURE_CLI],
                         capture_output=True, text=True, timeout=AZ_INSTALL_TIMEOUT)
    if out.returncode != 0 or not az.exists():
        raise RuntimeError(f"pip install {AZURE_CLI} failed ({out.returncode}):\n{out.stdout[-4000:]}\n"
                           f"{out.stderr[-4000:]}")
    marker.write_text(f"installed in {time.monotonic() - started:.0f}s\n")
    return az


class AzError(AssertionError):
    pass


@dataclass
class Az:
    """Runs ``az`` with its own config dir and the server's CA; records each command's time."""

    binary: Path
    config_dir: Path
    ca: Path
    timings: list[tuple[str, float]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AZURE_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"))}
        env.update(AZURE_CONFIG_DIR=str(self.config_dir), REQUESTS_CA_BUNDLE=str(self.ca),
                   AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_NO_COLOR="true",
                   AZURE_CORE_SURVEY_MESSAGE="false", NO_PROXY="127.0.0.1,localhost",
                   no_proxy="127.0.0.1,localhost")
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        proc = subprocess.run([str(self.binary), *args, "--only-show-errors", "--output", "json"],
                              capture_output=True, text=True, env=self.env(), timeout=timeout)
        self.timings.append((" ".join(args[:3]), time.monotonic() - started))
        if check and proc.returncode != 0:
            raise AzError(f"az {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\n"
                          f"stderr: {proc.stderr}")
        return proc

    def json(self, *args: str, timeout: float = 120.0) -> Any:
        out = self.run(*args, timeout=timeout).stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture(scope="session")
def az_binary() -> Path:
    return ensure_az()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("azcli-e2e")
    src = root / "sources"
    make_tree(src / VM / "www")
    make_big_source(src / BIG_VM, BIG_SOURCE)
    sources = [
        {"subscription": SUB, "resource_group": RG, "name": VM, "paths": [str(src / VM / "www")]},
        {"subscription": SUB, "resource_group": RG, "name": BIG_VM, "paths": [str(src / BIG_VM)]},
    ]
    locations = [{"subscription": SUB, "resource_group": RG, "name": RESTORE_ACCOUNT,
                  "path": str(root / "restores")}]
    data = root / "data"
    config = write_config(root / "strongbox.toml",
                          {"data_dir": str(data), "retry_after": 0, "io_limit_mbps": IO_LIMIT_MBPS,
                           "lease_seconds": 6},
                          None, sources, locations)
    with serving(config, data) as srv:
        yield srv


@pytest.fixture(scope="module")
def az(az_binary: Path, server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Az:
    return Az(az_binary, tmp_path_factory.mktemp("azure-config"), server.ca)
