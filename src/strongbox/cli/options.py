"""What the server-side commands (`token`, `audit`, `key`, `webhook`) share: the options that
find the server's config and data dir, and the server's database opened from them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from strongbox.config import Settings, load_settings

if TYPE_CHECKING:
    from strongbox.persistence.database import Database

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="The server's config file.", dir_okay=False),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The server's data dir (default: $STRONGBOX_DATA_DIR or ./strongbox-data).",
        file_okay=False,
    ),
]


@contextmanager
def server_database(settings: Settings) -> Iterator["Database"]:
    """The server's database, migrated to the newest schema, closed on the way out."""
    from strongbox.persistence.database import Database

    db = Database(settings.database_url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


__all__ = ["ConfigOption", "DataDirOption", "load_settings", "server_database"]
