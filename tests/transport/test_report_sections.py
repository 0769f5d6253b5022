"""Transport's section of the shift report (issue 15): each trip of the shift with its times,
lateness (transport.rules.trip_status) and head counts; each client's trip, a warning when they
are not signed back in; nothing from another shift (a DST night included); fixed queries."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility.registry import ReportScope, registry
from tests.conftest import admit
from tests.medications.conftest import at
from tests.transport.fleet_helpers import passed_inspection
from tests.transport.test_trips import back, depart, fleet, plan

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)


def section():
    return next(s for s in registry.report_sections if s.key == "transport")


def scope(facility, admissions, *, day=DAY, shift="day", now=None, unit=None):
    start, end = facility.shift_bounds(day, shift)
    return ReportScope(
        facility=facility, unit=unit, start=start, end=end, now=now or end + timedelta(hours=3),
        admission_ids=tuple(a.pk for a in admissions),
    )  # fmt: skip


def clients(cast, facility, n, *, when=None, first=0):
    """`n` stays admitted five minutes before `when` (default 04:00 on the report's day)."""
    when = when or at(4)
    nurse = cast["nurse"]
    with time_machine.travel(when, tick=False):
        return [
            admit(facility, nurse, admitted_at=when - timedelta(minutes=5), n=k + 300)
            for k in range(first, first + n)
        ]


def trip(cast, facility, riders, out, back_at, *, van, driver, planned=None, **kw):
    """A trip planned an hour before `out`, leaving at `out`; back at `back_at` unless None."""
    with time_machine.travel(out - timedelta(hours=1), tick=False):
        made = plan(cast, facility, riders, van=van, driver=driver, planned_departure=out,
                    planned_return=planned or out + timedelta(hours=1))  # fmt: skip
    made.vehicle.refresh_from_db()  # the odometer the last trip left
    with time_machine.travel(out, tick=False):
        depart(cast, made, **kw)
    if back_at is not None:
        with time_machine.travel(back_at, tick=False):
            back(cast, made)
    made.refresh_from_db()
    return made


def test_each_trip_of_the_shift_and_each_clients_trip_show_with_their_concern(cast, facility):
    one, two, three = clients(cast, facility, 3)
    with time_machine.travel(at(4, 30), tick=False):
        van, driver = fleet(cast, facility)
    # The night's trip, back at 06:40; the day's first, back on time; the second back late; the
    # third left with a head count of 3 for 2 clients and is not back by the end of the shift.
    trip(cast, facility, [one], at(5, 40), at(6, 40), van=van, driver=driver)
    with time_machine.travel(at(7), tick=False):
        passed_inspection(van, cast["technician"])
    trip(cast, facility, [one, two], at(8), at(8, 50), van=van, driver=driver)
    trip(cast, facility, [three], at(9, 30), at(10, 55), van=van, driver=driver)
    last = trip(cast, facility, [one, two], at(12), None, van=van, driver=driver, head_count=3)
    who = cast["technician"].full_name

    facility_lines = section().facility(scope(facility, [one, two, three], now=at(15, 30)))
    assert [(i.tag, i.concern, i.text) for i in facility_lines] == [
        ("Trip", 0, f"Medical or dental appointment trip in Van 1, driven by {who}: out 08:00, "
         "back 08:50; 2 client(s)"),
        ("Trip back late", 1, f"Medical or dental appointment trip in Van 1, driven by {who}: "
         "out 09:30, back 10:55 (25 min after the planned 10:30); 1 client(s)"),
        ("Head count", 3, f"Medical or dental appointment trip in Van 1, driven by {who}: "
         "out 12:00, due back 13:00; not back, critically overdue; 2 client(s); head count out "
         "3, 2 signed out"),
    ]  # fmt: skip
    assert facility_lines[2].href.endswith(f"/transport/trips/{last.public_id}/")

    got = section().clients(scope(facility, [one, two, three], now=at(15, 30)))
    assert [(i.tag, i.concern, i.text) for i in got[one.pk]] == [
        ("Trip", 0, "Medical or dental appointment trip in Van 1: signed out 08:00, signed back "
         "in 08:50"),
        ("Not back", 2, "Medical or dental appointment trip in Van 1: signed out 12:00; not "
         "signed back in (due back 13:00)"),
    ]  # fmt: skip
    assert [i.concern for i in got[three.pk]] == [0]
    # While it was out on time, at 12:30: worth handing off, not yet a warning.
    early = section().clients(scope(facility, [two], now=at(12, 30)))[two.pk]
    assert [(i.tag, i.concern) for i in early] == [("Trip", 0), ("On a trip", 1)]
    assert early[1].text.endswith("out, due back 13:00")
    early_trips = section().facility(scope(facility, [], now=at(12, 30)))
    assert early_trips[-1].text.endswith("; still out; 2 client(s); head count out 3, 2 signed out")

    # The night shows its own trip only; the evening sees the one still out.
    night = section().facility(scope(facility, [], day=DAY - timedelta(days=1), shift="night"))
    assert [i.text.split(": ")[1] for i in night] == ["out 05:40, back 06:40; 1 client(s)"]
    evening = section().facility(scope(facility, [], shift="evening", now=at(16)))
    assert [i.at for i in evening] == [at(12)]


def test_a_client_left_behind_at_the_return_is_a_head_count_line_and_a_warning(cast, facility):
    one, two = clients(cast, facility, 2)
    with time_machine.travel(at(7, 30), tick=False):
        van, driver = fleet(cast, facility)
    with time_machine.travel(at(8), tick=False):
        made = plan(cast, facility, [one, two], van=van, driver=driver,
                    planned_departure=at(9), planned_return=at(11))  # fmt: skip
    with time_machine.travel(at(9), tick=False):
        depart(cast, made)
    made.vehicle.refresh_from_db()
    with time_machine.travel(at(10, 45), tick=False):
        back(cast, made, [one], head_count=1)
    (line,) = section().facility(scope(facility, [one, two], now=at(14)))
    assert (line.tag, line.concern) == ("Head count", 3)
    assert line.text.endswith("head count in 1, 1 of 2 signed in")
    # A unit's report holds the trips carrying its clients only.
    assert len(section().facility(scope(facility, [one], now=at(14), unit=one.unit))) == 1
    other = facility.units.exclude(pk=one.unit_id).first()
    assert section().facility(scope(facility, [], now=at(14), unit=other)) == []
    got = section().clients(scope(facility, [one, two], now=at(14)))
    assert [i.concern for i in got[one.pk]] == [0]
    assert [(i.tag, i.concern) for i in got[two.pk]] == [("Not back", 2)]
    assert got[two.pk][0].text.endswith("not signed back in (the trip returned 10:45)")


def test_a_dst_night_holds_its_seven_hours_only(cast, facility):
    evening = datetime(2026, 3, 7, 20, 0, tzinfo=NY)
    (one,) = clients(cast, facility, 1, when=evening)
    with time_machine.travel(datetime(2026, 3, 8, 5, 0, tzinfo=NY), tick=False):
        van, driver = fleet(cast, facility)
    trip(cast, facility, [one], datetime(2026, 3, 8, 6, 0, tzinfo=NY),
         datetime(2026, 3, 8, 6, 50, tzinfo=NY), van=van, driver=driver)  # fmt: skip
    # 07:10 EDT is 7 h 10 min after the night began: an 8-hour night would hold this trip too.
    trip(cast, facility, [one], datetime(2026, 3, 8, 7, 10, tzinfo=NY),
         datetime(2026, 3, 8, 7, 40, tzinfo=NY), van=van, driver=driver)  # fmt: skip
    night = scope(facility, [one], day=date(2026, 3, 7), shift="night")
    day = scope(facility, [one], day=date(2026, 3, 8))
    assert [i.text.split(": ")[1] for i in section().facility(night)] == [
        "out 06:00, back 06:50; 1 client(s)"
    ]
    assert [i.text.split(": ")[1] for i in section().facility(day)] == [
        "out 07:10, back 07:40; 1 client(s)"
    ]
    assert [i.text.split(": ")[1] for i in section().clients(night)[one.pk]] == [
        "signed out 06:00, signed back in 06:50"
    ]
    assert len(section().clients(day)[one.pk]) == 1


def test_the_section_reads_a_fixed_number_of_queries_whatever_the_census(cast, facility):
    with time_machine.travel(at(6, 30), tick=False):
        van, driver = fleet(cast, facility)

    def measure(admissions):
        s = scope(facility, admissions, now=at(15, 30))
        with CaptureQueriesContext(connection) as ctx:
            found = section().clients(s)
            trips = section().facility(s)
        assert all(len(found[a.pk]) == 1 for a in admissions)
        return len(ctx.captured_queries), len(trips)

    first = clients(cast, facility, 3)
    trip(cast, facility, first, at(8), at(8, 45), van=van, driver=driver)
    small = measure(first)
    rest = clients(cast, facility, 9, first=3)
    for k in range(3):
        riders = rest[3 * k : 3 * k + 3]
        trip(cast, facility, riders, at(9 + k), at(9 + k, 45), van=van, driver=driver)
    large = measure(first + rest)
    assert (small[1], large[1]) == (1, 4)
    assert small[0] == large[0] <= 3
