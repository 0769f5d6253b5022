"""medications.timing from the tables and examples of specs/mar.md, plus boundaries."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from medications.timing import (
    dose_status,
    dose_times_between,
    doses_per_day,
    parse_times,
    prn_reassessment_status,
    scheduled_times,
    window_minutes,
)

NY = ZoneInfo("America/New_York")


def at(h, m, s=0, day=12):
    return datetime(2026, 5, day, h, m, s, tzinfo=NY)


@pytest.mark.parametrize(
    "doses_per_day, time_critical, window",
    [
        (1, True, 30),  # time-critical daily
        (2, True, 30),
        (1 / 7, False, 120),  # weekly
        (1, False, 120),  # daily
        (2, False, 60),  # BID / q12h
        (3, False, 60),  # TID / q8h
        (4, False, 60),  # QID / q6h
        (6, False, 60),  # q4h: "up to every 4 hours"
        (8, False, 30),  # q3h: more often than every 4 hours
        (24, False, 30),  # hourly
    ],
)
def test_window_table(doses_per_day, time_critical, window):
    assert window_minutes(doses_per_day=doses_per_day, time_critical=time_critical) == window


def test_window_needs_a_positive_frequency():
    with pytest.raises(ValueError):
        window_minutes(doses_per_day=0, time_critical=False)


@pytest.mark.parametrize(
    "now, expected",
    [
        (at(6, 59), "scheduled"),
        (at(6, 59, 59), "scheduled"),
        (at(7, 0), "due"),
        (at(9, 0), "due"),
        (at(11, 0), "due"),
        (at(11, 0, 1), "late"),
        (at(11, 1), "late"),
        (at(12, 59), "late"),
        (at(13, 0), "missed"),
        (at(23, 0), "missed"),
    ],
)
def test_daily_0900_examples(now, expected):
    assert dose_status(at(9, 0), now, window=120) == expected


@pytest.mark.parametrize(
    "now, expected",
    [(at(7, 59), "scheduled"), (at(10, 0), "due"), (at(10, 1), "late"), (at(11, 0), "missed")],
)
def test_bid_examples(now, expected):
    assert (
        dose_status(at(9, 0), now, window=60, next_scheduled_at=at(21, 0), next_window=60)
        == expected
    )


@pytest.mark.parametrize(
    "now, expected",
    [(at(7, 29), "scheduled"), (at(8, 30), "due"), (at(8, 31), "late"), (at(9, 0), "missed")],
)
def test_time_critical_examples(now, expected):
    assert dose_status(at(8, 0), now, window=30) == expected


def test_the_next_dose_window_ends_the_late_period_early():
    # q4h (±60): 08:00 then 12:00. S + 2w = 10:00, S2 - w2 = 11:00 → missed at 10:00.
    # q3h-like spacing (±30): 08:00 then 09:00. S + 2w = 09:00, S2 - w2 = 08:30 → due wins to
    # 08:30 inclusive, then missed (no late period at all).
    assert dose_status(at(8, 0), at(10, 0), window=60, next_scheduled_at=at(12, 0)) == "missed"
    assert dose_status(at(8, 0), at(8, 30), window=30, next_scheduled_at=at(9, 0)) == "due"
    assert dose_status(at(8, 0), at(8, 31), window=30, next_scheduled_at=at(9, 0)) == "missed"


def test_status_across_the_fall_back_hour_uses_real_time():
    # 01:30 EDT dose, now 01:10 EST (fold=1) is 100 real minutes later: daily window → due.
    dose = datetime(2026, 11, 1, 1, 30, tzinfo=NY)
    now = datetime(2026, 11, 1, 1, 10, tzinfo=NY, fold=1)
    assert dose_status(dose, now.astimezone(ZoneInfo("UTC")), window=120) == "due"
    assert dose_status(dose, dose + timedelta(hours=4), window=120) == "missed"


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        dose_status(datetime(2026, 5, 12, 9, 0), at(9, 0), window=60)  # noqa: DTZ001


@pytest.mark.parametrize(
    "route, minutes, expected",
    [
        ("oral", 59, "pending"),
        ("oral", 60, "due"),
        ("oral", 90, "due"),
        ("oral", 91, "overdue"),
        ("sublingual", 60, "due"),
        ("transdermal", 30, "pending"),
        ("IM", 29, "pending"),
        ("IM", 30, "due"),
        ("iv", 60, "due"),
        ("IV", 61, "overdue"),
        ("inhaled", 45, "due"),
        ("intranasal", 61, "overdue"),
    ],
)
def test_prn_reassessment(route, minutes, expected):
    given = at(10, 0)
    assert (
        prn_reassessment_status(given, given + timedelta(minutes=minutes), route=route) == expected
    )


def test_unknown_route_is_refused():
    with pytest.raises(ValueError, match="route"):
        prn_reassessment_status(at(10, 0), at(11, 0), route="by osmosis")


# ------------------------------------------------------------------ dose times


@pytest.mark.parametrize(
    "text, expected",
    [
        ("09:00", [time(9)]),
        ("21:00, 09:00,09:00", [time(9), time(21)]),
        (" 00:00 , 23:59 ", [time(0), time(23, 59)]),
        ("", []),
    ],
)
def test_parse_times(text, expected):
    assert parse_times(text) == expected


@pytest.mark.parametrize("text", ["9:00", "24:00", "09:60", "noon", "09:00,21"])
def test_parse_times_refuses_what_is_not_hh_mm(text):
    with pytest.raises(ValueError, match="is not a time like 09:00"):
        parse_times(text)


@pytest.mark.parametrize(
    "frequency, times, expected, per_day",
    [
        ("daily", "", ["09:00"], 1),
        ("bid", "", ["09:00", "21:00"], 2),
        ("q6h", "", ["00:00", "06:00", "12:00", "18:00"], 4),
        ("q4h", "", ["02:00", "06:00", "10:00", "14:00", "18:00", "22:00"], 6),
        ("bid", "08:00,20:00", ["08:00", "20:00"], 2),  # listed times win over the defaults
        ("times", "07:30", ["07:30"], 1),
        ("weekly", "", ["09:00"], 1 / 7),
        ("prn", "", [], 1),
        ("once", "", [], 1),
    ],
)
def test_scheduled_times_and_doses_per_day(frequency, times, expected, per_day):
    assert [t.strftime("%H:%M") for t in scheduled_times(frequency, times)] == expected
    assert doses_per_day(frequency, times) == per_day


def local_times(moments):
    return [m.astimezone(NY).strftime("%m-%d %H:%M") for m in moments]


@pytest.mark.parametrize(
    "frequency, times, first_at, start, end, expected",
    [
        # [start, end): a dose exactly at the end is the next span's.
        ("bid", "", at(6, 0), at(9, 0), at(21, 0), ["05-12 09:00"]),
        ("bid", "", at(6, 0), at(6, 0), at(9, 0, day=13), ["05-12 09:00", "05-12 21:00"]),
        ("once", "", at(14, 30), at(6, 0), at(18, 0), ["05-12 14:30"]),
        ("once", "", at(14, 30), at(15, 0), at(18, 0), []),
        # Weekly on the start's weekday (Tuesday 12 May): the 19th, not the days between.
        ("weekly", "", at(8, 0), at(10, 0), at(10, 0, day=20), ["05-19 09:00"]),
        # Spring forward, 8 March: 02:30 never happens and falls at 03:30 EDT, once.
        (
            "times", "02:30", datetime(2026, 3, 7, 0, 0, tzinfo=NY),
            datetime(2026, 3, 7, 12, 0, tzinfo=NY), datetime(2026, 3, 9, 0, 0, tzinfo=NY),
            ["03-08 03:30"],
        ),
        # Fall back, 1 November: 01:30 happens twice and is given once, at the first.
        (
            "times", "01:30", datetime(2026, 10, 31, 0, 0, tzinfo=NY),
            datetime(2026, 11, 1, 0, 0, tzinfo=NY), datetime(2026, 11, 2, 0, 0, tzinfo=NY),
            ["11-01 01:30"],
        ),
    ],
)  # fmt: skip
def test_dose_times_between(frequency, times, first_at, start, end, expected):
    found = dose_times_between(
        frequency=frequency, times=times, first_at=first_at, tz=NY, start=start, end=end
    )
    assert local_times(found) == expected


def test_the_fall_back_dose_is_the_first_of_the_two_01_30s():
    (dose,) = dose_times_between(
        frequency="times", times="01:30", first_at=datetime(2026, 10, 31, tzinfo=NY), tz=NY,
        start=datetime(2026, 11, 1, tzinfo=NY), end=datetime(2026, 11, 2, tzinfo=NY),
    )  # fmt: skip
    assert dose == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


def test_dose_times_must_be_time_zone_aware():
    with pytest.raises(ValueError, match="aware"):
        dose_times_between(
            frequency="bid", times="", first_at=datetime(2026, 5, 12), tz=NY,  # noqa: DTZ001
            start=at(0, 0), end=at(23, 0),
        )  # fmt: skip
