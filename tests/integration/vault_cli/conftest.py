"""The `strongbox vault` CLI as a subprocess, against a real vault on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

STRONGBOX = [sys.executable, "-c", "from strongbox.cli.main import main; main()"]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(STRONGBOX_PASSPHRASE="correct horse", STRONGBOX_KDF_TIME="1", STRONGBOX_KDF_MEMORY_KIB="1024",
               STRONGBOX_CACHE_DIR=str(tmp_path / "cache"))
    return env


Run = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def sb(cli_env: dict[str, str]) -> Run:
    def run(*args: Any, env: dict[str, str] | None = None, ok: bool = True) -> "subprocess.CompletedProcess[str]":
        proc = subprocess.run(STRONGBOX + ["vault", *map(str, args)], capture_output=True, text=True,
                              env={**cli_env, **(env or {})}, timeout=120)
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc
    return run


def popen(args: list[Any], env: dict[str, str]) -> "subprocess.Popen[str]":
    return subprocess.Popen(STRONGBOX + ["vault", *map(str, args)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
