"""The [[webhooks]] tables: URL rules, one secret, the event filter and the retry knobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongbox.config import WebhookSettings, load_settings
from strongbox.domain.errors import ConfigError

SECRET = "0123456789abcdef-secret"


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strongbox.toml"
    path.write_text(f'[server]\ndata_dir = "data"\n{text}', encoding="utf-8")
    return path


def test_no_webhooks_by_default(tmp_path: Path) -> None:
    assert load_settings(config(tmp_path, "")).webhooks == ()
    assert load_settings(data_dir=tmp_path / "d").webhooks == ()


def test_webhooks_are_read_with_their_defaults_and_a_secret_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "hook.secret").write_text(SECRET + "\n")
    settings = load_settings(config(tmp_path, f"""
[[webhooks]]
url = "https://hooks.example.com/strongbox"
secret = "{SECRET}"

[[webhooks]]
url = "http://127.0.0.1:9000/x"
secret_file = "hook.secret"
events = "problems"
timeout_seconds = 3
max_attempts = 2
retry_base_seconds = 0.25
"""))
    first, second = settings.webhooks
    assert first == WebhookSettings(url="https://hooks.example.com/strongbox", secret=SECRET)
    assert (first.events, first.timeout_seconds, first.max_attempts, first.retry_base_seconds) == ("all", 10, 8, 1.0)
    assert second.secret_file == (tmp_path / "hook.secret").resolve() and second.secret is None
    assert second.secret_bytes() == SECRET.encode()   # read when asked (the server's start), newline stripped
    assert (second.events, second.timeout_seconds, second.max_attempts, second.retry_base_seconds) == \
        ("problems", 3, 2, 0.25)


def test_http_is_allowed_for_loopback_hosts_or_with_the_explicit_flag(tmp_path: Path) -> None:
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "[::1]"):
        hooks = load_settings(config(tmp_path, f'[[webhooks]]\nurl = "http://{host}:8080/h"\nsecret = "{SECRET}"\n'))
        assert hooks.webhooks[0].url == f"http://{host}:8080/h"
    flagged = load_settings(config(tmp_path, f'[[webhooks]]\nurl = "http://hooks.lan/h"\nsecret = "{SECRET}"\n'
                                             "allow_http = true\n"))
    assert flagged.webhooks[0].allow_http is True


def test_an_unreadable_or_short_secret_file_is_refused_when_read(tmp_path: Path) -> None:
    missing = WebhookSettings(url="https://h.example", secret_file=tmp_path / "nope")
    with pytest.raises(ConfigError, match="cannot read the secret_file of webhook https://h.example"):
        missing.secret_bytes()
    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(ConfigError, match="must hold at least 16 characters"):
        WebhookSettings(url="https://h.example", secret_file=tmp_path / "short").secret_bytes()


@pytest.mark.parametrize(("text", "message"), [
    (f'url = "http://hooks.example.com/h"\nsecret = "{SECRET}"',
     "webhooks[0].url is http:// to a host that is not loopback: use https://, or set webhooks[0].allow_http = true"),
    (f'url = "ftp://hooks.example.com/h"\nsecret = "{SECRET}"', "webhooks[0].url must be an https:// URL with a host"),
    (f'url = "https:///nohost"\nsecret = "{SECRET}"', "webhooks[0].url must be an https:// URL with a host"),
    (f'url = "https://h.example:99999/"\nsecret = "{SECRET}"', "webhooks[0].url is not a valid URL"),
    (f'url = "https://me:pw@h.example/"\nsecret = "{SECRET}"', "webhooks[0].url must not carry a user name or password"),
    ('url = "https://h.example/"', "webhooks[0] needs exactly one of secret and secret_file"),
    (f'url = "https://h.example/"\nsecret = "{SECRET}"\nsecret_file = "s"',
     "webhooks[0] needs exactly one of secret and secret_file"),
    ('url = "https://h.example/"\nsecret = "short"', "webhooks[0].secret must be at least 16 characters"),
    (f'secret = "{SECRET}"', "webhooks[0].url is required"),
    (f'url = "https://h.example/"\nsecret = "{SECRET}"\nevents = "failures"',
     "webhooks[0].events must be one of 'all', 'problems', got 'failures'"),
    (f'url = "https://h.example/"\nsecret = "{SECRET}"\nmax_attempts = 0',
     "webhooks[0].max_attempts must be an integer from 1 to 100"),
    (f'url = "https://h.example/"\nsecret = "{SECRET}"\ntimeout_seconds = true',
     "webhooks[0].timeout_seconds must be an integer from 1 to 300"),
    (f'url = "https://h.example/"\nsecret = "{SECRET}"\nretry_base_seconds = "1s"',
     "webhooks[0].retry_base_seconds must be a number from 0.01 to 3600"),
    (f'url = "https://h.example/"\nsecret = "{SECRET}"\nheaders = 1', "unknown key 'webhooks[0].headers'"),
])
def test_a_bad_webhook_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(config(tmp_path, f"[[webhooks]]\n{text}\n"))
    assert caught.value.message.startswith(f"Configuration error: {message}"), caught.value.message


def test_webhooks_must_be_an_array_of_tables_with_unique_urls(tmp_path: Path) -> None:
    path = tmp_path / "strongbox.toml"
    path.write_text('webhooks = "https://h.example/"\n[server]\ndata_dir = "data"\n')
    with pytest.raises(ConfigError, match=r"webhooks must be an array of tables \(\[\[webhooks\]\]\)"):
        load_settings(path)
    twice = f'[[webhooks]]\nurl = "https://h.example/"\nsecret = "{SECRET}"\n' * 2
    with pytest.raises(ConfigError, match="webhooks\\[1\\] duplicates the url 'https://h.example/'"):
        load_settings(config(tmp_path, twice))
