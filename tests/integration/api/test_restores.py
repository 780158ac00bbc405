"""Restores through the API: OriginalLocation puts the source back as it was (content,
mode, mtime, symlinks, empty folders); AlternateLocation lands in a new folder of the
declared restore location, named in the job's propertyBag, a new one for each restore."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support.arm import Arm
from tests.support.servers import RunningServer
from tests.support.trees import describe


def _restore(arm: Arm, vm: str, point: str, body: dict) -> dict:  # type: ignore[type-arg]
    body["properties"].update({"objectType": "IaasVMRestoreRequest", "recoveryPointId": point,
                               "sourceResourceId": arm.vm_id(vm)})
    r = arm.req("POST", f"{arm.item_path(vm)}/recoveryPoints/{point}/restore", json=body)
    assert r.status_code == 202, r.text
    assert r.headers["Azure-AsyncOperation"].startswith("https://")
    job = arm.wait_job(arm.follow(r))["properties"]
    assert job["operation"] == "Restore" and job["status"] == "Completed", job
    return job


def test_original_location_puts_the_source_back(arm: Arm, server: RunningServer) -> None:
    src: Path = server.sources / "vm-a"  # type: ignore[attr-defined]
    before = describe(src / "www")
    image = (src / "disk0.img").read_bytes()
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    point = arm.points("vm-a")[0]["name"]
    # damage the source: edit, delete, change mode, replace a folder, corrupt the image
    (src / "www" / "index.html").write_text("defaced")
    os.remove(src / "www" / "docs" / "b.bin")
    os.chmod(src / "www" / "docs" / "a.txt", 0o777)
    shutil.rmtree(src / "www" / "empty-dir")
    with open(src / "disk0.img", "r+b") as f:
        f.write(b"\xff" * 4096)
    job = _restore(arm, "vm-a", point, {"properties": {"recoveryType": "OriginalLocation", "region": "westeurope",
                                                       "originalStorageAccountOption": False}})
    assert job["extendedInfo"]["propertyBag"]["Restore Type"] == "OriginalLocation"
    assert describe(src / "www") == before
    assert (src / "disk0.img").read_bytes() == image


def test_alternate_location_gets_a_new_folder_each_time(arm: Arm, server: RunningServer) -> None:
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    point = arm.points("vm-a")[0]["name"]
    body = {"properties": {"recoveryType": "AlternateLocation", "storageAccountId": arm.storage_account_id("restores1"),
                           "targetResourceGroupId": f"/subscriptions/{arm.subscription}/resourceGroups/rg2",
                           "targetVirtualMachineId": arm.vm_id("vm-a-restored", "rg2")}}
    first = _restore(arm, "vm-a", point, body)
    bag = first["extendedInfo"]["propertyBag"]
    assert bag["Target VM Name"] == "vm-a-restored" and bag["Target Storage Account Name"] == "restores1"
    target = Path(bag["Restore Location"])
    assert target.parent == server.restores / "vm-a"  # type: ignore[attr-defined]
    src: Path = server.sources / "vm-a"  # type: ignore[attr-defined]
    assert describe(target / "www") == describe(src / "www")
    second = _restore(arm, "vm-a", point, body)
    other = Path(second["extendedInfo"]["propertyBag"]["Restore Location"])
    assert other != target and other.name.startswith(target.name) and other.exists()


def test_links_pointing_out_are_recreated_in_place_and_refused_elsewhere(arm: Arm, server: RunningServer) -> None:
    src: Path = server.sources / "vm-links" / "tree"  # type: ignore[attr-defined]
    arm.wait_job(arm.enable("vm-links"))
    arm.wait_job(arm.backup("vm-links")[1])
    point = arm.points("vm-links")[0]["name"]
    body = {"properties": {"recoveryType": "RestoreDisks", "storageAccountId": arm.storage_account_id("restores1")}}
    r = arm.req("POST", f"{arm.item_path('vm-links')}/recoveryPoints/{point}/restore",
                json={"properties": {**body["properties"], "objectType": "IaasVMRestoreRequest"}})
    job = arm.wait_job(arm.follow(r))["properties"]
    assert job["status"] == "CompletedWithWarnings", job
    assert "absolute-link" in job["errorDetails"][0]["errorString"]
    target = Path(job["extendedInfo"]["propertyBag"]["Restore Location"]) / "tree"
    assert not os.path.lexists(target / "absolute-link")
    expected = describe(src)
    del expected["absolute-link"]
    assert describe(target) == expected
    os.remove(src / "absolute-link")
    job = _restore(arm, "vm-links", point, {"properties": {"recoveryType": "OriginalLocation"}})
    assert os.readlink(src / "absolute-link") == "/etc/hostname"


def test_original_location_writes_only_inside_the_declared_paths(arm: Arm, server: RunningServer) -> None:
    """A folder of the source and a declared file path replaced by symlinks pointing out of
    the declared paths: the restore replaces the links, it never writes through them."""
    src: Path = server.sources / "vm-a"  # type: ignore[attr-defined]
    before = describe(src / "www")
    image = (src / "disk0.img").read_bytes()
    arm.wait_job(arm.enable("vm-a"))
    arm.wait_job(arm.backup("vm-a")[1])
    point = arm.points("vm-a")[0]["name"]
    outside = src.parent.parent / "outside-vm-a"   # beside the sources, declared nowhere
    outside.mkdir()
    (outside / "a.txt").write_text("not the source's\n")
    (outside / "disk.img").write_bytes(b"not the source's either\n")
    shutil.rmtree(src / "www" / "docs")
    os.symlink(outside, src / "www" / "docs")
    os.remove(src / "disk0.img")
    os.symlink(outside / "disk.img", src / "disk0.img")
    untouched = describe(outside)
    _restore(arm, "vm-a", point, {"properties": {"recoveryType": "OriginalLocation"}})
    assert describe(outside) == untouched
    assert describe(src / "www") == before
    assert not (src / "disk0.img").is_symlink() and (src / "disk0.img").read_bytes() == image
    assert sorted(os.listdir(src)) == ["disk0.img", "www"]   # no temp file left beside the declared paths
