"""`strongbox vault ...`: the data plane from the command line, no server, no database.

Commands (names are the interface): init, backup, points, restore, check, prune, passwd.
Passphrase from ``STRONGBOX_PASSPHRASE`` or a prompt; the new one for ``passwd`` from
``STRONGBOX_NEW_PASSPHRASE`` or a prompt. Rich progress bars only when stderr is a terminal.
Any failure ends with one line ``error: <code>: <message>`` and a non-zero exit status.
"""

from __future__ import annotations

import functools
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TypeVar

import typer

from strongbox.domain.errors import StrongboxError

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Work with a vault directly: init, backup, points, restore, check, prune, passwd.")

F = TypeVar("F", bound=Callable[..., Any])


def _fail(code: str, message: str, status: int) -> None:
    typer.echo(f"error: {code}: {message}", err=True)
    raise typer.Exit(status)


def clean_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except StrongboxError as err:
            _fail(err.code, err.message, err.exit_code)
        except KeyboardInterrupt:
            _fail("OperationCancelled", "interrupted", 130)
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            _fail("OSError", f"{where}{err.strerror or err}", 1)
        except ValueError as err:
            _fail("InvalidParameterValue", str(err), 2)
    return wrapper  # type: ignore[return-value]


def _passphrase(env: str, prompt: str, confirm: bool = False) -> bytes:
    value = os.environ.get(env)
    if value is None:
        if not sys.stdin.isatty():
            _fail("PassphraseRequired", f"set {env} or run on a terminal to be prompted", 2)
        value = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value.encode()


def _cache_dir(no_cache: bool) -> Optional[Path]:
    if no_cache:
        return None
    base = os.environ.get("STRONGBOX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "strongbox")
    return Path(base)


def _open(path: Path, no_cache: bool = True) -> Any:
    from strongbox.dataplane.repository import Repository
    from strongbox.runtime import settle_after_startup
    from strongbox.storage.local import LocalStore
    store = LocalStore(path)
    # Fail on a missing vault before asking for a passphrase.
    if not store.exists("config"):
        from strongbox.dataplane.errors import VaultNotFound
        raise VaultNotFound(str(path))
    repo = Repository.open(store, _passphrase("STRONGBOX_PASSPHRASE", "Vault passphrase"),
                           cache_dir=_cache_dir(no_cache))
    settle_after_startup()
    return repo


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n} B"


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    """Yield a progress callback (or None when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task(label, total=None)

    def update(p: Any) -> None:
        bar.update(task, completed=p.bytes_done, total=p.bytes_total or None,
                   description=f"{label} {p.files_done}/{p.files_total} files")
    with bar:
        yield update


@app.command("init")
@clean_errors
def init(path: Path) -> None:
    """Create a new, empty vault at PATH."""
    from strongbox.dataplane.repository import Repository
    from strongbox.storage.local import LocalStore
    store = LocalStore(path)
    if store.exists("config"):
        from strongbox.dataplane.errors import VaultExists
        raise VaultExists(str(path))
    repo = Repository.init(store, _passphrase("STRONGBOX_PASSPHRASE", "New vault passphrase", confirm=True))
    typer.echo(f"created vault {repo.vault_id} at {path}")


@app.command("backup")
@clean_errors
def backup(path: Path, sources: list[Path] = typer.Argument(..., help="Folders or files to back up."),
           no_cache: bool = typer.Option(False, "--no-cache", help="Read every file, ignore the files cache."),
           tag: list[str] = typer.Option([], "--meta", help="key=value metadata to record.")) -> None:
    """Back up SOURCE... into a new recovery point."""
    meta = dict(t.split("=", 1) for t in tag if "=" in t)
    repo = _open(path, no_cache)
    with _progress("backup") as cb:
        res = repo.backup(sources, meta=meta, progress=cb)
    for w in res.warnings:
        typer.echo(f"warning: {w.path}: {w.reason}", err=True)
    typer.echo(f"recovery point {res.snapshot_id} saved: {res.files} files, {res.dirs} folders, "
               f"{_size(res.bytes_total)} total, {_size(res.bytes_read)} read, {_size(res.bytes_new)} new, "
               f"{_size(res.bytes_stored)} stored in {res.duration:.1f}s")


@app.command("points")
@clean_errors
def points(path: Path) -> None:
    """List recovery points, oldest first."""
    repo = _open(path)
    infos = repo.snapshots()
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        table = Table("id", "time", "files", "size", "roots")
        for s in infos:
            table.add_row(s.id[:16], s.time.isoformat(timespec="seconds"), str(s.files), _size(s.bytes_total),
                          ", ".join(f"{k}={v}" for k, v in s.roots.items()))
        Console().print(table)
        return
    for s in infos:
        roots = " ".join(f"{k}={v}" for k, v in s.roots.items())
        typer.echo(f"{s.id}  {s.time.isoformat()}  {s.files} files  {s.bytes_total} bytes  {roots}")


@app.command("restore")
@clean_errors
def restore(path: Path, point: str = typer.Argument(..., help="Recovery point id (or unique prefix) or 'latest'."),
            target: Path = typer.Option(..., "--target", help="Folder to restore into."),
            include: list[str] = typer.Option([], "--include", help="Only <root>/sub/path (repeatable)."),
            allow_external_symlinks: bool = typer.Option(False, "--allow-external-symlinks",
                                                         help="Restore symlinks that point outside the target."),
            ) -> None:
    """Restore a recovery point into --target."""
    repo = _open(path)
    with _progress("restore") as cb:
        res = repo.restore(point, target, include=include, progress=cb,
                           allow_external_symlinks=allow_external_symlinks)
    typer.echo(f"restored {res.files} files, {res.dirs} folders, {_size(res.bytes_written)} "
               f"in {res.duration:.1f}s to {target}")


@app.command("check")
@clean_errors
def check(path: Path, read_data: bool = typer.Option(False, "--read-data", help="Read and verify every byte.")) -> None:
    """Check the vault's structure (and with --read-data, all its data)."""
    repo = _open(path)
    with _progress("check") as cb:
        report = repo.check(read_data=read_data, progress=cb)
    for p in report.problems:
        typer.echo(f"problem: {p.kind} {p.object}: {p.message}", err=True)
        if p.snapshots:
            typer.echo(f"  recovery points: {', '.join(s[:16] for s in p.snapshots)}", err=True)
        for f in p.files[:50]:
            typer.echo(f"  file: {f}", err=True)
        if len(p.files) > 50:
            typer.echo(f"  ... and {len(p.files) - 50} more files", err=True)
    if not report.ok:
        _fail("VaultCorrupt", f"check found {len(report.problems)} problem(s)", 7)
    typer.echo("no problems found" + (" (all data read and verified)" if read_data else ""))


@app.command("prune")
@clean_errors
def prune(path: Path, keep_last: int = typer.Option(..., "--keep-last", min=0,
                                                     help="Keep the N most recent recovery points.")) -> None:
    """Forget all but the last N recovery points and delete data nothing references."""
    repo = _open(path)
    gone = repo.forget_keep_last(keep_last)
    with _progress("prune") as cb:
        res = repo.prune(progress=cb)
    typer.echo(f"forgot {len(gone)} recovery point(s); deleted {res.packs_deleted} pack(s), "
               f"rewrote {res.packs_rewritten}, freed {_size(res.bytes_freed)}")


@app.command("passwd")
@clean_errors
def passwd(path: Path) -> None:
    """Change the vault passphrase (rewraps the key; no data is rewritten)."""
    repo = _open(path)
    repo.change_passphrase(_passphrase("STRONGBOX_NEW_PASSPHRASE", "New passphrase", confirm=True))
    typer.echo("passphrase changed")
