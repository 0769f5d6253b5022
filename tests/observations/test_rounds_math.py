"""missed_blocks and missed_count_rolling from the tables of specs/rounds.md, plus DST and edges."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from observations.rounds import (
    block_state,
    boundary_passed,
    iter_blocks,
    level_segments,
    missed_blocks,
    missed_count_rolling,
    subtract,
)

NY = ZoneInfo("America/New_York")
DAY = (2026, 5, 12)


def at(h, m, day=DAY, fold=0, tz=NY):
    return datetime(*day, h, m, tzinfo=tz, fold=fold)


def utc(values):
    return [v.astimezone(UTC) for v in values]


# (checks, start, end, interval, missed block starts, rolling count)
SPEC_CASES = {
    "q15 07-08, one gap (spec)": (
        [at(7, 3), at(7, 14), at(7, 31), at(7, 58)],
        at(7, 0),
        at(8, 0),
        15,
        [at(7, 15)],
        2,
    ),
    # Rolling mode is stricter: the 28-minute gap between 07:01 and 07:29 owes one check.
    "q15 07-07:30 none missed (spec)": ([at(7, 1), at(7, 29)], at(7, 0), at(7, 30), 15, [], 1),
    "check exactly on the boundary belongs to the later block (spec)": (
        [at(7, 15)],
        at(7, 0),
        at(7, 30),
        15,
        [at(7, 0)],
        0,
    ),
    "q60 across midnight (spec)": (
        [at(23, 20), at(0, 5, day=(2026, 5, 13)), at(1, 59, day=(2026, 5, 13))],
        at(23, 0),
        at(2, 0, day=(2026, 5, 13)),
        60,
        [],
        1,  # rolling: 00:05 to 01:59 is 114 minutes
    ),
    "q30 with no checks": (
        [],
        at(9, 0),
        at(11, 0),
        30,
        [at(9, 0), at(9, 30), at(10, 0), at(10, 30)],
        3,
    ),
    "q30 check at 09:29:59 does not cover 09:30": (
        [datetime(*DAY, 9, 29, 59, tzinfo=NY)],
        at(9, 0),
        at(10, 0),
        30,
        [at(9, 30)],
        1,
    ),
    "q60 check in last minute of hour": ([at(9, 59)], at(9, 0), at(10, 0), 60, [], 0),
    "partial blocks at either end are not owed": (
        [at(9, 20)],
        at(9, 7),
        at(9, 50),
        15,
        [at(9, 30)],
        1,
    ),
    "checks outside the period do not count": (
        [at(6, 59), at(8, 0)],
        at(7, 0),
        at(8, 0),
        60,
        [at(7, 0)],
        0,
    ),
}


@pytest.mark.parametrize("case", SPEC_CASES, ids=list(SPEC_CASES))
def test_missed_blocks_table(case):
    checks, start, end, interval, expected, _ = SPEC_CASES[case]
    got = missed_blocks(checks, start=start, end=end, interval_minutes=interval)
    assert utc(got) == utc(expected)


@pytest.mark.parametrize("case", SPEC_CASES, ids=list(SPEC_CASES))
def test_missed_count_rolling_table(case):
    checks, start, end, interval, _, expected = SPEC_CASES[case]
    assert missed_count_rolling(checks, start=start, end=end, interval_minutes=interval) == expected


FALL_BACK = (2026, 11, 1)  # 02:00 EDT -> 01:00 EST: 01:00-02:00 happens twice
SPRING_FORWARD = (2026, 3, 8)  # 02:00 EST -> 03:00 EDT: 02:00-03:00 never happens


def test_fall_back_day_has_100_quarter_hour_blocks():
    start = datetime(*FALL_BACK, 0, 0, tzinfo=NY)
    end = datetime(2026, 11, 2, 0, 0, tzinfo=NY)
    blocks = list(iter_blocks(start=start, end=end, interval_minutes=15))
    assert len(blocks) == 100
    assert len({b.astimezone(UTC) for b, _ in blocks}) == 100


def test_repeated_hour_blocks_are_distinct_and_a_check_covers_only_its_own():
    first_0115 = datetime(*FALL_BACK, 1, 20, tzinfo=NY, fold=0)  # EDT
    start = datetime(*FALL_BACK, 1, 0, tzinfo=NY, fold=0)
    end = datetime(*FALL_BACK, 2, 0, tzinfo=NY)  # EST, after the repeat
    missed = missed_blocks([first_0115], start=start, end=end, interval_minutes=15)
    assert len(missed) == 7
    assert datetime(*FALL_BACK, 1, 15, tzinfo=NY, fold=0).astimezone(UTC) not in utc(missed)
    assert datetime(*FALL_BACK, 1, 15, tzinfo=NY, fold=1).astimezone(UTC) in utc(missed)
    # Rolling: 20 minutes to the check (1), then 100 real minutes to the end (6).
    assert missed_count_rolling([first_0115], start=start, end=end, interval_minutes=15) == 7


def test_spring_forward_day_has_92_blocks_and_no_skipped_hour():
    start = datetime(*SPRING_FORWARD, 0, 0, tzinfo=NY)
    end = datetime(2026, 3, 9, 0, 0, tzinfo=NY)
    blocks = [b for b, _ in iter_blocks(start=start, end=end, interval_minutes=15)]
    assert len(blocks) == 92
    assert all(b.astimezone(NY).hour != 2 for b in blocks)
    # 01:45 EST is followed directly by 03:00 EDT, 15 real minutes later.
    i = [b.astimezone(NY).strftime("%H:%M") for b in blocks].index("01:45")
    assert blocks[i + 1].astimezone(NY).strftime("%H:%M") == "03:00"
    assert blocks[i + 1].astimezone(UTC) - blocks[i].astimezone(UTC) == timedelta(minutes=15)


def test_q60_over_spring_forward_hour_owes_23_checks():
    start = datetime(*SPRING_FORWARD, 0, 0, tzinfo=NY)
    end = datetime(2026, 3, 9, 0, 0, tzinfo=NY)
    assert len(missed_blocks([], start=start, end=end, interval_minutes=60)) == 23


def test_blocks_follow_the_zone_of_start():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: local hours are not UTC hours
    start = datetime(2026, 5, 12, 9, 0, tzinfo=kolkata)
    missed = missed_blocks([], start=start, end=start + timedelta(hours=2), interval_minutes=60)
    assert [m.strftime("%H:%M") for m in missed] == ["09:00", "10:00"]


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        missed_blocks(
            [datetime(2026, 5, 12, 7, 0)],  # noqa: DTZ001 (the point of the test)
            start=at(7, 0),
            end=at(8, 0),
            interval_minutes=15,
        )


@pytest.mark.parametrize(
    "now, last, state",
    [
        (at(7, 5), at(7, 1), "done"),
        (at(7, 5), at(6, 59), "due"),
        (at(7, 12), None, "due_soon"),
        (datetime(*DAY, 7, 11, 59, tzinfo=NY), None, "due"),
        (at(7, 15), at(7, 14), "due"),
    ],
)
def test_block_state(now, last, state):
    assert block_state(now, last_check=last, interval_minutes=15) == state


# ---------------------------------------------------------------- levels over time (moved from
# observations/services.py with issue 8: pure, so tested here with tables)


@dataclass
class Stay:
    admitted_at: datetime
    discharged_at: datetime | None = None


@dataclass
class Ordered:
    effective_from: datetime
    level: str


ADMITTED = at(7, 0)
HOUR = timedelta(hours=1)

# (stay, orders, start, end, segments as (from, to, level))
SEGMENT_CASES = {
    "no order: q15 for 72 hours, then q60": (
        Stay(ADMITTED),
        [],
        ADMITTED,
        ADMITTED + 80 * HOUR,
        [
            (ADMITTED, ADMITTED + 72 * HOUR, "q15"),
            (ADMITTED + 72 * HOUR, ADMITTED + 80 * HOUR, "q60"),
        ],
    ),
    "an order within 72 hours ends the admission default": (
        Stay(ADMITTED),
        [Ordered(ADMITTED + 2 * HOUR, "los")],
        ADMITTED,
        ADMITTED + 100 * HOUR,
        [
            (ADMITTED, ADMITTED + 2 * HOUR, "q15"),
            (ADMITTED + 2 * HOUR, ADMITTED + 100 * HOUR, "los"),
        ],
    ),
    "an order after 72 hours follows the q60 default": (
        Stay(ADMITTED),
        [Ordered(ADMITTED + 73 * HOUR, "q30")],
        ADMITTED + 71 * HOUR,
        ADMITTED + 74 * HOUR,
        [
            (ADMITTED + 71 * HOUR, ADMITTED + 72 * HOUR, "q15"),
            (ADMITTED + 72 * HOUR, ADMITTED + 73 * HOUR, "q60"),
            (ADMITTED + 73 * HOUR, ADMITTED + 74 * HOUR, "q30"),
        ],
    ),
    "clipped to the discharge": (
        Stay(ADMITTED, ADMITTED + 3 * HOUR),
        [],
        ADMITTED - HOUR,
        ADMITTED + 10 * HOUR,
        [(ADMITTED, ADMITTED + 3 * HOUR, "q15")],
    ),
    "a span before admission owes nothing": (
        Stay(ADMITTED),
        [],
        ADMITTED - 5 * HOUR,
        ADMITTED - HOUR,
        [],
    ),
}


@pytest.mark.parametrize("case", SEGMENT_CASES, ids=list(SEGMENT_CASES))
def test_level_segments_table(case):
    stay, orders, start, end, expected = SEGMENT_CASES[case]
    assert level_segments(stay, orders, start=start, end=end) == expected


# (holes, pieces left of 07:00–08:00)
SUBTRACT_CASES = {
    "no holes": ([], [(at(7, 0), at(8, 0))]),
    "a hole in the middle": (
        [(at(7, 10), at(7, 20))],
        [(at(7, 0), at(7, 10)), (at(7, 20), at(8, 0))],
    ),
    "a hole over the start": ([(at(6, 30), at(7, 15))], [(at(7, 15), at(8, 0))]),
    "a hole over the end": ([(at(7, 45), at(9, 0))], [(at(7, 0), at(7, 45))]),
    "a hole over everything": ([(at(6, 0), at(9, 0))], []),
    "holes outside": ([(at(5, 0), at(6, 0)), (at(8, 0), at(9, 0))], [(at(7, 0), at(8, 0))]),
    "overlapping holes": (
        [(at(7, 10), at(7, 30)), (at(7, 20), at(7, 40))],
        [(at(7, 0), at(7, 10)), (at(7, 40), at(8, 0))],
    ),
}


@pytest.mark.parametrize("case", SUBTRACT_CASES, ids=list(SUBTRACT_CASES))
def test_subtract_table(case):
    holes, expected = SUBTRACT_CASES[case]
    assert subtract(at(7, 0), at(8, 0), holes) == expected


KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+05:45: its hours begin at a quarter past, UTC


def utc_at(h, m):
    return datetime(*DAY, h, m, tzinfo=UTC)


@pytest.mark.parametrize(
    "mark, now, tz, interval, passed",
    [
        (at(7, 1), at(7, 14), NY, 15, False),
        (at(7, 1), at(7, 15), NY, 15, True),
        (at(7, 15), at(7, 15), NY, 15, False),
        (at(6, 59), at(7, 0), NY, 15, True),
        # 12:55 to 13:05 in Kathmandu passes its 13:00, though no UTC hour began.
        (utc_at(7, 10), utc_at(7, 20), KATHMANDU, 60, True),
        # 13:01 to 13:50 in Kathmandu passes no hour there, though UTC's 08:00 lies between.
        (utc_at(7, 16), utc_at(8, 5), KATHMANDU, 60, False),
    ],
)
def test_boundary_passed(mark, now, tz, interval, passed):
    assert boundary_passed(mark, now, tz, interval) is passed


def test_boundary_passed_in_the_repeated_fall_back_hour():
    # 01:14 EDT to 01:01 EST, 47 minutes later: the wall clock went back, yet blocks ended.
    fall_back = (2026, 11, 1)
    assert boundary_passed(at(1, 14, fall_back), at(1, 1, fall_back, fold=1), NY)
    # 01:16 EST to 01:29 EST passes no quarter hour.
    assert not boundary_passed(at(1, 16, fall_back, fold=1), at(1, 29, fall_back, fold=1), NY)
