"""timefmt: Azure's date-time and duration spellings, and the lenient parser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import isodate
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongbox.api.timefmt import InvalidDateTime, duration, iso, parse_datetime
from strongbox.domain.errors import InvalidParameter

UTC = timezone.utc


def test_iso_has_seven_fraction_digits_and_z() -> None:
    assert iso(datetime(2026, 11, 29, 8, 28, 29, 123456, tzinfo=UTC)) == "2026-11-29T08:28:29.1234560Z"


def test_iso_treats_naive_as_utc_and_converts_offsets() -> None:
    assert iso(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.0000000Z"
    plus_two = timezone(timedelta(hours=2))
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two)) == "2026-01-02T01:04:05.0000000Z"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "PT0S"),
    (62.5, "PT1M2.5S"),
    (3723.4567, "PT1H2M3.4567S"),
    (93600, "PT26H"),
    (3600, "PT1H"),
    (60, "PT1M"),
    (12.4272909, "PT12.4272909S"),
    (-5, "PT0S"),
])
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


@given(st.floats(min_value=0, max_value=10 * 365 * 86400, allow_nan=False))
def test_duration_round_trips_through_isodate(seconds: float) -> None:
    parsed = isodate.parse_duration(duration(seconds))
    assert isinstance(parsed, timedelta)
    assert abs(parsed.total_seconds() - seconds) < 1e-3


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-29T08:28:29Z", datetime(2026, 11, 29, 8, 28, 29, tzinfo=UTC)),
    ("2026-11-29T08:28:29.1234567Z", datetime(2026, 11, 29, 8, 28, 29, 123456, tzinfo=UTC)),
    ("2026-11-29T10:28:29+02:00", datetime(2026, 11, 29, 8, 28, 29, tzinfo=UTC)),
    ("2026-11-29T08:28:29", datetime(2026, 11, 29, 8, 28, 29, tzinfo=UTC)),
    ("2016-01-01 00:00:00 AM", datetime(2016, 1, 1, tzinfo=UTC)),
    ("2016-01-01 12:00:00 AM", datetime(2016, 1, 1, tzinfo=UTC)),
    ("2016-01-01 12:30:00 PM", datetime(2016, 1, 1, 12, 30, tzinfo=UTC)),
    ("2026-11-29 07:28:30 PM", datetime(2026, 11, 29, 19, 28, 30, tzinfo=UTC)),
    ("2026-11-29 07:28:30 am", datetime(2026, 11, 29, 7, 28, 30, tzinfo=UTC)),
    ("2026-11-29 19:28:30", datetime(2026, 11, 29, 19, 28, 30, tzinfo=UTC)),
    ("2026-11-29", datetime(2026, 11, 29, tzinfo=UTC)),
    ("11/29/2026 7:28:30 PM", datetime(2026, 11, 29, 19, 28, 30, tzinfo=UTC)),
    ("1/2/2026 12:00:00 AM", datetime(2026, 1, 2, tzinfo=UTC)),
    ("  2026-11-29T08:28:29Z  ", datetime(2026, 11, 29, 8, 28, 29, tzinfo=UTC)),
])
def test_parse_datetime_accepts(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo == UTC


def test_azure_cli_format_round_trips() -> None:
    moment = datetime(2026, 11, 29, 21, 5, 7, tzinfo=UTC)
    assert parse_datetime(moment.strftime("%Y-%m-%d %I:%M:%S %p")) == moment


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-02-30", "2026-11-29 25:00:00",
                                  "2026-11-29 13:00:00 AM", "2026-11-29T08:28:29+99:00", "29.11.2026"])
def test_parse_datetime_rejects_with_value_in_message(text: str) -> None:
    with pytest.raises(InvalidDateTime) as caught:
        parse_datetime(text)
    assert isinstance(caught.value, InvalidParameter)
    assert caught.value.code == "InvalidDateTime"
    assert repr(text) in caught.value.message


@given(st.text(max_size=40))
def test_parse_datetime_raises_only_invalid_parameter(text: str) -> None:
    try:
        assert parse_datetime(text).tzinfo == UTC
    except InvalidParameter:
        pass
