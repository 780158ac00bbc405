"""The embedded demo: one small "virtual machine" a newcomer can back up at once.

With no config file, :func:`strongbox.config.load_settings` returns :func:`demo_specs`
(pure: it only computes paths). :func:`ensure_demo` writes the sample tree and is called
by ``strongbox serve`` when ``settings.is_demo``. It is idempotent and conservative: it
creates what is missing and never overwrites or deletes anything, so edits a user makes to
the demo files survive restarts.

Layout under ``<data_dir>/demo/web-01/``: a README, text files in nested folders, a small
binary file, an empty folder and a relative symlink, i.e. one of each kind of entry a
backup must carry.
"""

from __future__ import annotations

from pathlib import Path

from strongbox.config import RestoreLocationSpec, SourceSpec

DEMO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEMO_RESOURCE_GROUP = "demo-rg"
DEMO_VM = "demo-vm"
DEMO_STORAGE_ACCOUNT = "demorestores"

_FILES: dict[str, bytes] = {
    "README.md": (
        b"# demo-vm\n\n"
        b"This folder is the strongbox demo source. The API shows it as the virtual machine\n"
        b"`demo-vm` in resource group `demo-rg` of subscription\n"
        b"00000000-0000-0000-0000-000000000000. Back it up, change a file, back it up again,\n"
        b"then restore to the storage account `demorestores`.\n"
    ),
    "www/index.html": b"<!doctype html>\n<title>demo-vm</title>\n<h1>Hello from demo-vm</h1>\n",
    "www/assets/style.css": b"body { font-family: sans-serif; }\n",
    "etc/app/settings.ini": b"[app]\nname = demo\ncolour = blue\n",
    # Every byte value, twice: exercises binary-safe handling end to end.
    "var/data/sample.bin": bytes(range(256)) * 2,
}
_EMPTY_DIRS = ("var/empty",)
_SYMLINKS = {"current-site": "www/index.html"}


def demo_root(data_dir: Path) -> Path:
    return data_dir / "demo" / "web-01"


def demo_specs(data_dir: Path) -> tuple[SourceSpec, RestoreLocationSpec]:
    """The demo source and restore location for ``data_dir``, without touching the disk."""
    data_dir = data_dir.resolve()
    source = SourceSpec(
        subscription=DEMO_SUBSCRIPTION,
        resource_group=DEMO_RESOURCE_GROUP,
        name=DEMO_VM,
        paths=(demo_root(data_dir),),
    )
    restores = RestoreLocationSpec(
        subscription=DEMO_SUBSCRIPTION,
        resource_group=DEMO_RESOURCE_GROUP,
        name=DEMO_STORAGE_ACCOUNT,
        path=data_dir / "restores",
    )
    return source, restores


def ensure_demo(data_dir: Path) -> tuple[SourceSpec, RestoreLocationSpec]:
    """Create whatever of the demo tree is missing; return :func:`demo_specs`."""
    root = demo_root(data_dir.resolve())
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in _FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() and not path.is_symlink():
            path.write_bytes(content)
    for relative in _EMPTY_DIRS:
        (root / relative).mkdir(parents=True, exist_ok=True)
    for relative, target in _SYMLINKS.items():
        link = root / relative
        if not link.is_symlink() and not link.exists():
            link.symlink_to(target)
    return demo_specs(data_dir)
