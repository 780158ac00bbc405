"""Where the CLI finds its server, token and CA (flags and environment, a profile file, a
local server's own CA), and what it says when it cannot: one line naming the code (the
server's own CloudError code for a refused request) and a distinct exit code."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from strongbox.cli import connection
from strongbox.config import DATA_DIR_ENV, DEFAULT_DATA_DIR
from tests.integration.cli_client.conftest import CLI, Site, cli_env
from tests.support.arm import SUB
from tests.support.servers import STRONGBOX, free_port

UNKNOWN_JOB = "00000000-0000-0000-0000-00000000dead"


def _forged(token: str) -> str:
    header, payload, _ = token.split(".")
    return f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(64)).decode().rstrip('=')}"


Case = Callable[[Site], tuple[list[str], dict[str, str]]]

CASES: dict[str, tuple[Case, int, str]] = {
    "no server": (lambda s: (["job", "list"], cli_env(s, STRONGBOX_URL=None)), 2, "ServerNotConfigured"),
    "no token": (lambda s: (["item", "list"], cli_env(s, STRONGBOX_TOKEN=None)), 2, "TokenNotConfigured"),
    "not a token": (lambda s: (["item", "list"], cli_env(s, STRONGBOX_TOKEN="nonsense")), 2, "ConfigError"),
    "connection refused": (lambda s: (["job", "list"],
                                      cli_env(s, STRONGBOX_URL=f"https://127.0.0.1:{free_port()}")),
                           9, "ServerUnreachable"),
    "certificate not trusted": (lambda s: (["job", "list"], cli_env(s, STRONGBOX_CA=None)), 9,
                                "TlsVerificationFailed"),
    "bad signature (401)": (lambda s: (["job", "list"], cli_env(s, STRONGBOX_TOKEN=_forged(s.token))), 5,
                            "InvalidAuthenticationToken"),
    "role may not (403)": (lambda s: (["backup", "now", "vm-a"],
                                      cli_env(s, STRONGBOX_TOKEN=s.server.token(SUB, role="Backup Reader"))),
                           5, "AuthorizationFailed"),
    "unknown job (404)": (lambda s: (["job", "show", UNKNOWN_JOB], cli_env(s)), 3, "BMSUserErrorJobNotFound"),
    "unknown job in a vault (404)": (lambda s: (["job", "wait", UNKNOWN_JOB, "--vault", "vault2"],
                                                cli_env(s)), 3, "BMSUserErrorJobNotFound"),
    "unknown vault": (lambda s: (["job", "list", "--vault", "nope"], cli_env(s)), 3, "ResourceNotFound"),
    "unprotected vm": (lambda s: (["backup", "now", "vm-nowhere"], cli_env(s)), 3,
                       "BMSUserErrorItemNotFound"),
    "unknown point": (lambda s: (["restore", "vm-b", "--point", "123", "--to", "restores1"], cli_env(s)), 3,
                      "BMSUserErrorRecoveryPointNotFound"),
    "bad filter": (lambda s: (["job", "list", "--status", "Bogus"], cli_env(s)), 2, "InvalidFilter"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_and_an_exit_code(site: Site, cli: CLI, case: str) -> None:
    make, code, error = CASES[case]
    args, env = make(site)
    done = cli(*args, env=env)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert done.stderr.startswith(f"error: {error}: ") and done.stderr.count("\n") == 1, done.stderr
    assert done.stdout == ""


def test_no_recovery_point_yet(cli: CLI) -> None:
    none = cli("restore", "vm-b", "--to", "restores1")          # protected in vault2, never backed up
    assert none.returncode == 3
    assert none.stderr == ("error: BMSUserErrorRecoveryPointNotFound: Virtual machine 'vm-b' has no recovery "
                           "point in vault 'vault2' yet: run `strongbox backup now vm-b` first.\n")


def test_profile_file_and_profiles(site: Site, cli: CLI, tmp_path: Path) -> None:
    home = tmp_path / "config"
    (home / "strongbox").mkdir(parents=True)
    profile = home / "strongbox" / "profile.toml"
    os.symlink(site.server.ca, tmp_path / "ca.pem")
    profile.write_text(f'[default]\nserver = "{site.server.base_url}"\ntoken = "{site.token}"\n'
                       f'ca = "../../ca.pem"\n\n'
                       f'[elsewhere]\nserver = "https://127.0.0.1:{free_port()}"\ntoken = "{site.token}"\n')
    profile.chmod(0o600)
    bare = cli_env(site, STRONGBOX_URL=None, STRONGBOX_TOKEN=None, STRONGBOX_CA=None,
                   XDG_CONFIG_HOME=str(home))
    listed = cli("item", "list", env=bare)
    assert listed.returncode == 0, listed.stderr
    assert "vm-b" in listed.stdout and listed.stderr == ""
    elsewhere = cli("item", "list", "--profile", "elsewhere", env=bare)
    assert elsewhere.returncode == 9 and "ServerUnreachable" in elsewhere.stderr
    flags_win = cli("item", "list", "--profile", "elsewhere", "--server", site.server.base_url, "--ca",
                    str(site.server.ca), env=bare)
    assert flags_win.returncode == 0, flags_win.stderr
    missing = cli("item", "list", "--profile", "nope", env=bare)
    assert missing.returncode == 2 and f"{profile} has no [nope] table" in missing.stderr

    profile.chmod(0o644)
    loose = cli("item", "list", env=bare)
    assert loose.returncode == 0
    assert f"warning: {profile} holds a token and others can read it" in loose.stderr
    profile.write_text('[default]\nserver = "https://x"\ntoken = "t"\nport = 1\n')
    unknown = cli("item", "list", env=bare)
    assert unknown.returncode == 2 and "unknown key default.port" in unknown.stderr


def test_a_local_server_s_ca_is_found_in_its_data_dir(site: Site, cli: CLI, tmp_path: Path) -> None:
    assert (connection.DATA_DIR_ENV, connection.DEFAULT_DATA_DIR) == (DATA_DIR_ENV, DEFAULT_DATA_DIR)
    by_env = cli("item", "list",
                 env=cli_env(site, STRONGBOX_CA=None, STRONGBOX_DATA_DIR=str(site.server.data_dir)))
    assert by_env.returncode == 0, by_env.stderr
    os.symlink(site.server.data_dir, tmp_path / "strongbox-data")   # ./strongbox-data, as `serve` defaults
    env = cli_env(site, STRONGBOX_CA=None)
    here = cli("item", "list", env=env)
    assert here.returncode == 9                                         # the test's work dir has none
    there = subprocess.run([STRONGBOX, "item", "list"], check=False, capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=60)
    assert there.returncode == 0, there.stderr


def test_job_wait_help_documents_the_exit_codes(cli: CLI) -> None:
    done = cli("job", "wait", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.replace("│", " ").split())
    assert "0 Completed, 10 CompletedWithWarnings, 11 Failed, 12 Cancelled" in text
    assert "13 still running when --timeout passed" in text
