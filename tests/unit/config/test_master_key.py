"""master_key: created once and sealed (0600 in a 0700 folder), stable afterwards, refused
when damaged. The sealing rules themselves are tested in tests/unit/keys/."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from strongbox.config import load_settings, master_key
from strongbox.domain.errors import ConfigError


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))   # the KEK file goes here
    monkeypatch.delenv("STRONGBOX_MASTER_PASSPHRASE", raising=False)


def test_created_once_with_private_modes(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    key = master_key(settings)
    path = settings.keys_dir / "master.key"
    assert len(key) == 32 and key not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.keys_dir.stat().st_mode) == 0o700
    assert master_key(settings) == key
    assert master_key(load_settings(data_dir=tmp_path / "other")) != key
    assert sorted(p.name for p in settings.keys_dir.iterdir()) == ["data-dir.id", "master.key"], \
        "no temporary left behind"


def test_a_damaged_key_is_refused(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    settings.keys_dir.mkdir()
    (settings.keys_dir / "master.key").write_bytes(b"short")
    with pytest.raises(ConfigError, match="not a strongbox master key file"):
        master_key(settings)


def test_concurrent_first_use_agrees(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = load_settings(data_dir=tmp_path / "data")
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: master_key(settings), range(32)))
    assert len(keys) == 1
    assert sorted(p.name for p in settings.keys_dir.iterdir()) == ["data-dir.id", "master.key"]
    assert len(list((tmp_path / "config-home" / "strongbox" / "kek").iterdir())) == 1, "one KEK file"
