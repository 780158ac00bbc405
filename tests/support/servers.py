"""A real strongbox server in a subprocess, on a free port, over HTTPS with its generated
certificate; and PostgreSQL databases for tests (skipped on a laptop without a server,
required in CI)."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

STRONGBOX = str(Path(sys.executable).with_name("strongbox"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


def require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")


def create_pg_database() -> str:
    import psycopg

    name = f"strongbox_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, server: dict[str, Any], database_url: str | None,
                 sources: list[dict[str, Any]], restore_locations: list[dict[str, Any]]) -> Path:
    lines = ["[server]"] + [f"{k} = {toml_value(v)}" for k, v in server.items()]
    if database_url:
        lines += ["", "[database]", f"url = {toml_value(database_url)}"]
    for s in sources:
        lines += ["", "[[sources]]"] + [f"{k} = {toml_value(v)}" for k, v in s.items()]
    for r in restore_locations:
        lines += ["", "[[restore_locations]]"] + [f"{k} = {toml_value(v)}" for k, v in r.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class RunningServer:
    config: Path
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"

    def token(self, subscription: str, role: str = "Owner", *, resource_group: str | None = None,
              ttl: str | None = None) -> str:
        extra = (["--resource-group", resource_group] if resource_group else []) + (["--ttl", ttl] if ttl else [])
        out = subprocess.run([STRONGBOX, "token", "issue", "--config", str(self.config), "--subscription",
                              subscription, "--role", role, *extra], capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _die_with_parent() -> None:
    """Runs in the child before exec: the server gets SIGTERM when the test process dies,
    so no server outlives an interrupted test run."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def server_env(data_dir: Path) -> dict[str, str]:
    """The environment of a test's server and CLI runs: ``XDG_CONFIG_HOME`` beside the data
    dir, so the KEK file that seals the master key is never written into the real home."""
    return {**os.environ, "XDG_CONFIG_HOME": str(data_dir.parent / "config-home")}


def start_server(config: Path, data_dir: Path, port: int | None = None, timeout: float = 30.0) -> RunningServer:
    port = port or free_port()
    log_path = data_dir.parent / f"server-{port}-{uuid.uuid4().hex[:6]}.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([STRONGBOX, "serve", "--config", str(config), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                            env=server_env(data_dir))
    log.close()
    server = RunningServer(config, data_dir, port, proc, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        if server.ca.exists():
            try:
                httpx.get(f"{server.base_url}/", verify=ssl.create_default_context(cafile=str(server.ca)), timeout=1.0)
                return server
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start in {timeout}s:\n{server.log()}")


@dataclass
class Database:
    kind: str
    url: str | None


def database_param(kind: str) -> Iterator[Database]:
    if kind == "sqlite":
        yield Database("sqlite", None)
        return
    require_postgres()
    name = create_pg_database()
    try:
        yield Database("postgres", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    finally:
        drop_pg_database(name)


@contextmanager
def serving(config: Path, data_dir: Path) -> Iterator[RunningServer]:
    """A server for the duration of a block; on the way out it is stopped and its log must
    hold no traceback (no request or job may have crashed it, whatever the test asserted)."""
    server = start_server(config, data_dir)
    try:
        yield server
    finally:
        server.stop()
    log = server.log()
    assert "Traceback" not in log, log


@contextmanager
def serving_pair(config: Path, data_dir: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two servers on one config (one database, one data dir) for a block; like
    :func:`serving`, neither log may hold a traceback."""
    a = start_server(config, data_dir)
    try:
        b = start_server(config, data_dir)
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
    assert "Traceback" not in a.log() + b.log()


@contextmanager
def vm_pair(kind: str, tmp_path: Path, vms: tuple[str, ...], server: dict[str, Any],
            extra_toml: str = "") -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two servers (see :func:`serving_pair`) on a fresh database of ``kind`` ("sqlite" or
    "postgres"), serving one source per VM name, each a small tree under ``tmp_path/src``.
    ``server`` is the ``[server]`` table (``data_dir`` is set here); ``extra_toml`` is
    appended to the config as it is."""
    from tests.support.arm import RG, SUB
    from tests.support.trees import make_tree

    gen = database_param(kind)
    db = next(gen)
    try:
        sources = []
        for vm in vms:
            make_tree(tmp_path / "src" / vm)
            sources.append({"subscription": SUB, "resource_group": RG, "name": vm,
                            "paths": [str(tmp_path / "src" / vm)]})
        config = write_config(tmp_path / "strongbox.toml", {"data_dir": str(tmp_path / "data"), **server},
                              db.url, sources, [])
        if extra_toml:
            with config.open("a") as f:
                f.write(extra_toml)
        with serving_pair(config, tmp_path / "data") as pair:
            yield pair
    finally:
        for _ in gen:
            pass
