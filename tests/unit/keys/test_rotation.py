"""Key rotation in process, against real vaults on disk: the vault keys are rewrapped, not the
data; an interruption after any step leaves every vault openable the way the server opens it
(``master_key`` + ``LocalVaultStorage``), and running ``rotate`` again finishes the job."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from strongbox import keyrotation
from strongbox.bootstrap import LocalVaultStorage
from strongbox.config import Settings, key_paths, load_settings, master_key
from strongbox.datalock import hold_for_serving
from strongbox.dataplane.errors import WrongPassphrase
from strongbox.domain.errors import ConfigError, DataDirInUse
from strongbox.masterkey import vault_passphrase
from tests.support.trees import describe, make_tree

VAULTS = ("vault-a", "vault-b")


def _settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def _storage(settings: Settings) -> LocalVaultStorage:
    """The vaults as a freshly started server sees them."""
    return LocalVaultStorage(settings.vaults_dir, master_key(settings), settings.cache_dir)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = _settings(tmp_path)
    make_tree(tmp_path / "src")
    storage = _storage(settings)
    for name in VAULTS:
        storage.create(name)
        storage.open(name).backup([tmp_path / "src"])
    return settings


def _data_files(settings: Settings) -> dict[str, str]:
    """Every vault object but the key files, by content hash: rotation must not touch them."""
    return {str(p.relative_to(settings.vaults_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in settings.vaults_dir.rglob("*") if p.is_file() and p.parent.name != "keys"}


def _key_files(settings: Settings, vault: str) -> list[str]:
    return sorted(p.name for p in (settings.vaults_dir / vault / "keys").iterdir())


def _assert_restores(settings: Settings, tmp_path: Path) -> None:
    storage = _storage(settings)
    for name in VAULTS:
        target = tmp_path / "out" / name
        storage.open(name).restore("latest", target)
        assert describe(target / "src") == describe(tmp_path / "src")
        target.rename(tmp_path / "out" / f"{name}-{os.urandom(4).hex()}")


def test_rotate_rewraps_every_vault_key_and_nothing_else(settings: Settings, tmp_path: Path) -> None:
    old = master_key(settings)
    data_before = _data_files(settings)
    keys_before = {name: _key_files(settings, name) for name in VAULTS}

    report = keyrotation.rotate(key_paths(settings), settings.vaults_dir)

    assert report.vaults == 2 and not report.resumed
    new = master_key(settings)
    assert new != old
    assert _data_files(settings) == data_before
    for name in VAULTS:
        keys_now = _key_files(settings, name)
        assert len(keys_now) == 1 and keys_now != keys_before[name]
        with pytest.raises(WrongPassphrase):   # the old secret opens nothing any more
            LocalVaultStorage(settings.vaults_dir, old, settings.cache_dir).open(name)
    assert sorted(p.name for p in settings.keys_dir.iterdir()) == ["data-dir.id", "master.key"]
    _assert_restores(settings, tmp_path)


def _stop_after_begin(s: Settings) -> None:
    keyrotation.begin(key_paths(s), s.vaults_dir)


def _stop_after_one_vault(s: Settings) -> None:
    rotation = keyrotation.begin(key_paths(s), s.vaults_dir)
    folder = s.vaults_dir / VAULTS[0]
    keyrotation._open(folder, rotation.old).add_key(vault_passphrase(rotation.new, folder.name))


def _stop_before_switch(s: Settings) -> None:
    rotation = keyrotation.begin(key_paths(s), s.vaults_dir)
    keyrotation.add_new_keys(rotation)
    (s.keys_dir / keyrotation.OLD).write_bytes((s.keys_dir / "master.key").read_bytes())   # switch, first half


def _stop_after_switch(s: Settings) -> None:
    rotation = keyrotation.begin(key_paths(s), s.vaults_dir)
    keyrotation.add_new_keys(rotation)
    keyrotation.switch(rotation)


def _stop_mid_finish(s: Settings) -> None:
    rotation = keyrotation.switch(_prepared(s))
    folder = s.vaults_dir / VAULTS[0]
    keyrotation._open(folder, rotation.new).remove_keys_opened_by(vault_passphrase(rotation.old, folder.name))


def _prepared(s: Settings) -> keyrotation.Rotation:
    rotation = keyrotation.begin(key_paths(s), s.vaults_dir)
    keyrotation.add_new_keys(rotation)
    return rotation


@pytest.mark.parametrize("crash", [_stop_after_begin, _stop_after_one_vault, _stop_before_switch,
                                   _stop_after_switch, _stop_mid_finish])
def test_an_interrupted_rotation_leaves_every_vault_openable_and_resumes(
        settings: Settings, tmp_path: Path, crash: Callable[[Settings], None]) -> None:
    old = master_key(settings)
    crash(settings)
    _assert_restores(settings, tmp_path)           # a server started now opens every vault
    storage = _storage(settings)
    storage.create("vault-made-meanwhile")         # ... and may create one before the rotation resumes
    storage.open("vault-made-meanwhile").backup([tmp_path / "src"])
    pending_secret = None
    if (settings.keys_dir / keyrotation.NEXT).exists():
        from strongbox.masterkey import open_sealed
        pending_secret = open_sealed(settings.keys_dir / keyrotation.NEXT, key_paths(settings), os.environ)[0]

    report = keyrotation.rotate(key_paths(settings), settings.vaults_dir)

    assert report.resumed and report.vaults == 3
    new = master_key(settings)
    assert new != old and (pending_secret is None or new == pending_secret)
    for name in (*VAULTS, "vault-made-meanwhile"):
        assert len(_key_files(settings, name)) == 1
        with pytest.raises(WrongPassphrase):
            LocalVaultStorage(settings.vaults_dir, old, settings.cache_dir).open(name)
    assert sorted(p.name for p in settings.keys_dir.iterdir()) == ["data-dir.id", "master.key"]
    _assert_restores(settings, tmp_path)
    assert not keyrotation.rotate(key_paths(settings), settings.vaults_dir).resumed   # the next one is new


def test_rotate_is_refused_while_a_server_holds_the_data_dir(settings: Settings) -> None:
    before = (settings.keys_dir / "master.key").read_bytes()
    fd = hold_for_serving(settings.data_dir)
    try:
        with pytest.raises(DataDirInUse, match="stop it before rotating keys"):
            keyrotation.rotate(key_paths(settings), settings.vaults_dir)
        with pytest.raises(DataDirInUse):
            keyrotation.rotate_kek(key_paths(settings))
    finally:
        os.close(fd)
    assert (settings.keys_dir / "master.key").read_bytes() == before
    assert not (settings.keys_dir / keyrotation.NEXT).exists()
    with keyrotation.exclusive(settings.data_dir, "testing"), pytest.raises(DataDirInUse, match="key rotate"):
        hold_for_serving(settings.data_dir)       # and no server starts during a rotation


def test_a_vault_neither_secret_opens_stops_the_rotation_before_the_switch(settings: Settings,
                                                                           tmp_path: Path) -> None:
    old = master_key(settings)
    stranger = settings.vaults_dir / "vault-c"
    LocalVaultStorage(settings.vaults_dir, os.urandom(32), settings.cache_dir).create("vault-c")
    with pytest.raises(WrongPassphrase, match="vault-c opens with neither"):
        keyrotation.rotate(key_paths(settings), settings.vaults_dir)
    assert master_key(settings) == old
    assert stranger.exists()
    _assert_restores(settings, tmp_path)


def test_the_kek_is_not_changed_in_the_middle_of_a_rotation(settings: Settings) -> None:
    keyrotation.begin(key_paths(settings), settings.vaults_dir)
    with pytest.raises(ConfigError, match="finish it first"):
        keyrotation.rotate_kek(key_paths(settings))
    keyrotation.rotate(key_paths(settings), settings.vaults_dir)
    secret = master_key(settings)
    sealed = json.loads((settings.keys_dir / "master.key").read_bytes())["sealed"]
    assert keyrotation.rotate_kek(key_paths(settings)).kind == "file"
    assert master_key(settings) == secret
    assert json.loads((settings.keys_dir / "master.key").read_bytes())["sealed"] != sealed
