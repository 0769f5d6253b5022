"""The clients app's part of the shift report (issue 15): the roster (who is on which unit's
report, where, in or out) and the census lines, each for an event in the shift and not for one
outside it, in a fixed number of queries whatever the census."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.services import (
    admission_discharge,
    admission_move_bed,
    leave_return,
    leave_start,
    outing_restriction_lift,
    outing_restriction_set,
)
from facility.models import Bed, Unit
from facility.registry import ReportScope, registry
from facility.shift_report import build_shift_report
from tests.conftest import admit

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)


def at(hour, minute=0, day=DAY):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def census():
    return next(s for s in registry.report_sections if s.key == "census")


def scope_for(facility, start, end, now, unit=None):
    roster = registry.report_roster(facility, unit, start, end)
    return roster, ReportScope(
        facility=facility, unit=unit, start=start, end=end, now=now,
        admission_ids=tuple(c.admission_id for c in roster),
    )  # fmt: skip


def texts(items):
    return [f"{i.tag}: {i.text}" for i in items]


def bed(facility, label):
    return Bed.objects.get(unit__facility=facility, label=label)


@pytest.fixture
def shift(facility):
    return facility.shift_bounds(DAY, "day")  # 07:00–15:00 New York


@pytest.fixture
def ward(cast, facility):
    """A day shift's stays: one there all along who goes on pass (back late), one on pass still
    out and overdue, one admitted in the shift, one discharged AMA in it, one moved East → West
    in it; and stays that end before or begin after the shift."""
    nurse = cast["nurse"]
    with time_machine.travel(at(16, 30), tick=False):
        stays = {
            "steady": admit(facility, nurse, first="Sam", last="Steady", bed=bed(facility, "E01"),
                            admitted_at=at(9, day=DAY - timedelta(days=2))),
            "away": admit(facility, nurse, first="Avery", last="Away", bed=bed(facility, "E02"),
                          admitted_at=at(9, day=DAY - timedelta(days=2))),
            "new": admit(facility, nurse, first="Nia", last="New", bed=bed(facility, "E03"),
                         admitted_at=at(10, 5)),
            "gone": admit(facility, nurse, first="Gus", last="Gone", bed=bed(facility, "E04"),
                          admitted_at=at(9, day=DAY - timedelta(days=1))),
            "mover": admit(facility, nurse, first="Mo", last="Mover", bed=bed(facility, "E05"),
                           admitted_at=at(9, day=DAY - timedelta(days=1))),
            "before": admit(facility, nurse, first="Bea", last="Before", bed=bed(facility, "W01"),
                            admitted_at=at(9, day=DAY - timedelta(days=1))),
            "after": admit(facility, nurse, first="Al", last="After", bed=bed(facility, "W02"),
                           admitted_at=at(15, 10)),
        }  # fmt: skip
        admission_discharge(actor=nurse, admission=stays["before"], discharged_at=at(6, 30),
                            discharge_type="completed")  # fmt: skip
        admission_discharge(actor=nurse, admission=stays["gone"], discharged_at=at(11, 40),
                            discharge_type="ama")  # fmt: skip
        admission_move_bed(actor=nurse, admission=stays["mover"], bed=bed(facility, "W03"),
                           moved_at=at(12, 0), reason="Quieter room")  # fmt: skip
        why = "Entered after the fact"
        trip = leave_start(actor=nurse, admission=stays["steady"], kind="appointment",
                           left_at=at(8, 0), expected_back_at=at(9, 0), destination="Dentist",
                           backdate_reason=why)  # fmt: skip
        leave_return(actor=nurse, leave=trip, returned_at=at(9, 40))
        leave_start(actor=nurse, admission=stays["away"], kind="pass", left_at=at(13, 0),
                    expected_back_at=at(14, 0), backdate_reason=why)  # fmt: skip
        # Outside the shift: a pass the evening before, and a restriction set after the shift.
        evening = leave_start(actor=nurse, admission=stays["new"], kind="pass",
                              left_at=at(15, 5), expected_back_at=at(15, 50),
                              backdate_reason=why)  # fmt: skip
        leave_return(actor=nurse, leave=evening, returned_at=at(15, 40))
    with time_machine.travel(at(10, 30), tick=False):
        outing_restriction_set(actor=nurse, admission=stays["steady"], reason="Cravings")
    with time_machine.travel(at(14, 0), tick=False):
        outing_restriction_lift(actor=nurse, admission=stays["steady"], reason="Settled")
    with time_machine.travel(at(15, 30), tick=False):
        outing_restriction_set(actor=nurse, admission=stays["new"], reason="Family conflict")
    return stays


@pytest.mark.django_db
def test_the_roster_is_every_stay_open_in_the_shift_with_where_and_whether_in(
    facility, shift, ward
):
    start, end = shift
    roster = {c.name: c for c in registry.report_roster(facility, None, start, end, now=end)}
    assert set(roster) == {"Sam Steady", "Avery Away", "Nia New", "Gus Gone", "Mo Mover"}
    assert roster["Sam Steady"].present == ""  # back in the shift
    assert roster["Avery Away"].present == "Off site: pass, expected back 14:00 (overdue)"
    # "(overdue)" is judged at the report's moment, not the clock: at 14:05 not yet.
    early = {c.name: c for c in registry.report_roster(facility, None, start, end, now=at(14, 5))}
    assert early["Avery Away"].present == "Off site: pass, expected back 14:00"
    assert roster["Gus Gone"].present == "Discharged 11:40"
    assert (roster["Nia New"].unit, roster["Nia New"].bed) == ("East", "E03")
    assert roster["Nia New"].mrn == ward["new"].client.mrn
    # Moved East → West at 12:00: on West's report only, in its bed at the shift's end.
    assert (roster["Mo Mover"].unit, roster["Mo Mover"].bed) == ("West", "W03")
    east = Unit.objects.get(facility=facility, name="East")
    west = Unit.objects.get(facility=facility, name="West")
    on_east = {c.name for c in registry.report_roster(facility, east, start, end)}
    on_west = {c.name for c in registry.report_roster(facility, west, start, end)}
    assert "Mo Mover" in on_west and "Mo Mover" not in on_east
    assert on_east == {"Sam Steady", "Avery Away", "Nia New", "Gus Gone"}
    # The night after the move has Mo on West; the night before it, on East.
    night_after = facility.shift_bounds(DAY, "night")
    assert "Mo Mover" in {c.name for c in registry.report_roster(facility, west, *night_after)}
    night_before = facility.shift_bounds(DAY - timedelta(days=1), "night")
    assert "Mo Mover" in {c.name for c in registry.report_roster(facility, east, *night_before)}


@pytest.mark.django_db
def test_census_lines_in_the_shift_and_not_outside_it(facility, shift, ward):
    start, end = shift
    roster, scope = scope_for(facility, start, end, now=at(16, 30))
    ids = {c.name: c.admission_id for c in roster}
    lines = {k: texts(v) for k, v in census().clients(scope).items()}
    steady = lines[ids["Sam Steady"]]
    assert "Leave: Left 08:00: appointment to Dentist, expected back 09:00" in steady
    assert "Back: Back 09:40 from appointment, 40 min after the expected 09:00" in steady
    assert any(t.startswith("Outing restriction: No outings from 10:30: Cravings") for t in steady)
    assert any(t.startswith("Outing restriction: Outing restriction lifted 14:00: Settled")
               for t in steady)  # fmt: skip
    assert "Overdue return: not back from pass: expected 14:00, 60 min late: absent without " \
        "leave?" in lines[ids["Avery Away"]]  # fmt: skip
    assert "Admission: Admitted 10:05 (3.5 High-intensity residential)" in lines[ids["Nia New"]]
    # Nia's evening pass and restriction were after the shift.
    assert not any("pass" in t or "Family" in t for t in lines[ids["Nia New"]])
    assert "Discharge: Discharged 11:40: Left against medical advice" in lines[ids["Gus Gone"]]
    assert "Bed move: Moved E05 → W03 (Quieter room)" in lines[ids["Mo Mover"]]
    concern = {i.tag: i.concern for i in census().clients(scope)[ids["Avery Away"]]}
    assert concern["Overdue return"] == 3  # an hour late: the AWOL alert is critical

    facility_lines = texts(census().facility(scope))
    # At 15:00: Sam, Avery (off site, still a bed), Nia, Mo; of 12 beds.
    assert facility_lines[0] == "Beds: 4 of 12 beds occupied at 15:00"
    new_mrn, gone_mrn = ward["new"].client.mrn, ward["gone"].client.mrn
    assert f"Admission: Nia New ({new_mrn}) admitted 10:05" in facility_lines
    assert (
        f"Discharge: Gus Gone ({gone_mrn}) discharged 11:40: Left against medical advice"
        in facility_lines
    )
    assert "Bed move: Mo Mover: East E05 → West W03" in facility_lines
    assert "Off site: Avery Away: pass, expected back 14:00" in facility_lines
    assert "Overdue return: Avery Away not back from pass: expected 14:00, 60 min late: " \
        "absent without leave?" in facility_lines  # fmt: skip
    assert not any("Bea Before" in t or "Al After" in t for t in facility_lines)


@pytest.mark.django_db
def test_a_running_shift_counts_overdue_and_beds_at_now(facility, shift, ward):
    start, end = shift
    roster, scope = scope_for(facility, start, end, now=at(14, 10))
    lines = texts(census().facility(scope))
    assert lines[0] == "Beds: 4 of 12 beds occupied at 14:10"
    assert "Off site: Avery Away: pass, expected back 14:00" in lines
    assert not any(t.startswith("Overdue return") for t in lines)  # 10 min: not yet


@pytest.mark.django_db
def test_a_dst_night_holds_events_of_its_nine_hours(cast, facility):
    """The night of 31 Oct 2026 (clocks back at 02:00) runs 23:00 EDT → 07:00 EST, 9 hours."""
    start, end = facility.shift_bounds(date(2026, 10, 31), "night")
    assert end - start == timedelta(hours=9)
    nurse = cast["nurse"]
    inside = datetime(2026, 11, 1, 6, 50, tzinfo=NY)
    outside = datetime(2026, 11, 1, 7, 10, tzinfo=NY)
    with time_machine.travel(outside + timedelta(hours=1), tick=False):
        admit(facility, nurse, first="In", last="Night", admitted_at=inside)
        admit(facility, nurse, first="Out", last="Morning", admitted_at=outside)
    roster, scope = scope_for(facility, start, end, now=outside + timedelta(hours=1))
    assert [c.name for c in roster] == ["In Night"]
    assert texts(census().clients(scope)[roster[0].admission_id]) == [
        "Admission: Admitted 06:50 (3.5 High-intensity residential)"
    ]


def _fill(cast, facility, beds):
    """A stay in each bed, each with a leave out and back, a restriction set in the shift, and
    every other one discharged in it."""
    nurse = cast["nurse"]
    with time_machine.travel(at(16, 30), tick=False):
        stays = [
            admit(
                facility,
                nurse,
                n=bed.pk % 5000,
                bed=bed,
                admitted_at=at(9, day=DAY - timedelta(days=1)),
            )
            for bed in beds
        ]
        for stay in stays:
            out = leave_start(actor=nurse, admission=stay, kind="pass", left_at=at(8, 0),
                              expected_back_at=at(9, 0), backdate_reason="late entry")  # fmt: skip
            leave_return(actor=nurse, leave=out, returned_at=at(9, 30))
    with time_machine.travel(at(10, 0), tick=False):
        for stay in stays:
            outing_restriction_set(actor=nurse, admission=stay, reason="Cravings")
    with time_machine.travel(at(16, 30), tick=False):
        for stay in stays[1::2]:
            admission_discharge(actor=nurse, admission=stay, discharged_at=at(12, 0),
                                discharge_type="transfer")  # fmt: skip


def _queries(facility, shift, unit=None):
    start, end = shift
    with CaptureQueriesContext(connection) as roster_q:
        roster, scope = scope_for(facility, start, end, now=at(16, 30), unit=unit)
    with CaptureQueriesContext(connection) as clients_q:
        lines = census().clients(scope)
    with CaptureQueriesContext(connection) as facility_q:
        census().facility(scope)
    return len(roster), len(lines), (len(roster_q), len(clients_q), len(facility_q))


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_census(cast, facility, shift):
    """3 stays, then 12: the same number of queries for the roster and each part."""
    beds = list(Bed.objects.filter(unit__facility=facility).order_by("unit__name", "label"))
    east = Unit.objects.get(facility=facility, name="East")
    _fill(cast, facility, beds[:3])
    three, three_east = _queries(facility, shift), _queries(facility, shift, east)
    _fill(cast, facility, beds[3:])
    twelve, twelve_east = _queries(facility, shift), _queries(facility, shift, east)
    assert (three[:2], twelve[:2]) == ((3, 3), (12, 12))
    assert three[2] == twelve[2]
    assert (three_east[0], twelve_east[0]) == (3, 6)
    assert three_east[2] == twelve_east[2]


@pytest.mark.django_db
def test_the_report_expands_the_overdue_client_first(facility, ward):
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(16, 30))
    assert report.clients[0].client.name == "Avery Away"
    assert report.clients[0].concern == 3
    facility_titles = [title for title, _ in report.facility_sections]
    assert "Census" in facility_titles
