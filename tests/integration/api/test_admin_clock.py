"""Without --virtual-clock there is no clock to move: /admin/clock does not exist."""

from __future__ import annotations

from tests.support.arm import Arm


def test_admin_clock_does_not_exist_without_the_flag(arm: Arm) -> None:
    assert arm.http.get("/admin/clock").status_code == 404
    r = arm.http.post("/admin/clock", json={"advanceSeconds": 60})
    assert r.status_code == 404 and r.json()["error"]["code"] == "PathNotFound"
