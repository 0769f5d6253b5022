"""medications.timing from the tables and examples of specs/mar.md, plus boundaries."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from medications.timing import (
    deadline_status,
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


# ------------------------------------------------------------------ DST nights (issue 9)
# America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
# Each case is judged in real minutes; a wall-clock reading gets every one of them wrong or
# sits on its boundary. The same instants are given in the facility's zone, in UTC and mixed.


def ny(month, day, h, m, fold=0):
    return datetime(2026, month, day, h, m, tzinfo=NY, fold=fold)


DST_STATUS = [
    # Spring forward. Daily 01:30 EST (±120): due to 04:30 EDT, late to 06:30 EDT, then missed.
    (ny(3, 8, 1, 30), ny(3, 8, 4, 0), 120, None, "due"),
    (ny(3, 8, 1, 30), ny(3, 8, 4, 30), 120, None, "due"),
    (ny(3, 8, 1, 30), ny(3, 8, 4, 31), 120, None, "late"),
    (ny(3, 8, 1, 30), ny(3, 8, 6, 29), 120, None, "late"),
    (ny(3, 8, 1, 30), ny(3, 8, 6, 30), 120, None, "missed"),
    # 03:30 EDT (±120) opens at 00:30 EST, three wall hours but two real hours before.
    (ny(3, 8, 3, 30), ny(3, 8, 0, 29), 120, None, "scheduled"),
    (ny(3, 8, 3, 30), ny(3, 8, 0, 30), 120, None, "due"),
    # 01:00 EST (±60), next 06:00 EDT: S + 2w is 04:00 EDT, before the next window opens.
    (ny(3, 8, 1, 0), ny(3, 8, 3, 59), 60, ny(3, 8, 6, 0), "late"),
    (ny(3, 8, 1, 0), ny(3, 8, 4, 0), 60, ny(3, 8, 6, 0), "missed"),
    # Fall back. 00:30 EDT (±60): at 01:30 EST, 120 real minutes later, it is missed.
    (ny(11, 1, 0, 30), ny(11, 1, 1, 29), 60, None, "due"),
    (ny(11, 1, 0, 30), ny(11, 1, 1, 31), 60, None, "late"),
    (ny(11, 1, 0, 30), ny(11, 1, 1, 30, fold=1), 60, None, "missed"),
    # 01:30 EST, the second 01:30 (±120): due from 00:30 EDT.
    (ny(11, 1, 1, 30, fold=1), ny(11, 1, 0, 29), 120, None, "scheduled"),
    (ny(11, 1, 1, 30, fold=1), ny(11, 1, 0, 30), 120, None, "due"),
    # Time-critical 01:45 EDT (±30): late from 01:16 EST, missed at 01:45 EST.
    (ny(11, 1, 1, 45), ny(11, 1, 1, 15, fold=1), 30, None, "due"),
    (ny(11, 1, 1, 45), ny(11, 1, 1, 16, fold=1), 30, None, "late"),
    (ny(11, 1, 1, 45), ny(11, 1, 1, 45, fold=1), 30, None, "missed"),
    # 01:00 EDT (±30), next 01:20 EST (±30, opens 01:50 EDT): late to 01:50 EDT, then missed.
    (ny(11, 1, 1, 0), ny(11, 1, 1, 30), 30, ny(11, 1, 1, 20, fold=1), "due"),
    (ny(11, 1, 1, 0), ny(11, 1, 1, 49), 30, ny(11, 1, 1, 20, fold=1), "late"),
    (ny(11, 1, 1, 0), ny(11, 1, 1, 50), 30, ny(11, 1, 1, 20, fold=1), "missed"),
]


@pytest.mark.parametrize("zone", ["facility", "utc", "mixed"])
@pytest.mark.parametrize("scheduled, now, window, next_at, expected", DST_STATUS)
def test_dose_status_on_dst_nights_is_the_same_in_any_zone(
    scheduled, now, window, next_at, expected, zone
):
    def put(moment, i):
        if moment is None or zone == "facility":
            return moment
        if zone == "utc" or i % 2:
            return moment.astimezone(UTC)
        return moment

    got = dose_status(
        put(scheduled, 0), put(now, 1), window=window, next_scheduled_at=put(next_at, 2),
        next_window=window if next_at else None,
    )  # fmt: skip
    assert got == expected


@pytest.mark.parametrize(
    "route, given, now, expected",
    [
        # Fall back: 01:30 EDT to 01:35 EST is 65 real minutes.
        ("oral", ny(11, 1, 1, 30), ny(11, 1, 1, 35, fold=1), "due"),
        ("oral", ny(11, 1, 1, 30), ny(11, 1, 1, 29, fold=1), "pending"),  # 59 minutes
        ("im", ny(11, 1, 1, 30), ny(11, 1, 1, 31, fold=1), "overdue"),  # 61 minutes
        # Spring forward: 01:50 EST to 03:20 EDT is 30 real minutes.
        ("im", ny(3, 8, 1, 50), ny(3, 8, 3, 20), "due"),
        ("oral", ny(3, 8, 1, 50), ny(3, 8, 3, 49), "pending"),
        ("oral", ny(3, 8, 1, 50), ny(3, 8, 4, 20), "due"),  # 90 minutes: last minute due
        ("oral", ny(3, 8, 1, 50), ny(3, 8, 4, 21), "overdue"),
    ],
)
def test_prn_reassessment_on_dst_nights_is_the_same_in_any_zone(route, given, now, expected):
    assert prn_reassessment_status(given, now, route=route) == expected
    assert prn_reassessment_status(given.astimezone(UTC), now, route=route) == expected
    assert prn_reassessment_status(given, now.astimezone(UTC), route=route) == expected


@pytest.mark.parametrize(
    "deadline, now, expected",
    [
        (ny(11, 1, 1, 30), ny(11, 1, 1, 20, fold=1), "missed"),  # 50 real minutes past
        (ny(11, 1, 1, 30, fold=1), ny(11, 1, 1, 40), "due"),  # an hour before it
        (ny(3, 8, 3, 10), ny(3, 8, 1, 59), "due"),
        (ny(3, 8, 1, 59), ny(3, 8, 3, 0), "missed"),  # one real minute past
        (ny(5, 12, 9, 0), ny(5, 12, 9, 0), "due"),  # inclusive
    ],
)
def test_deadline_status_in_real_minutes(deadline, now, expected):
    assert deadline_status(deadline, now) == expected
    assert deadline_status(deadline.astimezone(UTC), now.astimezone(UTC)) == expected


def test_a_one_time_dose_in_the_repeated_hour_is_found_by_its_instant():
    # 01:30 EST (the second 01:30) lies in [01:45 EDT, 02:00 EST): a wall-clock test says no.
    found = dose_times_between(
        frequency="once", times="", first_at=ny(11, 1, 1, 30, fold=1), tz=NY,
        start=ny(11, 1, 1, 45), end=ny(11, 1, 2, 0),
    )  # fmt: skip
    assert found == [datetime(2026, 11, 1, 6, 30, tzinfo=UTC)]
