"""The [metrics] table: ``public`` (default false) is a boolean; nothing else is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongbox.config import load_settings
from strongbox.domain.errors import ConfigError


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strongbox.toml"
    path.write_text(f'[server]\ndata_dir = "data"\n{text}', encoding="utf-8")
    return path


def test_metrics_need_a_token_unless_the_config_makes_them_public(tmp_path: Path) -> None:
    assert load_settings(config(tmp_path, "")).metrics.public is False
    assert load_settings(config(tmp_path, "[metrics]\n")).metrics.public is False
    assert load_settings(config(tmp_path, "[metrics]\npublic = true\n")).metrics.public is True
    assert load_settings(data_dir=tmp_path / "d").metrics.public is False    # the embedded defaults


@pytest.mark.parametrize(("text", "message"), [
    ("[metrics]\npublic = 1\n", "metrics.public must be true or false"),
    ("[metrics]\npublic = 'yes'\n", "metrics.public must be true or false"),
    ("[metrics]\npath = '/m'\n", "unknown key 'metrics.path'"),
    ("metrics = true\n", "metrics must be a table"),
])
def test_a_bad_metrics_table_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    if text.startswith("metrics ="):    # a top-level key must come before the first table
        path = tmp_path / "strongbox.toml"
        path.write_text(f'{text}[server]\ndata_dir = "data"\n', encoding="utf-8")
    else:
        path = config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.message == f"Configuration error: {message}"
