"""ensure_demo: one of each kind of entry, created idempotently, never overwriting."""

from __future__ import annotations

from pathlib import Path

from strongbox.config import load_settings
from strongbox.demo import ensure_demo


def test_demo_tree_matches_the_default_settings(tmp_path: Path) -> None:
    source, restores = ensure_demo(tmp_path)
    settings = load_settings(data_dir=tmp_path)
    assert (source,) == settings.sources and (restores,) == settings.restore_locations
    (root,) = source.paths
    assert (root / "README.md").is_file()
    assert (root / "www" / "assets" / "style.css").is_file()
    assert (root / "var" / "data" / "sample.bin").read_bytes()[:3] == b"\x00\x01\x02"
    assert (root / "var" / "empty").is_dir() and not any((root / "var" / "empty").iterdir())
    link = root / "current-site"
    assert link.is_symlink() and link.resolve() == (root / "www" / "index.html").resolve()
    assert not restores.path.exists(), "restore locations are created on demand"


def test_idempotent_and_keeps_user_edits(tmp_path: Path) -> None:
    (root,) = ensure_demo(tmp_path)[0].paths
    (root / "README.md").write_text("mine")
    (root / "www" / "index.html").unlink()
    ensure_demo(tmp_path)
    assert (root / "README.md").read_text() == "mine"
    assert (root / "www" / "index.html").is_file(), "missing files come back"
