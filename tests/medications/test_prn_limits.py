"""PRN limits as a pure rule (medications/timing.py prn_limits), from specs/mar.md, PRN:
minimum interval either side of the dose, and the most doses in any rolling 24 hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from medications.timing import prn_limits

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def at(day, hour, minute=0):
    return datetime(2026, 5, day, hour, minute, tzinfo=NY)


H = timedelta(hours=1)

# (name, new dose, doses given, interval minutes, max per 24 h,
#  expected allowed_from, expected next_given, expected count)
CASES = [
    ("first dose", at(12, 10), [], 240, 3, None, None, 1),
    ("1 minute short", at(12, 13, 59), [at(12, 10)], 240, 3, at(12, 14), None, 2),
    ("exactly the interval", at(12, 14), [at(12, 10)], 240, 3, None, None, 2),
    ("a later dose within the interval", at(12, 10), [at(12, 12)], 240, 3, None, at(12, 12), 2),
    ("a later dose past the interval", at(12, 10), [at(12, 15)], 240, 3, None, None, 2),
    ("the fourth within 24 h", at(13, 23, 59), [at(13, 0), at(13, 4), at(13, 8)], 240, 3,
     None, None, 4),
    ("exactly 24 h after the first", at(14, 0), [at(13, 0), at(13, 4), at(13, 8)], 240, 3,
     None, None, 3),
    # Late-charted between doses: no window ending at `at` is full, but the one ending at the
    # later dose is.
    ("densest window ends at a later dose", at(12, 6),
     [at(11, 12), at(12, 0), at(12, 11)], 240, 3, None, None, 4),
    ("given times in UTC", at(12, 13, 59).astimezone(UTC), [at(12, 10).astimezone(UTC)], 240, 3,
     at(12, 14), None, 2),
]  # fmt: skip


@pytest.mark.parametrize(
    "dose, given, interval, maximum, allowed_from, next_given, count",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_prn_limits(dose, given, interval, maximum, allowed_from, next_given, count):
    assert prn_limits(dose, given, interval_minutes=interval, max_per_24h=maximum) == (
        allowed_from,
        next_given,
        count,
    )


@pytest.mark.parametrize(
    "night, first, expected_hours",
    [
        # Spring forward: 01:30 EST to 05:30 EDT is 3 real hours, so a q4h dose is too soon.
        ("spring", datetime(2026, 3, 8, 1, 30, tzinfo=NY), 3),
        # Fall back: 00:30 EDT to 04:30 EST is 5 real hours, so it is allowed.
        ("fall", datetime(2026, 11, 1, 0, 30, tzinfo=NY), 5),
    ],
)
def test_prn_interval_counts_real_minutes_across_dst(night, first, expected_hours):
    wall_four_hours_later = first.replace(hour=first.hour + 4)
    elapsed = wall_four_hours_later.astimezone(UTC) - first.astimezone(UTC)
    assert elapsed == timedelta(hours=expected_hours)
    allowed_from, _, _ = prn_limits(
        wall_four_hours_later, [first], interval_minutes=240, max_per_24h=6
    )
    assert (allowed_from is not None) == (expected_hours < 4)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        naive = datetime(2026, 5, 12, 10)  # noqa: DTZ001 (the point of the test)
        prn_limits(naive, [], interval_minutes=240, max_per_24h=3)
