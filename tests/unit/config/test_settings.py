"""load_settings: defaults, precedence, path resolution and every refusal naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongbox.config import DEFAULT_TENANT_ID, Settings, load_settings
from strongbox.demo import DEMO_STORAGE_ACCOUNT, DEMO_SUBSCRIPTION, DEMO_VM
from strongbox.domain.errors import ConfigError

SUB = "00000000-0000-0000-0000-000000000001"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRONGBOX_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "strongbox.toml") -> Path:
    path = tmp_path / "etc" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return caught.value.message


FULL = f"""
[server]
data_dir = "data"
host = "0.0.0.0"
port = 9443
tls = false
retry_after = 0
workers = 0
job_retention_days = 7
lease_seconds = 60
page_size = 1000
tenant_id = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"

[database]
url = "postgresql+psycopg://postgres@127.0.0.1/strongbox"

[[sources]]
subscription = "{SUB}"
resource_group = "prod-rg"
name = "web-01"
paths = ["/srv/www", "images/disk0.img"]

[[sources]]
subscription = "{SUB}"
resource_group = "prod-rg"
name = "db_01.internal"
paths = ["/var/lib/db"]

[[restore_locations]]
subscription = "{SUB}"
resource_group = "prod-rg"
name = "restorestore1"
path = "../restores"
"""


def test_no_config_gives_the_embedded_demo(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.config_path is None and settings.is_demo
    assert settings.data_dir == (tmp_path / "strongbox-data").resolve()
    assert settings.server.port == 8443 and settings.server.host == "127.0.0.1" and settings.server.tls
    assert (settings.server.retry_after, settings.server.workers, settings.server.page_size) == (1, 2, 200)
    assert (settings.server.lease_seconds, settings.server.job_retention_days) == (30, 30)
    assert settings.server.tenant_id == DEFAULT_TENANT_ID
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'strongbox.db'}"
    (source,) = settings.sources
    (restores,) = settings.restore_locations
    assert (source.subscription, source.resource_group, source.name) == (DEMO_SUBSCRIPTION, "demo-rg", DEMO_VM)
    assert source.paths == (settings.data_dir / "demo" / "web-01",)
    assert (restores.name, restores.path) == (DEMO_STORAGE_ACCOUNT, settings.data_dir / "restores")
    assert not settings.data_dir.exists(), "loading must not write"


def test_data_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGBOX_DATA_DIR", "rel/dir")
    assert load_settings().data_dir == (tmp_path / "rel" / "dir").resolve()
    # The file beats the environment; the command line beats both.
    config = write(tmp_path, '[server]\ndata_dir = "/srv/sb"\n')
    assert load_settings(config).data_dir == Path("/srv/sb")
    assert load_settings(config, data_dir=Path("cli")).data_dir == (tmp_path / "cli").resolve()


def test_full_file(tmp_path: Path) -> None:
    config = write(tmp_path, FULL)
    settings = load_settings(config)
    etc = config.parent.resolve()
    assert settings.config_path == config.resolve() and not settings.is_demo
    server = settings.server
    assert server.data_dir == etc / "data"
    assert (server.host, server.port, server.tls) == ("0.0.0.0", 9443, False)
    assert (server.retry_after, server.workers, server.job_retention_days) == (0, 0, 7)
    assert (server.lease_seconds, server.page_size) == (60, 1000)
    assert server.tenant_id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/strongbox"
    web, db = settings.sources
    assert (web.subscription, web.resource_group, web.name) == (SUB, "prod-rg", "web-01")
    assert web.paths == (Path("/srv/www"), etc / "images" / "disk0.img")
    assert db.name == "db_01.internal"
    (restores,) = settings.restore_locations
    assert restores.path == tmp_path.resolve() / "restores"
    assert settings.vaults_dir == etc / "data" / "vaults"
    assert settings.keys_dir == etc / "data" / "keys"
    assert settings.tls_dir == etc / "data" / "tls"
    assert settings.cache_dir == etc / "data" / "cache"


def test_a_config_without_sources_has_none(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[server]\nport = 1\n"))
    assert settings.sources == () and settings.restore_locations == ()
    assert settings.data_dir == (tmp_path / "strongbox-data").resolve()


def test_overrides_win(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), host="::1", port=1234, tls=True, data_dir=Path("/x"))
    assert (settings.server.host, settings.server.port, settings.server.tls) == ("::1", 1234, True)
    assert settings.data_dir == Path("/x")
    assert settings.server.workers == 0, "values not overridden stay as in the file"


def test_bad_override_names_the_option() -> None:
    with pytest.raises(ConfigError, match="--port must be an integer from 1 to 65535"):
        load_settings(port=70000)


def test_relative_sqlite_url_resolves_against_the_config_folder(tmp_path: Path) -> None:
    config = write(tmp_path, '[database]\nurl = "sqlite:///db/sb.sqlite"\n')
    assert load_settings(config).database_url == f"sqlite:///{config.parent.resolve() / 'db' / 'sb.sqlite'}"
    config = write(tmp_path, '[database]\nurl = "sqlite:////abs/sb.sqlite"\n')
    assert load_settings(config).database_url == "sqlite:////abs/sb.sqlite"


def test_operator_tls_files_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = write(tmp_path, "[server]\ntls_cert = 'pki/c.pem'\ntls_key = 'pki/k.pem'\n")
    settings = load_settings(config)
    assert settings.server.tls_cert == config.parent / "pki" / "c.pem"
    assert settings.server.tls_key == config.parent / "pki" / "k.pem"
    assert (settings.server.reads_per_hour, settings.server.writes_per_hour) == (12_000, 1_200)


def test_settings_are_frozen() -> None:
    settings: Settings = load_settings()
    with pytest.raises(AttributeError):
        settings.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[serve]\nport = 1\n", "unknown key 'serve'"),
        ("[server]\nprot = 1\n", "unknown key 'server.prot'"),
        ("[database]\nuri = 'x'\n", "unknown key 'database.uri'"),
        (
            FULL.replace('name = "db_01.internal"\npaths', 'name = "db_01.internal"\npathz'),
            "unknown key 'sources[1].pathz'",
        ),
        (FULL.replace('path = "../restores"', 'path = "../r"\nowner = 1'), "unknown key 'restore_locations[0].owner'"),
        ("[server]\nport = 0\n", "server.port must be an integer from 1 to 65535"),
        ("[server]\nport = '8443'\n", "server.port must be an integer from 1 to 65535"),
        ("[server]\nport = true\n", "server.port must be an integer from 1 to 65535"),
        ("[server]\ntls = 1\n", "server.tls must be true or false"),
        ("[server]\nretry_after = 3601\n", "server.retry_after must be an integer from 0 to 3600"),
        ("[server]\nworkers = 65\n", "server.workers must be an integer from 0 to 64"),
        ("[server]\nlease_seconds = 4\n", "server.lease_seconds must be an integer from 5 to 3600"),
        ("[server]\npage_size = 1001\n", "server.page_size must be an integer from 1 to 1000"),
        ("[server]\ntenant_id = 'contoso'\n", "server.tenant_id must be a GUID"),
        ("[server]\nhost = ''\n", "server.host must be a non-empty string"),
        ("server = 5\n", "server must be a table"),
        ("[server]\nwrites_per_hour = 0\n", "server.writes_per_hour must be an integer from 1"),
        ("[server]\nhsts_seconds = -1\n", "server.hsts_seconds must be an integer from 0"),
        ("[server]\ntls_cert = 'c.pem'\n", "server.tls_cert and server.tls_key go together"),
        ("sources = 5\n", "sources must be an array of tables"),
        ("[[sources]]\nname = 'a'\n", "sources[0].subscription is required"),
        (FULL.replace(f'"{SUB}"', '"not-a-guid"', 1), "sources[0].subscription must be a GUID"),
        (FULL.replace('"web-01"', '"web/01"'), "sources[0].name must be 1 to 64"),
        (FULL.replace('"web-01"', '"web..01"'), "sources[0].name must be 1 to 64"),
        (FULL.replace('"web-01"', '"a;b"'), "sources[0].name must be 1 to 64"),
        (FULL.replace('"web-01"', '"w' + "e" * 64 + '"'), "sources[0].name must be 1 to 64"),
        (FULL.replace('"web-01"', '"web\\u000101"'), "sources[0].name must be 1 to 64"),
        (FULL.replace('"prod-rg"', '"prod rg"', 1), "sources[0].resource_group must be"),
        (FULL.replace('paths = ["/var/lib/db"]', "paths = []"), "sources[1].paths must be a non-empty array"),
        (FULL.replace('paths = ["/var/lib/db"]', "paths = [1]"), "sources[1].paths must be a non-empty array"),
        (FULL.replace('"restorestore1"', '"Restore-Store"'), "restore_locations[0].name must be 3 to 24 lowercase"),
        (FULL.replace('"db_01.internal"', '"WEB-01"'), "sources[1] duplicates subscription"),
        (FULL + FULL[FULL.index("[[restore_locations]]"):], "restore_locations[1] duplicates subscription"),
    ],
)
def test_refusals_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    assert message in refused(tmp_path, text)


def test_a_missing_source_path_is_not_an_error(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL.replace("/srv/www", str(tmp_path / "nope"))))
    assert settings.sources[0].paths[0] == (tmp_path / "nope").resolve()


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_settings(tmp_path / "absent.toml")
    assert str(tmp_path / "absent.toml") in caught.value.message
    assert caught.value.exit_code == 2


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    config = write(tmp_path, "[server]\nport = 1\nhost = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(config.resolve()) in caught.value.message
    assert "line 3" in caught.value.message
