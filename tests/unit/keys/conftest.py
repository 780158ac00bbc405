"""Fixtures for the key tests: a private config home (the KEK file never lands in the real
home), no master passphrase unless a test sets one, and cheap KDFs."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongbox import masterkey
from strongbox.dataplane import keys


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in (masterkey.PASSPHRASE_ENV, masterkey.NEW_PASSPHRASE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(keys, "KDF_TIME", 1)
    monkeypatch.setattr(keys, "KDF_MEMORY_KIB", 1024)
    monkeypatch.setattr(masterkey, "KDF_TIME", 1)
    monkeypatch.setattr(masterkey, "KDF_MEMORY_KIB", 1024)
    return home
