"""The group attendance math, from tables (specs/charting.md, Groups and attendance): which
group types count as clinical hours, what each status is worth, the week on the facility's clock
(a DST week included) and progress against the level of care's weekly target."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from observations import groups

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "group_type, clinical",
    [
        ("psychoeducation", True),
        ("process", True),
        ("skills", True),
        ("relapse_prevention", True),
        ("life_skills", True),
        ("family", True),
        # ASAM does not count these as clinical services.
        ("recreation", False),
        ("mutual_help", False),
        ("anything else", False),
    ],
)
def test_which_group_types_count_as_clinical_hours(group_type, clinical):
    assert groups.counts_as_clinical(group_type) is clinical


def test_every_model_group_type_is_classified():
    from observations.models import GroupType

    assert set(GroupType.values) == set(groups.GROUP_TYPES)
    assert set(GroupType.values) == groups.CLINICAL_TYPES | groups.NOT_CLINICAL


@pytest.mark.parametrize(
    "status, minutes, length, attended",
    [
        ("present", None, 60, 60),
        ("present", None, 90, 90),
        ("partial", 35, 60, 35),
        ("partial", 60, 60, 60),
        ("partial", 75, 60, 60),  # never more than the session
        ("absent", None, 60, 0),
        ("refused", None, 60, 0),
        ("excused", None, 60, 0),
    ],
)
def test_minutes_attended_from_each_status(status, minutes, length, attended):
    assert groups.minutes_attended(status, minutes, length) == attended


@pytest.mark.parametrize(
    "row, errors",
    [
        ({"status": "present", "minutes": None}, {}),
        ({"status": "partial", "minutes": 1}, {}),
        ({"status": "partial", "minutes": 60}, {}),
        ({"status": "partial", "minutes": None}, {"minutes"}),
        ({"status": "partial", "minutes": 0}, {"minutes"}),
        ({"status": "partial", "minutes": 61}, {"minutes"}),
        ({"status": "present", "minutes": 30}, {"minutes"}),
        ({"status": "absent", "minutes": 30}, {"minutes"}),
        ({"status": "excused", "minutes": None}, {"excuse_reason"}),
        ({"status": "excused", "minutes": None, "excuse_reason": "   "}, {"excuse_reason"}),
        ({"status": "excused", "minutes": None, "excuse_reason": "At court"}, {}),
        ({"status": "present", "minutes": None, "participation": "active"}, {}),
        ({"status": "partial", "minutes": 20, "participation": "disruptive"}, {}),
        ({"status": "absent", "minutes": None, "participation": "active"}, {"participation"}),
        ({"status": "present", "minutes": None, "participation": "loud"}, {"participation"}),
        ({"status": "asleep", "minutes": None}, {"status"}),
    ],
)
def test_row_rules(row, errors):
    assert set(groups.row_errors(length=60, **row)) == set(errors)


def test_a_partial_over_the_length_names_the_length():
    errors = groups.row_errors(status="partial", minutes=61, length=60)
    assert errors["minutes"] == "partial: minutes must be 1 to 60 (the group's length)."


@pytest.mark.parametrize(
    "instant, start, end, hours_long",
    [
        # An ordinary week: Monday 00:00 EST is 05:00 UTC.
        (datetime(2026, 1, 14, 15, 0, tzinfo=UTC), datetime(2026, 1, 12, 5, tzinfo=UTC),
         datetime(2026, 1, 19, 5, tzinfo=UTC), 168),
        # Sunday 23:30 local is still the week that began the Monday before.
        (datetime(2026, 1, 19, 4, 30, tzinfo=UTC), datetime(2026, 1, 12, 5, tzinfo=UTC),
         datetime(2026, 1, 19, 5, tzinfo=UTC), 168),
        # Monday 00:00 local exactly begins a new week.
        (datetime(2026, 1, 19, 5, 0, tzinfo=UTC), datetime(2026, 1, 19, 5, tzinfo=UTC),
         datetime(2026, 1, 26, 5, tzinfo=UTC), 168),
        # Spring forward (Sunday 8 March 2026): Monday 00:00 EST to Monday 00:00 EDT, 167 h.
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), datetime(2026, 3, 2, 5, tzinfo=UTC),
         datetime(2026, 3, 9, 4, tzinfo=UTC), 167),
        # Fall back (Sunday 1 November 2026): 169 h; 01:30 happens twice, both in this week.
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 10, 26, 4, tzinfo=UTC),
         datetime(2026, 11, 2, 5, tzinfo=UTC), 169),
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), datetime(2026, 10, 26, 4, tzinfo=UTC),
         datetime(2026, 11, 2, 5, tzinfo=UTC), 169),
    ],
)  # fmt: skip
def test_the_week_is_monday_to_monday_on_the_facility_clock(instant, start, end, hours_long):
    got_start, got_end = groups.week_bounds(instant, NY)
    assert (got_start, got_end) == (start, end)
    assert got_end - got_start == timedelta(hours=hours_long)
    assert got_start.astimezone(NY).strftime("%a %H:%M") == "Mon 00:00"
    assert got_end.astimezone(NY).strftime("%a %H:%M") == "Mon 00:00"
    assert got_start <= instant < got_end


def test_a_midnight_that_does_not_exist_starts_the_day_at_its_first_instant():
    # São Paulo moved its clocks from 00:00 to 01:00 on 4 November 2018: that day began at 01:00.
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    start = groups._midnight(datetime(2018, 11, 4, tzinfo=UTC).date(), sao_paulo)
    assert start == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert start.astimezone(sao_paulo).hour == 1


def test_a_session_across_the_dst_change_lasts_what_the_clock_says():
    # 01:00–03:00 EST/EDT on the spring-forward night is one real hour.
    starts = datetime(2026, 3, 8, 1, 0, tzinfo=NY)
    ends = datetime(2026, 3, 8, 3, 0, tzinfo=NY)
    assert groups.session_minutes(starts, ends) == 60
    assert groups.minutes_attended("present", None, groups.session_minutes(starts, ends)) == 60


@pytest.mark.parametrize(
    "rows, target, hours, text, percent, met",
    [
        ([], Decimal("15"), Decimal("0.0"), "0.0 of 15 h", 0, False),
        ([("process", "present", None, 60), ("skills", "partial", 30, 60)], Decimal("15"),
         Decimal("1.5"), "1.5 of 15 h", 10, False),
        # Recreation and 12-step are charted but do not count.
        ([("recreation", "present", None, 60), ("mutual_help", "present", None, 90),
          ("family", "present", None, 90)], Decimal("5"), Decimal("1.5"), "1.5 of 5 h", 30,
         False),
        ([("process", "present", None, 300)], Decimal("5"), Decimal("5.0"), "5.0 of 5 h", 100,
         True),
        ([("process", "present", None, 400)], Decimal("5"), Decimal("6.7"), "6.7 of 5 h", 100,
         True),
        ([("process", "absent", None, 60), ("process", "excused", None, 60)], Decimal("7.5"),
         Decimal("0.0"), "0.0 of 7.5 h", 0, False),
        ([("process", "present", None, 50)], None, Decimal("0.8"), "0.8 h, no target", None,
         False),
    ],
)  # fmt: skip
def test_progress_against_the_weekly_target(rows, target, hours, text, percent, met):
    p = groups.progress(rows, target)
    assert (p.hours, p.text, p.percent, p.met) == (hours, text, percent, met)


def test_remaining_hours():
    assert groups.progress([("process", "present", None, 90)], Decimal("5")).remaining_hours == (
        Decimal("3.5")
    )
    assert groups.progress([("process", "present", None, 400)], Decimal("5")).remaining_hours == (
        Decimal("0.0")
    )
