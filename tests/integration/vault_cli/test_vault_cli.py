"""End to end through the CLI: every command, clear one-line errors, and kill -9 safety."""

from __future__ import annotations

import filecmp
import os
import signal
import time
from pathlib import Path

from .conftest import Run, popen


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    for f in cmp.common_files:
        if not filecmp.cmp(a / f, b / f, shallow=False):
            return False
    return all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def make_source(root: Path, mib: int = 4) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.txt").write_text("hello\n" * 1000)
    (root / "blob.bin").write_bytes(os.urandom(mib * 1024 * 1024))
    (root / "empty").mkdir()
    os.symlink("docs/a.txt", root / "link")
    return root


def test_full_cycle(sb: Run, tmp_path: Path) -> None:
    vault, src = tmp_path / "vault", make_source(tmp_path / "src")
    assert "created vault" in sb("init", vault).stdout
    out = sb("backup", vault, src).stdout
    sid = out.split()[2]
    assert len(sid) == 64
    points = sb("points", vault).stdout
    assert sid in points and str(src) in points
    sb("restore", vault, "latest", "--target", tmp_path / "out")
    assert same_tree(src, tmp_path / "out" / "src")
    assert os.readlink(tmp_path / "out" / "src" / "link") == "docs/a.txt"
    sb("restore", vault, sid[:10], "--target", tmp_path / "part", "--include", "src/docs")
    assert sorted(os.listdir(tmp_path / "part" / "src")) == ["docs"]
    assert "no problems" in sb("check", vault, "--read-data").stdout
    sb("backup", vault, src)
    assert "forgot 1" in sb("prune", vault, "--keep-last", "1").stdout
    assert len(sb("points", vault).stdout.splitlines()) == 1
    sb("passwd", vault, env={"STRONGBOX_NEW_PASSPHRASE": "new one"})
    bad = sb("points", vault, ok=False)
    assert bad.returncode != 0 and "WrongPassphrase" in bad.stderr
    assert len(sb("points", vault, env={"STRONGBOX_PASSPHRASE": "new one"}).stdout.splitlines()) == 1


def test_errors_are_one_clear_line(sb: Run, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    cases = [
        (("points", tmp_path / "novault"), "VaultNotFound"),
        (("backup", vault, tmp_path / "missing"), "SourceMissing"),
        (("restore", vault, "deadbeefdeadbeef", "--target", tmp_path / "o"), "SnapshotNotFound"),
        (("init", vault), "VaultExists"),
    ]
    sb("init", vault)
    for args, code in cases:
        proc = sb(*args, ok=False)
        assert proc.returncode != 0, args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {code}:"), proc.stderr
        assert "Traceback" not in proc.stderr


def test_check_reports_corruption_with_files(sb: Run, tmp_path: Path) -> None:
    vault, src = tmp_path / "vault", make_source(tmp_path / "src")
    sb("init", vault)
    sb("backup", vault, src)
    pack = next(p for p in (vault / "data").rglob("*") if p.is_file())
    data = bytearray(pack.read_bytes())
    data[len(data) // 3] ^= 1
    pack.write_bytes(bytes(data))
    proc = sb("check", vault, "--read-data", ok=False)
    assert proc.returncode == 7
    assert "problem: pack" in proc.stderr and "src/blob.bin" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: VaultCorrupt:")


def stored_packs(vault: Path) -> list[Path]:
    if not (vault / "data").is_dir():
        return []
    return [p for p in (vault / "data").rglob("*") if p.is_file() and ".tmp-" not in p.name]


def wait_for_packs(vault: Path, n: int, proc: "object", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(stored_packs(vault)) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("backup never wrote packs")


def test_kill_9_mid_backup_loses_nothing_and_next_backup_reuses(sb: Run, cli_env: dict[str, str],
                                                                tmp_path: Path) -> None:
    vault, src = tmp_path / "vault", make_source(tmp_path / "src", mib=1)
    for i in range(8):
        (src / f"big{i}.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    sb("init", vault)
    proc = popen(["backup", vault, src], cli_env)
    wait_for_packs(vault, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    completed = len(stored_packs(vault))
    assert completed >= 2
    assert sb("points", vault).stdout.strip() == ""
    sb("check", vault, "--read-data")  # consistent: leftovers are whole, unreferenced packs
    out = sb("backup", vault, src).stdout
    new_mib = float(out.split(" read, ")[1].split(" MiB new")[0])
    assert new_mib <= 129 - 15 * completed, out  # every pack stored before the kill was reused
    sb("restore", vault, "latest", "--target", tmp_path / "out")
    assert same_tree(src, tmp_path / "out" / "src")
    sb("check", vault, "--read-data")


def test_kill_9_mid_prune_loses_nothing_referenced(sb: Run, cli_env: dict[str, str], tmp_path: Path) -> None:
    vault, src = tmp_path / "vault", make_source(tmp_path / "src", mib=1)
    sb("init", vault)
    for i in range(3):
        (src / "keep.bin").write_bytes(os.urandom(12 * 1024 * 1024)) if i == 0 else None
        (src / "churn.bin").write_bytes(os.urandom(24 * 1024 * 1024))
        sb("backup", vault, src)
    kept = tmp_path / "expected"
    sb("restore", vault, "latest", "--target", kept)
    killed = []
    for delay in (0.05, 0.2, 0.4, 0.6, 0.9):
        proc = popen(["prune", vault, "--keep-last", "1"], cli_env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed.append(proc.returncode == -signal.SIGKILL)
        sb("check", vault)
        out = tmp_path / f"out-{delay}"
        sb("restore", vault, "latest", "--target", out)
        assert same_tree(kept / "src", out / "src")
    assert any(killed), "no kill landed while prune was running"
    print("kills that interrupted prune:", killed)
    sb("prune", vault, "--keep-last", "1")
    assert len(sb("points", vault).stdout.splitlines()) == 1
    sb("check", vault, "--read-data")
    sb("restore", vault, "latest", "--target", tmp_path / "final")
    assert same_tree(src, tmp_path / "final" / "src")
