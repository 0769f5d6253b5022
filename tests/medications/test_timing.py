"""medications.timing from the tables and examples of specs/mar.md, plus boundaries."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from medications.timing import dose_status, prn_reassessment_status, window_minutes

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
