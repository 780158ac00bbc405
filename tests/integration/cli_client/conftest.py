"""One real server for the server-facing CLI tests (`strongbox job|item|point|backup|restore`),
with sources that end each way (vm-a: Completed, vm-warn: CompletedWithWarnings through an
unreadable FIFO, vm-gone: Failed, its path missing, vm-big: slow enough to cancel), two
vaults (vm-b is protected in the second) and a declared restore location.

The CLI runs as a subprocess in an empty folder, with no STRONGBOX_* variable from the
outside and ``XDG_CONFIG_HOME`` in the test's tree, so no real profile or data dir is read.
"""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.arm import RG, SUB, Arm
from tests.support.servers import STRONGBOX, RunningServer, serving, write_config
from tests.support.trees import make_big_source, make_tree

SLOW_MBPS = 8       # io_limit_mbps: vm-big (48 MB) runs for seconds, long enough to cancel


@dataclass
class Site:
    server: RunningServer
    arm: Arm                    # vault1, Owner
    arm2: Arm                   # vault2, Owner
    token: str                  # Owner
    home: Path                  # XDG_CONFIG_HOME of the CLI runs
    workdir: Path               # the CLI's working directory (no ./strongbox-data in it)
    sources: Path
    restores: Path


CLI = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("cli-client")
    src = root / "sources"
    make_tree(src / "vm-a")
    make_tree(src / "vm-b")
    make_big_source(src / "vm-big", 48 << 20)
    (src / "vm-warn").mkdir()
    (src / "vm-warn" / "ok.txt").write_text("fine\n")
    os.mkfifo(src / "vm-warn" / "pipe")
    (src / "vm-gone").mkdir()
    sources = [{"subscription": SUB, "resource_group": RG, "name": name, "paths": [str(src / name)]}
               for name in ("vm-a", "vm-b", "vm-big", "vm-warn")]
    sources.append({"subscription": SUB, "resource_group": RG, "name": "vm-gone",
                    "paths": [str(src / "vm-gone" / "x")]})        # missing: the backup fails
    locations = [{"subscription": SUB, "resource_group": RG, "name": "restores1",
                  "path": str(root / "restores")}]
    data = root / "data"
    config = write_config(root / "strongbox.toml", {"data_dir": str(data), "retry_after": 0, "page_size": 3,
                                                     "io_limit_mbps": SLOW_MBPS},
                          None, sources, locations)
    (root / "work").mkdir()
    with serving(config, data) as server:
        token = server.token(SUB)
        tls = ssl.create_default_context(cafile=str(server.ca))
        with httpx.Client(base_url=server.base_url, verify=tls, timeout=30.0,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            arm, arm2 = Arm(http), Arm(http, vault="vault2")
            for a in (arm, arm2):
                a.create_vault()
                a.create_policy()
            for vm in ("vm-a", "vm-big", "vm-warn", "vm-gone"):
                arm.wait_job(arm.enable(vm))
            arm2.wait_job(arm2.enable("vm-b"))
            yield Site(server, arm, arm2, token, root / "config-home", root / "work", src, root / "restores")


def cli_env(site: Site, **overrides: str | None) -> dict[str, str]:
    """The environment of a CLI run: the server, token and CA in STRONGBOX_*, unless overridden
    (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGBOX_")}
    env.update(XDG_CONFIG_HOME=str(site.home), STRONGBOX_URL=site.server.base_url, STRONGBOX_TOKEN=site.token,
               STRONGBOX_CA=str(site.server.ca))
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture(scope="package")
def cli(site: Site) -> CLI:
    def run(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([STRONGBOX, *args], check=False, capture_output=True, text=True,
                              cwd=site.workdir, env=cli_env(site) if env is None else env, timeout=timeout)
        assert "Traceback" not in done.stderr, done.stderr
        return done
    return run


def popen(site: Site, *args: str, stderr: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """A CLI run in the background (stdout piped; ``stderr`` a pipe or, say, a pty's fd)."""
    return subprocess.Popen([STRONGBOX, *args], text=True, cwd=site.workdir, env=cli_env(site),
                            stdout=subprocess.PIPE, stderr=stderr)
