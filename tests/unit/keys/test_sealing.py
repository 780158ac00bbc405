"""The master secret is sealed at rest: never in the clear in the data dir, opened only by its
KEK (a passphrase, or a KEK file outside the data dir), legacy clear files sealed in place."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from strongbox.bootstrap import LocalVaultStorage
from strongbox.config import load_settings, master_key
from strongbox.domain.errors import ConfigError
from strongbox.masterkey import PASSPHRASE_ENV, KeyPaths, load_master_secret, rewrap


def _paths(tmp_path: Path, kek_file: Path | None = None) -> KeyPaths:
    data = tmp_path / "data"
    return KeyPaths(data, data / "keys", kek_file)


def _assert_not_in_clear(secret: bytes, data_dir: Path) -> None:
    forms = (secret, secret.hex().encode(), base64.b64encode(secret), base64.urlsafe_b64encode(secret))
    for path in data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(form in content for form in forms), f"the master secret is in the clear in {path}"


def test_a_new_data_dir_gets_a_sealed_master_key_and_a_kek_file_outside(tmp_path: Path, config_home: Path) -> None:
    paths = _paths(tmp_path)
    secret = load_master_secret(paths)
    doc = json.loads(paths.master.read_bytes())
    assert doc["format"] == "strongbox-master-key" and doc["version"] == 1 and doc["kek"] == "file"
    assert "kdf" not in doc
    _assert_not_in_clear(secret, paths.data_dir)
    data_dir_id = (paths.keys_dir / "data-dir.id").read_text().strip()
    kek = config_home / "strongbox" / "kek" / f"{data_dir_id}.key"
    assert [p.name for p in kek.parent.iterdir()] == [kek.name]
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600 and stat.S_IMODE(kek.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.master.stat().st_mode) == 0o600
    assert load_master_secret(paths) == secret


def test_the_wrong_kek_file_is_a_clear_config_error(tmp_path: Path, config_home: Path) -> None:
    paths = _paths(tmp_path)
    load_master_secret(paths)
    kek = next((config_home / "strongbox" / "kek").iterdir())
    kek.write_text(os.urandom(32).hex())
    with pytest.raises(ConfigError, match="does not unseal"):
        load_master_secret(paths)
    kek.unlink()
    with pytest.raises(ConfigError, match="does not exist"):
        load_master_secret(paths)
    assert not kek.exists(), "a missing KEK is never replaced by a new one beside an existing master.key"
    (paths.keys_dir / "data-dir.id").unlink()
    with pytest.raises(ConfigError, match="data-dir.id is missing"):
        load_master_secret(paths)
    assert not (paths.keys_dir / "data-dir.id").exists()


def test_a_kek_file_others_can_read_is_refused(tmp_path: Path, config_home: Path) -> None:
    paths = _paths(tmp_path)
    load_master_secret(paths)
    kek = next((config_home / "strongbox" / "kek").iterdir())
    os.chmod(kek, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_master_secret(paths)


def test_an_operator_kek_file_of_raw_bytes_is_used(tmp_path: Path, config_home: Path) -> None:
    kek = tmp_path / "secrets" / "strongbox.kek"
    kek.parent.mkdir(mode=0o755)
    os.chmod(kek.parent, 0o755)
    kek.write_bytes(os.urandom(32))
    os.chmod(kek, 0o400)
    paths = _paths(tmp_path, kek)
    secret = load_master_secret(paths)
    assert load_master_secret(paths) == secret
    assert not (config_home / "strongbox").exists(), "a configured KEK file means no default one"
    assert stat.S_IMODE(kek.parent.stat().st_mode) == 0o755, "the operator's folder is left as it was"
    with pytest.raises(ConfigError, match="data-dir.id is missing"):
        load_master_secret(_paths(tmp_path))        # without the configured file: no silent new key


def test_passphrase_sealing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_home: Path) -> None:
    paths = _paths(tmp_path)
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    secret = load_master_secret(paths)
    doc = json.loads(paths.master.read_bytes())
    assert doc["kek"] == "passphrase" and doc["kdf"]["name"] == "argon2id" and len(base64.b64decode(doc["kdf"]["salt"])) == 16
    assert not config_home.exists(), "a passphrase needs no KEK file"
    _assert_not_in_clear(secret, paths.data_dir)
    assert load_master_secret(paths) == secret
    monkeypatch.setenv(PASSPHRASE_ENV, "incorrect horse")
    with pytest.raises(ConfigError, match="wrong passphrase"):
        load_master_secret(paths)
    monkeypatch.setenv(PASSPHRASE_ENV, "")
    with pytest.raises(ConfigError, match="cannot be empty"):
        load_master_secret(paths)
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(ConfigError, match=f"sealed with a passphrase: set {PASSPHRASE_ENV}"):
        load_master_secret(paths)


def test_a_passphrase_for_a_file_sealed_key_is_refused_not_ignored(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _paths(tmp_path)
    load_master_secret(paths)
    monkeypatch.setenv(PASSPHRASE_ENV, "whatever")
    with pytest.raises(ConfigError, match="sealed with a KEK file"):
        load_master_secret(paths)


def test_a_legacy_clear_master_key_is_sealed_in_place_and_its_vaults_still_open(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    legacy = os.urandom(32)
    storage = LocalVaultStorage(settings.vaults_dir, legacy, settings.cache_dir)
    storage.create("vault-1")
    settings.keys_dir.mkdir(mode=0o700)
    (settings.keys_dir / "master.key").write_bytes(legacy)

    assert master_key(settings) == legacy
    assert json.loads((settings.keys_dir / "master.key").read_bytes())["kek"] == "file"
    _assert_not_in_clear(legacy, settings.data_dir)
    assert not [p for p in settings.keys_dir.iterdir() if p.name.endswith(".tmp")], "no temporary left behind"
    assert master_key(settings) == legacy
    LocalVaultStorage(settings.vaults_dir, master_key(settings), settings.cache_dir).open("vault-1")


def test_a_kek_file_inside_the_data_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "strongbox.toml"
    config.write_text('[server]\ndata_dir = "data"\n\n[keys]\nkek_file = "data/keys/kek"\n')
    with pytest.raises(ConfigError, match="is inside the data dir"):
        load_settings(config)
    # the default location too, if the config home happens to lie in the data dir
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "data" / "config"))
    with pytest.raises(ConfigError, match="is inside the data dir"):
        master_key(load_settings(data_dir=tmp_path / "data"))
    assert not (tmp_path / "data" / "config").exists()


def test_the_keys_table(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "strongbox.toml"
    config.parent.mkdir()
    config.write_text('[server]\ndata_dir = "../data"\n\n[keys]\nkek_file = "kek/strongbox.key"\n')
    settings = load_settings(config)
    assert settings.keys.kek_file == tmp_path / "etc" / "kek" / "strongbox.key"   # beside the config
    secret = master_key(settings)
    assert (tmp_path / "etc" / "kek" / "strongbox.key").stat().st_size == 65   # 64 hex digits, newline
    assert master_key(settings) == secret
    assert load_settings(data_dir=tmp_path / "x").keys.kek_file is None
    for body, message in (('[keys]\nkek_fil = "x"\n', "unknown key 'keys.kek_fil'"),
                          ("[keys]\nkek_file = 3\n", "keys.kek_file must be a non-empty string"),
                          ('keys = "x"\n', "keys must be a table")):
        config.write_text(body)
        with pytest.raises(ConfigError, match=message):
            load_settings(config)


def test_rewrap_under_a_new_kek_file_then_a_passphrase_and_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                config_home: Path) -> None:
    paths = _paths(tmp_path)
    secret = load_master_secret(paths)
    kek = next((config_home / "strongbox" / "kek").iterdir())
    before = kek.read_bytes()
    assert rewrap(paths).kind == "file"
    assert kek.read_bytes() != before and load_master_secret(paths) == secret
    assert [p.name for p in kek.parent.iterdir()] == [kek.name]

    monkeypatch.setenv("STRONGBOX_NEW_MASTER_PASSPHRASE", "new passphrase")
    assert rewrap(paths).kind == "passphrase"
    monkeypatch.delenv("STRONGBOX_NEW_MASTER_PASSPHRASE")
    with pytest.raises(ConfigError, match="set STRONGBOX_MASTER_PASSPHRASE"):
        load_master_secret(paths)
    monkeypatch.setenv(PASSPHRASE_ENV, "new passphrase")
    assert load_master_secret(paths) == secret

    assert rewrap(paths).kind == "file"                 # the passphrase opens, a new KEK file seals
    monkeypatch.delenv(PASSPHRASE_ENV)
    assert load_master_secret(paths) == secret


def test_a_kek_switch_interrupted_before_its_last_rename_is_finished_by_the_next_load(
        tmp_path: Path, config_home: Path) -> None:
    from strongbox.masterkey import Kek, replace_private_file, seal, write_kek_file

    paths = _paths(tmp_path)
    secret = load_master_secret(paths)
    kek = next((config_home / "strongbox" / "kek").iterdir())
    pending = kek.with_name(kek.name + ".next")
    new = os.urandom(32)
    write_kek_file(pending, new)                                           # step 1
    replace_private_file(paths.master, seal(secret, Kek("file", new, None, str(pending))))   # step 2; crash
    assert load_master_secret(paths) == secret
    assert not pending.exists() and bytes.fromhex(kek.read_text().strip()) == new
