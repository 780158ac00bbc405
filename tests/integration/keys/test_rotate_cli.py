"""`strongbox key rotate` against a real server's data dir: refused while the server runs;
run between two server lives, the recovery point taken before it restores bit for bit after
it; and a rotation interrupted after its commit point still serves every vault, and the next
`key rotate` finishes it."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from strongbox import keyrotation
from strongbox.config import key_paths, load_settings, master_key
from tests.support.arm import RG, SUB, Arm
from tests.support.servers import STRONGBOX, RunningServer, server_env, serving, write_config
from tests.support.trees import describe, make_tree


@contextmanager
def _arm(server: RunningServer) -> Iterator[Arm]:
    with httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(server.ca)),
                      timeout=30, headers={"Authorization": f"Bearer {server.token(SUB)}"}) as http:
        yield Arm(http)


def _key_rotate(config: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STRONGBOX, "key", "rotate", "--config", str(config)], capture_output=True, text=True,
                          check=False, env=server_env(data), timeout=120)


def _restore_matches(arm: Arm, point: str, src: Path) -> None:
    body = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                           "recoveryPointId": point, "storageAccountId": arm.storage_account_id("restores1")}}
    r = arm.req("POST", f"{arm.item_path('vm-k')}/recoveryPoints/{point}/restore", json=body)
    assert r.status_code == 202, r.text
    job = arm.wait_job(arm.follow(r))["properties"]
    assert job["status"] == "Completed", job
    assert describe(Path(job["extendedInfo"]["propertyBag"]["Restore Location"]) / "tree") == describe(src)


def test_rotate_between_server_lives_and_after_an_interruption(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_tree(tmp_path / "src" / "tree")
    data = tmp_path / "data"
    config = write_config(tmp_path / "strongbox.toml", {"data_dir": str(data), "retry_after": 0}, None,
                          [{"subscription": SUB, "resource_group": RG, "name": "vm-k", "paths": [str(src)]}],
                          [{"subscription": SUB, "resource_group": RG, "name": "restores1",
                            "path": str(tmp_path / "restores")}])
    monkeypatch.setenv("XDG_CONFIG_HOME", server_env(data)["XDG_CONFIG_HOME"])   # where the server's KEK is
    settings = load_settings(config)

    with serving(config, data) as server, _arm(server) as arm:
        arm.create_vault()
        arm.create_policy()
        arm.wait_job(arm.enable("vm-k"))
        assert arm.wait_job(arm.backup("vm-k")[1])["properties"]["status"] == "Completed"
        point = arm.points("vm-k")[0]["name"]
        refused = _key_rotate(config, data)
        assert refused.returncode == 4, refused.stderr
        assert "error: DataDirInUse:" in refused.stderr and "stop it before rotating keys" in refused.stderr
    first = master_key(settings)
    assert json.loads((data / "keys" / "master.key").read_bytes())["kek"] == "file", "sealed, not clear"

    done = _key_rotate(config, data)
    assert done.returncode == 0, done.stderr
    assert "rotated the master secret: the keys of 1 vault(s) are rewrapped" in done.stdout
    second = master_key(settings)
    assert second != first

    # Interrupted right after its commit point: master.key holds the new secret, the vault
    # still has the old key file beside the new one.
    rotation = keyrotation.begin(key_paths(settings), settings.vaults_dir)
    keyrotation.add_new_keys(rotation)
    keyrotation.switch(rotation)
    (vault,) = settings.vaults_dir.iterdir()
    assert len(list((vault / "keys").iterdir())) == 2

    with serving(config, data) as server, _arm(server) as arm:
        _restore_matches(arm, point, src)      # the point from before both rotations, bit for bit

    finished = _key_rotate(config, data)
    assert finished.returncode == 0, finished.stderr
    assert "finished an interrupted rotation" in finished.stdout
    assert master_key(settings) not in (first, second)
    assert len(list((vault / "keys").iterdir())) == 1

    with serving(config, data) as server, _arm(server) as arm:
        _restore_matches(arm, point, src)
        assert arm.wait_job(arm.backup("vm-k")[1])["properties"]["status"] == "Completed"

    third = master_key(settings)
    resealed = subprocess.run([STRONGBOX, "key", "rotate", "--kek", "--data-dir", str(data)], capture_output=True,
                              text=True, check=False, env=server_env(data), timeout=60)
    assert resealed.returncode == 0, resealed.stderr
    assert "is now sealed with the new KEK file" in resealed.stdout
    assert master_key(settings) == third, "a new KEK, the same secret: the vaults are untouched"

    # A KEK that does not fit is a one-line error at start, never a traceback.
    wrong = subprocess.run([STRONGBOX, "serve", "--config", str(config), "--port", "1"], capture_output=True,
                           text=True, check=False, timeout=60,
                           env={**server_env(data), "STRONGBOX_MASTER_PASSPHRASE": "guess"})
    assert wrong.returncode == 2 and "error: ConfigError:" in wrong.stderr and "sealed with a KEK file" in wrong.stderr
    assert "Traceback" not in wrong.stderr + wrong.stdout


def test_key_rotate_has_help() -> None:
    out = subprocess.run([STRONGBOX, "key", "rotate", "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "strongbox key rotate" in out.stdout and "--kek" in out.stdout
