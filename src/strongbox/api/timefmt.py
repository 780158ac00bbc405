"""Times and durations as Azure Backup writes and reads them on the wire.

Out: date-times are UTC ISO-8601 with a ``Z`` and seven fraction digits (.NET ticks,
``2026-11-29T08:28:29.1234560Z``); durations are ISO-8601 with hour, minute and second
components only (``PT26H``, ``PT1M2.5S``, ``PT0S``), never days, as the service does.

In: :func:`parse_datetime` is lenient because clients are: ISO-8601 (``Z``, an offset or
no zone), the spec examples' ``yyyy-MM-dd HH:mm:ss AM`` (where ``00:00:00 AM`` appears, so
hour 0 and hour 12 with ``AM`` both mean midnight), the same without a designator, a bare
``yyyy-MM-dd`` and the .NET ``M/d/yyyy h:mm:ss AM``. A value without a zone is UTC. The
result is always an aware UTC datetime.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from strongbox.domain.errors import InvalidParameter

TICKS_PER_SECOND = 10_000_000
# The "no end yet" placeholder Azure writes into an in-progress operation status.
PLACEHOLDER_END = "0001-01-01T00:00:00.00000Z"


class InvalidDateTime(InvalidParameter):
    """Invalid date-time {value!r}: expected ISO-8601 (2026-11-29T08:28:29Z), 'yyyy-MM-dd HH:mm:ss [AM|PM]', 'yyyy-MM-dd' or 'M/d/yyyy h:mm:ss AM|PM'."""  # noqa: E501

    code = "InvalidDateTime"


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with ``Z`` and seven fraction digits; naive input is taken as UTC."""
    utc = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0Z"


def duration(seconds: float) -> str:
    """ISO-8601 duration with H/M/S components only, zero components left out (``PT0S``)."""
    ticks = max(0, round(seconds * TICKS_PER_SECOND))
    hours, ticks = divmod(ticks, 3600 * TICKS_PER_SECOND)
    minutes, ticks = divmod(ticks, 60 * TICKS_PER_SECOND)
    whole, fraction = divmod(ticks, TICKS_PER_SECOND)
    parts = ["PT"]
    if hours:
        parts.append(f"{hours}H")
    if minutes:
        parts.append(f"{minutes}M")
    if whole or fraction or (not hours and not minutes):
        parts.append(f"{whole}.{fraction:07d}".rstrip("0").rstrip(".") + "S")
    return "".join(parts)


def delta_duration(delta: timedelta) -> str:
    return duration(delta.total_seconds())


_DASHED = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[Tt ]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<ampm>[AaPp][Mm])?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_DOTNET = re.compile(
    r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<ampm>[AaPp][Mm])?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)


def parse_datetime(text: str) -> datetime:
    """Parse any of the accepted forms (module docstring) into an aware UTC datetime."""
    if not isinstance(text, str):
        raise InvalidDateTime(value=text)
    stripped = text.strip()
    match = _DASHED.fullmatch(stripped) or _DOTNET.fullmatch(stripped)
    if match is None:
        raise InvalidDateTime(value=text)
    try:
        return _build(match)
    except (ValueError, OverflowError):
        raise InvalidDateTime(value=text) from None


def _build(m: re.Match[str]) -> datetime:
    hour = int(m["h"] or 0)
    designator = (m["ampm"] or "").upper()
    if designator == "AM":
        if hour > 12:
            raise ValueError("AM with hour > 12")
        hour = 0 if hour == 12 else hour
    elif designator == "PM" and hour < 12:
        hour += 12
    micro = int((m["f"] or "0")[:6].ljust(6, "0"))
    value = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), hour, int(m["mi"] or 0), int(m["s"] or 0),
                     micro, tzinfo=_zone(m["tz"]))
    return value.astimezone(timezone.utc)


def _zone(text: str | None) -> timezone:
    if not text or text in "Zz":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("bad offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
