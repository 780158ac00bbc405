"""Every top-level command is reachable as a sub-command (a regression: mounting only the
command being run once turned `strongbox serve` into the whole program)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STRONGBOX = str(Path(sys.executable).with_name("strongbox"))


@pytest.mark.parametrize("command", ["serve", "vault", "token"])
def test_each_command_has_help(command: str) -> None:
    out = subprocess.run([STRONGBOX, command, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"strongbox {command}" in out.stdout


def test_top_level_help_lists_every_command() -> None:
    out = subprocess.run([STRONGBOX, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("serve", "vault", "token"):
        assert command in out.stdout
