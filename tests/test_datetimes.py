"""ISO-8601 date-times are read the same way on Python 3.10 and later.

``datetime.fromisoformat`` on 3.10 refuses ``Z``, ``+0100`` and fractions that
are not 3 or 6 digits long; Designer 2024.1-2025.1 ships Python 3.10, so the
validator and the emulator use axframe's own parser instead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from axframe import schemas
from axframe.emulator.error_map import body_of, status_of
from axframe.emulator.state.core import EmulatorError, parse_time

DATE_TIME = {"type": "string", "format": "date-time"}
UTC = timezone.utc

ACCEPTED = [
    ("2027-01-01", datetime(2027, 1, 1)),
    ("2027-01-01T09:30", datetime(2027, 1, 1, 9, 30)),
    ("2027-01-01 09:30:15", datetime(2027, 1, 1, 9, 30, 15)),
    ("2027-01-01T00:00:00Z", datetime(2027, 1, 1, tzinfo=UTC)),
    ("2027-01-01T00:00:00.5Z", datetime(2027, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ("2027-01-01T00:00:00.12Z", datetime(2027, 1, 1, 0, 0, 0, 120000, tzinfo=UTC)),
    ("2027-01-01T00:00:00.123Z", datetime(2027, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)),
    ("2027-01-01T00:00:00.1234Z", datetime(2027, 1, 1, 0, 0, 0, 123400, tzinfo=UTC)),
    ("2027-01-01T00:00:00.12345Z", datetime(2027, 1, 1, 0, 0, 0, 123450, tzinfo=UTC)),
    ("2027-01-01T00:00:00.1234567Z", datetime(2027, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
    ("2027-01-01T00:00:00.1234567", datetime(2027, 1, 1, 0, 0, 0, 123456)),
    ("2027-01-01T10:00:00+0100", datetime(2027, 1, 1, 9, tzinfo=UTC)),
    ("2027-01-01T10:00:00+01:00", datetime(2027, 1, 1, 9, tzinfo=UTC)),
    ("2027-01-01T10:00:00.25-05:30", datetime(2027, 1, 1, 15, 30, 0, 250000, tzinfo=UTC)),
    ("2027-01-01Z", datetime(2027, 1, 1, tzinfo=UTC)),
]

# Valid for the parser but outside the validator's stricter spelling.
PARSER_ONLY = [
    ("2027-01-01T10:00:00+01", datetime(2027, 1, 1, 9, tzinfo=UTC)),
    ("2027-01-01t10:00:00,5", datetime(2027, 1, 1, 10, 0, 0, 500000)),
]

GARBAGE = ["", "yesterday", "2027", "2027-1-1", "2027-13-01", "2027-02-30", "2027-01-01T24:00:00",
           "2027-01-01T10:60", "2027-01-01T10:00:61", "2027-01-01T10:00:00+2400", "2027-01-01T10:00:00+01:60",
           "2027-01-01T10:00:00.Z", "2027-01-01T10:00:00ZZ", "2027-01-01T10:00:00 Z", "2027-01-01\n",
           "2027-01-01T10:00:00+1", "\u0662\u0660\u0662\u0667-01-01", "2027-01-01T10:00:00.5Zjunk"]


@pytest.mark.parametrize("text, expected", ACCEPTED + PARSER_ONLY)
def test_parser_accepts_iso_forms(text, expected):
    assert schemas.parse_datetime(text) == expected


def test_parser_keeps_naive_and_aware_apart():
    assert schemas.parse_datetime("2027-01-01T10:00:00").tzinfo is None
    assert schemas.parse_datetime("2027-01-01T10:00:00-0230").utcoffset() == -timedelta(hours=2, minutes=30)


@pytest.mark.parametrize("text", GARBAGE)
def test_parser_refuses_garbage(text):
    with pytest.raises(ValueError):
        schemas.parse_datetime(text)


def test_parser_refuses_non_text():
    with pytest.raises(ValueError):
        schemas.parse_datetime(20270101)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [t for t, _ in ACCEPTED])
def test_validator_accepts_iso_forms(text):
    assert schemas.validate(text, DATE_TIME) == []


@pytest.mark.parametrize("text", GARBAGE + ["2027-01-01T10:00:00+01"])
def test_validator_refuses_garbage(text):
    errors = schemas.validate(text, DATE_TIME)
    assert len(errors) == 1 and "expected a date-time" in errors[0]


@pytest.mark.parametrize("text, expected", ACCEPTED + PARSER_ONLY)
def test_emulator_parse_time_accepts_iso_forms(text, expected):
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=UTC)  # the emulator reads naive times as UTC
    assert parse_time(f"  {text} ", "when") == expected.timestamp()


@pytest.mark.parametrize("text", [t for t in GARBAGE if t and t == t.strip()] + [None, 5, "   "])
def test_emulator_parse_time_answers_400_for_garbage(text):
    with pytest.raises(EmulatorError) as caught:
        parse_time(text, "when")
    assert status_of(caught.value) == 400
    assert body_of(caught.value)["modelState"] == {"when": [f"The value '{text}' is not a valid date."]}


@pytest.mark.parametrize("start", ["2026-01-01", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00",
                                   datetime(2026, 1, 1), date(2026, 1, 1), 1767225600])
def test_the_emulator_clock_starts_from_seconds_text_or_datetimes(start):
    from axframe.emulator import Emulator

    assert abs(Emulator("empty", start_time=start).clock.now() - 1767225600) < 5


def test_the_emulator_refuses_a_start_time_it_cannot_read():
    from axframe.emulator import Emulator

    with pytest.raises(ValueError, match="ISO 8601"):
        Emulator("empty", start_time="yesterday")
