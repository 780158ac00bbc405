"""Placeholder: `strongbox serve` (filled in by its owner)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve() -> None:
        """Run the API, workers and scheduler in one process."""
        raise typer.Exit(1)
