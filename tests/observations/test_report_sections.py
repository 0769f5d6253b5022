"""The observations app's sections of the shift report (issue 15): each line for an event in the
shift and none for one outside it, concern as facility/registry.py ReportItem says, and a fixed
number of queries whatever the census."""

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility.models import Bed
from facility.registry import ReportScope, registry
from facility.shift_report import build_shift_report
from observations.models import (
    GroupAttendance,
    GroupSession,
    GroupTopic,
    Incident,
    IncidentClient,
    RoundCode,
    SecurityArea,
    SecurityFinding,
)
from observations.services import RoundEntry, level_order, round_submit
from observations.services.behavior_notes import behavior_note_record
from observations.services.cssrs import cssrs_screen_record
from tests.conftest import admit
from tests.observations.vitals_data import vitals_set
from tests.observations.withdrawal_helpers import score, start

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)
HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}
NONE = {"q1": False, "q2": False, "q6": False}


def at(hour, minute=0, day=DAY):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def section(key):
    return next(s for s in registry.report_sections if s.key == key)


def scope_for(facility, start, end, now):
    roster = registry.report_roster(facility, None, start, end)
    return ReportScope(
        facility=facility, unit=None, start=start, end=end, now=now,
        admission_ids=tuple(c.admission_id for c in roster),
    )  # fmt: skip


def lines(key, scope, admission):
    return [f"{i.tag}: {i.text}" for i in section(key).clients(scope).get(admission.pk, [])]


def check(stay, user, when):
    facility = stay.facility
    round_submit(
        actor=user, facility=facility, submission_key=uuid.uuid4(), observed_at=when,
        entries=[RoundEntry(stay, RoundCode.objects.get(facility=facility, kind="location",
                                                        code="RM"),
                            RoundCode.objects.get(facility=facility, kind="status", code="A"))],
        now=when,
    )  # fmt: skip


def incident(stay, reporter, when, **fields):
    row = Incident.objects.create(
        facility=stay.facility, incident_type=fields.pop("incident_type", "fall"),
        occurred_at=when, reported_by=reporter, recorded_at=when, **fields,
    )  # fmt: skip
    IncidentClient.objects.create(incident=row, admission=stay, role="involved")
    return row


def group(stay, facilitator, when, status="present"):
    topic = GroupTopic.objects.filter(facility=stay.facility).first()
    session = GroupSession.objects.create(
        facility=stay.facility, topic=topic, group_type=topic.group_type, facilitator=facilitator,
        starts_at=when, ends_at=when + timedelta(hours=1), recorded_at=when,
        recorded_by=facilitator,
    )  # fmt: skip
    return GroupAttendance.objects.create(
        session=session, admission=stay, status=status, recorded_at=when, recorded_by=facilitator
    )


def admitted(cast, facility, **fields):
    """A stay admitted four days before the shift and screened (no risk) an hour later."""
    long_ago = at(6, 0, day=DAY - timedelta(days=4))
    with time_machine.travel(long_ago, tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=long_ago, **fields)
    screened = long_ago + timedelta(hours=1)
    cssrs_screen_record(actor=cast["nurse"], admission=stay, answers=NONE, reason="admission",
                        screened_at=screened, now=screened)  # fmt: skip
    return stay


def events(cast, stay, when, *, ciwa=(6, 9, 14)):
    """One of each event at `when` (a level raise, a check, a handoff note with a risk flag, a
    high C-SSRS, NEWS2 8, rising CIWA-Ar, an incident with injury, a group)."""
    nurse, tech = cast["nurse"], cast["technician"]
    level_order(actor=cast["clinician"], admission=stay, level="one_to_one",
                reason="Said he would hurt himself", now=when)  # fmt: skip
    behavior_note_record(actor=tech, admission=stay, observed_at=when, mood="anxious",
                         risk_flags=["suicidal"], narrative={"behavior": "Paced the hall"},
                         handoff=True, now=when)  # fmt: skip
    cssrs_screen_record(actor=nurse, admission=stay, answers=HIGH, reason="risk_flag",
                        screened_at=when, now=when)  # fmt: skip
    vitals_set(stay, when, nurse, rr=25, spo2=91, hr=130)
    start(nurse, stay, at=when - timedelta(minutes=1), now=when)
    for i, total in enumerate(ciwa):
        t = when + timedelta(minutes=10 * i)
        score(nurse, stay, total, at=t, now=t)
    incident(stay, nurse, when, severity="minor", injuries="Grazed knee")
    group(stay, cast["clinician"], when)


@pytest.fixture
def shift(facility):
    return facility.shift_bounds(DAY, "day")  # 07:00–15:00 New York


@pytest.fixture
def stays(cast, facility):
    inside = admitted(cast, facility, first="In", last="Shift")
    outside = admitted(cast, facility, first="Out", last="Side")
    events(cast, inside, at(10, 0))
    events(cast, outside, at(15, 20))  # the evening shift's
    return inside, outside


@pytest.mark.django_db
def test_each_line_for_an_event_in_the_shift_and_none_outside(cast, facility, shift, stays):
    inside, outside = stays
    scope = scope_for(facility, *shift, now=at(16, 0))
    level = lines("levels", scope, inside)
    assert "Level: 1:1 since 10:00 (no observer assigned)" in level
    assert any(t.startswith("Level change: q60 Routine → 1:1 at 10:00 by Clinician, LCSW: Said")
               for t in level)  # fmt: skip
    assert any(t.startswith("Missed checks: ") for t in level)
    notes = lines("notes", scope, inside)
    assert len(notes) == 1 and "Mood: Anxious" in notes[0] and "Paced the hall" in notes[0]
    risk = lines("risk", scope, inside)
    assert any(t.startswith("C-SSRS: C-SSRS high risk at 10:00") for t in risk)
    assert any(t.startswith("Risk flag: Suicidal thoughts (10:00") for t in risk)
    vitals = lines("vitals", scope, inside)
    assert vitals and vitals[0].startswith("NEWS2 8: 10:00 NEWS2 8 (high); Heart rate 130 bpm")
    assert lines("withdrawal", scope, inside) == [
        "CIWA-Ar 14: CIWA-Ar 10:00 6 → 10:10 9 → 10:20 14 (mild), rising"
    ]
    assert lines("incidents", scope, inside) == [
        "Incident: 10:00 Fall, minor, injury recorded, draft"
    ]
    assert lines("groups", scope, inside)[0].startswith("Group: Present: ")
    # The other stay's events were at 15:20: its only lines are its level and missed checks,
    # and the level still the routine one at the shift's end.
    for key in ("notes", "risk", "vitals", "withdrawal", "incidents", "groups"):
        assert lines(key, scope, outside) == [], key
    assert lines("levels", scope, outside)[0] == "Level: q60 Routine since 2026-05-11 06:00"
    # Concerns: the urgent ones are 3, the level 1, the group information.
    by_tag = {i.tag: i.concern for k in ("levels", "risk", "vitals", "incidents", "groups")
              for i in section(k).clients(scope)[inside.pk]}  # fmt: skip
    assert by_tag["C-SSRS"] == by_tag["NEWS2 8"] == by_tag["Incident"] == by_tag["Risk flag"] == 3
    assert by_tag["Level"] == by_tag["Level change"] == 1 and by_tag["Missed checks"] == 2
    assert by_tag["Group"] == 0
    assert section("withdrawal").clients(scope)[inside.pk][0].concern == 2


@pytest.mark.django_db
def test_concern_orders_the_report(cast, facility, shift, stays):
    inside, outside = stays
    calm = admitted(cast, facility, first="Calm", last="Client")
    # Calm was checked through the shift: nothing to hand off.
    for minute in range(0, 8 * 60, 60):
        check(calm, cast["technician"], at(7, 5) + timedelta(minutes=minute))
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(16, 0))
    names = [b.client.name for b in report.clients]
    assert names[0] == "In Shift"
    assert report.clients[0].concern == 3
    assert report.clients[-1].client.name == "Calm Client"
    assert report.clients[-1].concern == 0 and not report.clients[-1].expanded


@pytest.mark.django_db
def test_rounds_missed_and_late_follow_the_compliance_rules(cast, facility, shift):
    with time_machine.travel(at(6, 0), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0, day=DAY - timedelta(days=4)))
    for hour in (7, 8, 9, 11, 12, 13, 14):  # q60: the 10:00 block missed
        check(stay, cast["technician"], at(hour, 10))
    scope = scope_for(facility, *shift, now=at(16, 0))
    assert [t for t in lines("levels", scope, stay) if "checks" in t] == [
        "Missed checks: 1 missed: 10:00"
    ]
    # While the shift runs, only windows that have ended are judged.
    running = scope_for(facility, *shift, now=at(10, 30))
    assert [t for t in lines("levels", running, stay) if "checks" in t] == []


@pytest.mark.django_db
def test_a_dst_night_reports_its_nine_hours(cast, facility):
    start_, end = facility.shift_bounds(date(2026, 10, 31), "night")
    assert end - start_ == timedelta(hours=9)
    nurse = cast["nurse"]
    with time_machine.travel(datetime(2026, 10, 30, 6, 0, tzinfo=NY), tick=False):
        stay = admit(facility, nurse, admitted_at=datetime(2026, 10, 30, 6, 0, tzinfo=NY))
    # 01:30 EST, the second 01:30 after the change (on UTC: `+` on a local time drops `fold`).
    second_one_thirty = datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1).astimezone(UTC)
    vitals_set(stay, second_one_thirty, nurse, hr=130)
    vitals_set(stay, datetime(2026, 11, 1, 7, 10, tzinfo=NY), nurse, hr=135)  # day shift
    vitals_set(stay, datetime(2026, 10, 31, 22, 50, tzinfo=NY), nurse, hr=140)  # evening
    scope = scope_for(facility, start_, end, now=end + timedelta(hours=2))
    assert [t.split(";")[0] for t in lines("vitals", scope, stay)] == [
        "Vitals: 01:30 NEWS2 2 (low)"
    ]


@pytest.mark.django_db
def test_facility_lines_security_and_incidents_awaiting_review(cast, facility, shift):
    with time_machine.travel(at(6, 0), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0, day=DAY - timedelta(days=1)))
    area = SecurityArea.objects.filter(facility=facility).first()
    SecurityFinding.objects.create(facility=facility, area=area, found_at=at(9, 0),
                                   recorded_at=at(9, 5), recorded_by=cast["technician"],
                                   finding="Door propped", action_taken="Closed it")  # fmt: skip
    SecurityFinding.objects.create(facility=facility, area=area, found_at=at(16, 0),
                                   recorded_at=at(16, 5), recorded_by=cast["technician"],
                                   finding="Window open", action_taken="Shut")  # fmt: skip
    incident(stay, cast["nurse"], at(8, 0), status="submitted", severity="minor",
             description="Slipped", submitted_at=at(8, 30))  # fmt: skip
    scope = scope_for(facility, *shift, now=at(16, 0))
    security = [f"{i.tag}: {i.text}" for i in section("security").facility(scope)]
    assert "Security round: Round 07:00–15:00 not recorded" in security
    assert any("Door propped; action: Closed it" in t for t in security)
    assert not any("Window open" in t for t in security)
    review = [f"{i.tag}: {i.text}" for i in section("incidents").facility(scope)]
    assert review == ["Awaiting review: Fall of 2026-05-12 08:00, submitted 6 h ago"]


def _queries(facility, shift):
    scope = scope_for(facility, *shift, now=at(16, 0))
    counts = {}
    for s in registry.report_sections:
        for part in ("clients", "facility"):
            fn = getattr(s, part)
            if fn is None or s.key == "census":
                continue
            with CaptureQueriesContext(connection) as q:
                fn(scope)
            counts[f"{s.key}.{part}"] = len(q)
    return len(scope.admission_ids), counts


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_census(cast, facility, shift):
    beds = list(Bed.objects.filter(unit__facility=facility).order_by("unit__name", "label"))

    def fill(some):
        # n names the client and dates their birth: bed ids can be large in a long run.
        made = [admitted(cast, facility, n=b.pk % 5000, bed=b) for b in some]
        for i, stay in enumerate(made):
            events(cast, stay, at(9, i), ciwa=(4, 12))
            check(stay, cast["technician"], at(8, 10))

    fill(beds[:3])
    three = _queries(facility, shift)
    fill(beds[3:])
    twelve = _queries(facility, shift)
    assert (three[0], twelve[0]) == (3, 12)
    mine = {k for k in three[1] if k.split(".")[0] in {"levels", "security", "notes", "risk",
                                                       "vitals", "withdrawal", "incidents",
                                                       "groups"}}  # fmt: skip
    assert len(mine) == 9
    assert {k: three[1][k] for k in mine} == {k: twelve[1][k] for k in mine}
