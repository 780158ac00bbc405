"""parse_ttl: number+unit groups, positive, bounded, with a message that says how."""

from __future__ import annotations

from datetime import timedelta

import pytest

from strongbox.domain.errors import InvalidParameter
from strongbox.services.tokens import parse_ttl


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("3600s", timedelta(seconds=3600)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2w", timedelta(weeks=2)),
        (" 1D12H ", timedelta(days=1, hours=12)),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_ttl(text) == expected


@pytest.mark.parametrize("text", ["", "30", "m", "1.5h", "-1h", "1h 30m", "5x", "h1", "1hh"])
def test_refuses_malformed(text: str) -> None:
    with pytest.raises(InvalidParameter, match="use a number and a unit"):
        parse_ttl(text)


def test_refuses_zero_and_too_long() -> None:
    with pytest.raises(InvalidParameter, match="positive"):
        parse_ttl("0s")
    with pytest.raises(InvalidParameter, match="maximum of 365 days"):
        parse_ttl("366d")
