"""`strongbox key rotate`: a new master secret with every vault's keys rewrapped for it, or
(``--kek``) the same secret sealed under a new key-encryption key.

The data dir is found through :func:`strongbox.config.load_settings`, exactly as the server
finds it, so ``--config``/``--data-dir`` must point where the server's do. Both refuse to run
while a server uses the data dir (``DataDirInUse``). Errors are :class:`StrongboxError`
subclasses, which ``cli/main.py`` prints on one line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from strongbox.cli.options import ConfigOption, DataDirOption

app = typer.Typer(no_args_is_help=True, help="Rotate the master secret that unlocks the vaults.")



@app.callback()
def _group() -> None:
    """Rotate the master secret that unlocks the vaults."""


@app.command()
def rotate(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    kek: Annotated[bool, typer.Option(
        "--kek",
        help="Only seal the master secret under a new KEK: STRONGBOX_NEW_MASTER_PASSPHRASE if set, "
             "else a new random KEK file. The vaults are not touched.")] = False,
) -> None:
    """Make a new master secret and rewrap every vault's keys for it (no vault data is rewritten).

    Stop the server first. An interrupted rotation is finished by running this again; a server
    started meanwhile still opens every vault."""
    from strongbox.config import key_paths, load_settings
    from strongbox.keyrotation import rotate as rotate_keys
    from strongbox.keyrotation import rotate_kek

    settings = load_settings(config, data_dir=data_dir)
    paths = key_paths(settings)
    if kek:
        new = rotate_kek(paths)
        if new.kind == "passphrase":
            typer.echo(f"{paths.master} is now sealed with the passphrase from {new.origin}: "
                       "start the server with STRONGBOX_MASTER_PASSPHRASE set to it")
        else:
            typer.echo(f"{paths.master} is now sealed with the new KEK file {new.origin}")
        return
    report = rotate_keys(paths, settings.vaults_dir)
    what = "finished an interrupted rotation" if report.resumed else "rotated the master secret"
    typer.echo(f"{what}: the keys of {report.vaults} vault(s) are rewrapped for the new secret; "
               "export links signed before now no longer verify")
