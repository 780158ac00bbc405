"""How the server-facing commands print: tables (Rich on a terminal, aligned plain text in a
pipe, so scripts can cut columns), JSON exactly as the API returned it, and the short forms
of times, durations and sizes a person reads."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import typer


class Output(str, Enum):
    table = "table"
    json = "json"


OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table, or json as the API returns it.")]


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
    for row in [list(columns), *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def print_fields(pairs: Sequence[tuple[str, str]], indent: str = "") -> None:
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        typer.echo(f"{indent}{key.ljust(width)}  {value}".rstrip())


def when(text: object) -> str:
    """An API date-time as ``2026-11-29 12:42:56Z`` (UTC, whole seconds); '' for none."""
    moment = parse_time(text)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else ""


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text or text.startswith("0001-"):
        return None
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(trimmed)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


_ISO_DURATION = re.compile(r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>[\d.]+)S)?)?")


def seconds(text: object) -> float | None:
    """An ISO-8601 duration (``PT1M2.5S``) in seconds; None if it is not one."""
    match = _ISO_DURATION.fullmatch(text) if isinstance(text, str) and text else None
    if match is None:
        return None
    d, h, m, s = (match[k] for k in "dhms")
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)


def span(value: float | str | None) -> str:
    """Seconds (or an ISO-8601 duration) as ``1h02m``, ``3m05s``, ``4.2s``; '' for none."""
    total = seconds(value) if isinstance(value, str) else value
    if total is None:
        return ""
    if total < 10:
        return f"{total:.1f}s"
    whole = round(total)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def size(count: float) -> str:
    """Bytes in decimal units, as the server's rates are (MB = 10^6 bytes)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
