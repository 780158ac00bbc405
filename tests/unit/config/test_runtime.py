"""Process-wide tuning the programs apply at start (strongbox.runtime)."""

from __future__ import annotations

import gc
import sys

import pytest

from strongbox import runtime


@pytest.mark.parametrize(("raw", "expected"), [
    ("", runtime.SWITCH_INTERVAL),
    ("0.002", 0.002),
    ("0.0001", 0.0001),
    ("0.1", 0.1),
    ("0", runtime.SWITCH_INTERVAL),        # out of range: the default, not a busy GIL
    ("5", runtime.SWITCH_INTERVAL),
    ("fast", runtime.SWITCH_INTERVAL),
    ("nan", runtime.SWITCH_INTERVAL),
])
def test_switch_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch, raw: str, expected: float) -> None:
    monkeypatch.setenv("STRONGBOX_SWITCH_INTERVAL", raw)
    assert runtime.switch_interval() == expected


def test_settle_after_startup_sets_the_switch_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    before = sys.getswitchinterval()
    monkeypatch.setenv("STRONGBOX_SWITCH_INTERVAL", "0.003")
    try:
        runtime.settle_after_startup()
        assert sys.getswitchinterval() == pytest.approx(0.003)
    finally:
        sys.setswitchinterval(before)
        gc.unfreeze()
