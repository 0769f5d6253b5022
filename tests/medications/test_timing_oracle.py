"""medications.timing against a second, independent reading of specs/mar.md, on many generated
cases around both DST nights and in zones that do not share the facility's clock.

The oracle below works only in POSIX seconds, so it cannot make the wall-clock mistake the
module once made (Python subtracts and compares two datetimes of the same zone by wall clock).
Every case is given to timing.py in a zone chosen at random per datetime: the same instants must
give the same answer whatever zone they carry (issue 9).
"""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from medications.timing import dose_status, prn_reassessment_status

ZONES = [
    ZoneInfo(name)
    for name in (
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "Europe/London",
        "Australia/Lord_Howe",  # a 30-minute DST shift
        "UTC",
    )
]
# Instants around the spring-forward and fall-back nights of 2026 in the US and Europe.
PIVOTS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 02:00 EST → 03:00 EDT
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # 02:00 EDT → 01:00 EST
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London spring forward
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # London fall back
    datetime(2026, 5, 12, 13, 0, tzinfo=UTC),  # an ordinary day
]


def oracle_status(s: float, now: float, window: int, s2: float | None, window2: int) -> str:
    """specs/mar.md "Status of a dose nobody has documented", in seconds since the epoch."""
    before = after = window * 60
    if now < s - before:
        return "scheduled"
    if now <= s + after:
        return "due"
    missed_at = s + 2 * after
    if s2 is not None:
        missed_at = min(missed_at, s2 - window2 * 60)
    return "missed" if now >= missed_at else "late"


def oracle_reassessment(given: float, now: float, route: str) -> str:
    """specs/mar.md PRN: due at +60 min (slow routes) or +30 (fast), for 30 min, then overdue."""
    slow = {"oral", "sublingual", "rectal", "topical", "transdermal"}
    due = given + (60 if route in slow else 30) * 60
    if now < due:
        return "pending"
    return "due" if now <= due + 30 * 60 else "overdue"


def _in_some_zone(rng: random.Random, instant: datetime) -> datetime:
    return instant.astimezone(rng.choice(ZONES))


def _cases(seed: int, n: int):
    rng = random.Random(seed)
    for _ in range(n):
        s = rng.choice(PIVOTS) + timedelta(minutes=rng.randint(-240, 240))
        window = rng.choice([30, 60, 120])
        has_next = rng.random() < 0.7
        s2 = s + timedelta(minutes=rng.choice([60, 120, 180, 240, 360, 480, 720, 1440]))
        window2 = rng.choice([30, 60, 120])
        # Mostly near a boundary, to the second.
        boundary = rng.choice(
            [s - timedelta(minutes=window), s + timedelta(minutes=window),
             s + timedelta(minutes=2 * window), s2 - timedelta(minutes=window2), s]
        )  # fmt: skip
        now = boundary + timedelta(seconds=rng.choice([-61, -1, 0, 1, 59, 3600, -3600]))
        yield s, now, window, (s2 if has_next else None), window2


@pytest.mark.parametrize("seed", range(8))
def test_dose_status_agrees_with_the_spec_in_any_zone(seed):
    rng = random.Random(1000 + seed)
    disagreements = []
    for s, now, window, s2, window2 in _cases(seed, 400):
        expected = oracle_status(
            s.timestamp(), now.timestamp(), window, s2.timestamp() if s2 else None, window2
        )
        got = dose_status(
            _in_some_zone(rng, s),
            _in_some_zone(rng, now),
            window=window,
            next_scheduled_at=_in_some_zone(rng, s2) if s2 else None,
            next_window=window2 if s2 else None,
        )
        if got != expected:
            disagreements.append((s.isoformat(), now.isoformat(), window, s2, got, expected))
    assert disagreements == []


@pytest.mark.parametrize("route", ["oral", "sublingual", "im", "inhaled", "intranasal"])
def test_reassessment_agrees_with_the_spec_in_any_zone(route):
    rng = random.Random(route)
    for pivot in PIVOTS:
        for minutes in range(-5, 100, 1):
            given = pivot + timedelta(minutes=rng.randint(-90, 30))
            now = given + timedelta(minutes=minutes, seconds=rng.choice([-1, 0, 1]))
            expected = oracle_reassessment(given.timestamp(), now.timestamp(), route)
            got = prn_reassessment_status(
                _in_some_zone(rng, given), _in_some_zone(rng, now), route=route
            )
            assert got == expected, (given, now, route)


def test_a_fall_back_night_dose_is_judged_in_real_minutes():
    """Daily dose at 01:30 EDT on 2026-11-01 (±120): at 02:45 EST, 135 real minutes later (the
    wall clock says only 75), it is late, not due."""
    ny = ZoneInfo("America/New_York")
    s = datetime(2026, 11, 1, 5, 30, tzinfo=UTC).astimezone(ny)  # 01:30 EDT
    now = datetime(2026, 11, 1, 7, 45, tzinfo=UTC).astimezone(ny)  # 02:45 EST
    assert dose_status(s, now, window=120) == "late"
