"""`strongbox token` as a subprocess: the token alone on stdout, one-line errors on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from strongbox.config import DEFAULT_TENANT_ID, load_settings
from strongbox.services.tokens import AUDIENCE, ISSUER, TokenService

STRONGBOX = Path(sys.executable).parent / "strongbox"
SUB = "00000000-0000-0000-0000-000000000007"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "STRONGBOX_DATA_DIR"}
    environment.update(env or {})
    return subprocess.run(
        [str(STRONGBOX), "token", *args],
        cwd=cwd, env=environment, input=stdin, capture_output=True, text=True, timeout=60,
    )


def test_issue_prints_only_a_token_the_server_accepts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = datetime.now(UTC)
    done = run("issue", "--data-dir", str(data), "--subscription", SUB, "--role", "Backup Reader",
               "--ttl", "1h30m", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert done.stdout == token + "\n", "nothing but the token on stdout"

    settings = load_settings(data_dir=data)
    principal = TokenService(settings.keys_dir, settings.server.tenant_id).verify(token)
    assert (principal.subscription, principal.role, principal.resource_group) == (SUB, "Backup Reader", None)
    lifetime = principal.expires_at - before
    assert timedelta(hours=1, minutes=29) < lifetime <= timedelta(hours=1, minutes=31)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["tid"]) == (ISSUER, AUDIENCE, DEFAULT_TENANT_ID)
    assert claims["jti"] == principal.token_id


def test_defaults_follow_the_environment_and_the_config_tenant(tmp_path: Path) -> None:
    done = run("issue", "--subscription", SUB, cwd=tmp_path, env={"STRONGBOX_DATA_DIR": "envdata"})
    assert done.returncode == 0, done.stderr
    principal = TokenService(tmp_path / "envdata" / "keys", DEFAULT_TENANT_ID).verify(done.stdout.strip())
    assert principal.role == "Owner"
    assert timedelta(hours=23) < principal.expires_at - datetime.now(UTC) <= timedelta(hours=24)

    tenant = "12345678-1234-1234-1234-123456789abc"
    config = tmp_path / "sb.toml"
    config.write_text(f'[server]\ndata_dir = "cfgdata"\ntenant_id = "{tenant}"\n')
    done = run("issue", "--config", str(config), "--subscription", SUB, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert TokenService(tmp_path / "cfgdata" / "keys", tenant).verify(done.stdout.strip()).subscription == SUB


def test_verify_command(tmp_path: Path) -> None:
    token = run("issue", "--data-dir", "d", "--subscription", SUB, cwd=tmp_path).stdout.strip()
    done = run("verify", "--data-dir", "d", "-", cwd=tmp_path, stdin=token + "\n")
    assert done.returncode == 0, done.stderr
    assert f'"subscription": "{SUB}"' in done.stdout
    done = run("verify", "--data-dir", "other", token, cwd=tmp_path)
    assert done.returncode == 5
    assert done.stderr.startswith("error: InvalidAuthenticationToken: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "Admin"], "error: InvalidParameterValue: unknown role 'Admin'"),
        (["--ttl", "forever"], "error: InvalidParameterValue: invalid duration 'forever'"),
        (["--ttl", "400d"], "longer than the maximum"),
        (["--config", "missing.toml"], "error: ConfigError: Configuration error: config file"),
    ],
)
def test_bad_input_is_one_line_on_stderr(tmp_path: Path, args: list[str], message: str) -> None:
    done = run("issue", "--subscription", SUB, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "strongbox-data").exists(), "a refused command creates no keys"


def test_bad_subscription(tmp_path: Path) -> None:
    done = run("issue", "--data-dir", "d", "--subscription", "prod", cwd=tmp_path)
    assert done.returncode == 2 and "subscription must be a GUID" in done.stderr and done.stdout == ""
