""" "My work" (issue 17 item 1): the observations app's sections. Each lists what the app's own
pages call owed, links to the page where it is done, is shown only to the roles who do it, never
lists another facility's clients, and drops (or moves on) what is done. The home page's query
count does not grow with the census."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.forms import free_beds
from facility.models import Unit
from facility.registry import registry
from observations.models import GroupTopic, LevelOrder, RoundCode
from observations.services import (
    RoundEntry,
    handoff_offer,
    level_confirm,
    level_order,
    round_submit,
    vitals_record,
)
from observations.services.cssrs import cssrs_safety_plan_record, cssrs_screen_record
from observations.services.groups import (
    AttendanceRow,
    group_attendance_document,
    group_session_create,
)
from observations.services.incidents import (
    IncidentFields,
    incident_open,
    incident_review,
    incident_submit,
)
from observations.services.progress_notes import (
    progress_note_cosign,
    progress_note_sign,
    progress_note_start,
)
from observations.worklist import _block_end
from tests.conftest import admit
from tests.my_work_page import home, hrefs, rows, section
from tests.observations.withdrawal_helpers import score, start

NY = ZoneInfo("America/New_York")
# A Wednesday morning in May (no DST change near): 10:07 on the facility's clock.
WEDNESDAY = datetime(2026, 5, 13, 10, 7, tzinfo=NY)
LONG_AGO = WEDNESDAY - timedelta(days=5)  # past the admission's q15: on q60 by default
HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}
MODERATE = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}
NONE = {"q1": False, "q2": False, "q6": False}
NORMAL_VITALS = {"sbp": 120, "dbp": 78, "hr": 72, "rr": 16, "temp": "36.8", "spo2": 98,
                 "on_oxygen": False}  # fmt: skip

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        yield traveller


def at(clock, hour, minute):
    clock.move_to(WEDNESDAY.replace(hour=hour, minute=minute))


def on(facility, unit_name, cast, last, **fields):
    """A client admitted five days ago to the first free bed of the unit."""
    bed = free_beds(facility).filter(unit__name=unit_name).first()
    who = cast["nurse"] if facility.name == "Alder House" else cast["other_nurse"]
    return admit(facility, who, bed=bed, first="Kit", last=last, admitted_at=LONG_AGO, **fields)


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def chart_round(user, facility, stays):
    round_submit(
        actor=user,
        facility=facility,
        submission_key=uuid.uuid4(),
        entries=[
            RoundEntry(s, code(facility, "location", "RM"), code(facility, "status", "A"))
            for s in stays
        ],
    )


# ---------------------------------------------------------------- rounds on each unit


def test_each_unit_says_who_is_missed_or_due_and_shows_done_once_charted(
    client, cast, facility, other_facility, clock
):
    east = [on(facility, "East", cast, f"Eastman{n}") for n in range(2)]
    west = on(facility, "West", cast, "Westwood")
    watched = on(facility, "East", cast, "Sightline")
    level_order(actor=cast["clinician"], admission=watched, level="los", reason="Agitated")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    at(clock, 9, 30)
    chart_round(cast["technician"], facility, east)
    chart_round(cast["other_technician"], other_facility, [elsewhere])
    at(clock, 10, 7)

    board = {
        name: reverse(
            "observations:board", args=[Unit.objects.get(facility=facility, name=name).public_id]
        )
        for name in ("East", "West")
    }
    mine = section(home(client, cast["technician"]), "rounds_on_units")
    # West's client was never checked since the default level began: missed, listed first.
    # East: two due by the end of the hour's block; the client on line of sight is charted by
    # their observer on My 1:1, not on the round.
    assert rows(mine) == ["West 1 missed", "East 2 due by 11:00"]
    assert hrefs(mine) == [board["West"], board["East"]]
    assert 'class="work-item work-alert"' in mine and 'class="work-item work-due"' in mine

    at(clock, 10, 12)
    chart_round(cast["technician"], facility, [*east, west])
    mine = section(home(client, cast["technician"]), "rounds_on_units")
    assert rows(mine) == [
        "East all 2 seen; next round from 11:00",
        "West all 1 seen; next round from 11:00",
    ]
    assert "work-alert" not in mine and "work-due" not in mine

    # The other facility's units share the names, never the links.
    other_boards = [
        reverse("observations:board", args=[u.public_id])
        for u in Unit.objects.filter(facility=other_facility)
    ]
    assert not set(other_boards) & set(hrefs(mine))
    for role in ("nurse", "clinician", "supervisor"):
        assert section(home(client, cast[role]), "rounds_on_units") == "", role


# ---------------------------------------------------------------- My 1:1


def test_my_one_to_one_lists_my_watches_and_offers_and_the_next_entry_moves_once_seen(
    client, cast, facility, other_facility, clock
):
    held = on(facility, "East", cast, "Heldclose")
    offered = on(facility, "West", cast, "Offeredwatch")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    at(clock, 9, 50)
    level_order(actor=cast["clinician"], admission=held, level="los", reason="Risk")
    handoff_offer(actor=cast["technician"], admission=held, to_observer=cast["technician"])
    level_order(actor=cast["clinician"], admission=offered, level="los", reason="Agitated")
    handoff_offer(actor=cast["nurse"], admission=offered, to_observer=cast["technician"])
    level_order(actor=cast["other_clinician"], admission=elsewhere, level="one_to_one", reason="R")
    handoff_offer(
        actor=cast["other_technician"], admission=elsewhere, to_observer=cast["other_technician"]
    )
    at(clock, 10, 7)

    mine = section(home(client, cast["technician"]), "my_one_to_one")
    # The first entry was owed 15 minutes after the level began: overdue, listed first.
    assert rows(mine) == [
        f"Kit Heldclose · Line of sight · East {held.bed.label} entry overdue since 10:05",
        f"Kit Offeredwatch · Line of sight · bed {offered.bed.label} "
        "offered to you by Nurse: accept 09:50",
    ]
    assert hrefs(mine) == [reverse("observations:my_observation")] * 2
    assert "Birchfield" not in mine

    at(clock, 10, 8)
    chart_round(cast["technician"], facility, [held])
    mine = section(home(client, cast["technician"]), "my_one_to_one")
    assert (
        rows(mine)[1]
        == f"Kit Heldclose · Line of sight · East {held.bed.label} seen; next entry by 10:30"
    )
    assert "work-alert" not in mine

    # The nurse observes no one; the clinician and the supervisor have no such section.
    nurse = section(home(client, cast["nurse"]), "my_one_to_one")
    assert "You observe no one now" in nurse and not rows(nurse)
    for role in ("clinician", "supervisor"):
        assert section(home(client, cast[role]), "my_one_to_one") == "", role


# ---------------------------------------------------------------- vitals and withdrawal


def test_vitals_and_withdrawal_scores_due_lead_to_their_forms_and_leave_once_charted(
    client, cast, facility, other_facility, clock
):
    due = on(facility, "East", cast, "Vitalsdue")
    fine = on(facility, "East", cast, "Vitalsfine")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    at(clock, 9, 0)
    vitals_record(
        actor=cast["technician"], admission=fine, taken_at=timezone.now(), values=NORMAL_VITALS
    )
    at(clock, 10, 7)
    start(cast["nurse"], due)
    start(cast["other_nurse"], elsewhere)

    for role in ("technician", "nurse"):
        vitals = section(home(client, cast[role]), "vitals_due")
        # Never taken since admission five days ago, on the daily default: overdue.
        (row,) = rows(vitals)
        assert row.startswith(f"Kit Vitalsdue · East {due.bed.label} vitals overdue since"), role
        assert hrefs(vitals) == [reverse("observations:vitals_record", args=[due.public_id])]
        assert "Birchfield" not in vitals

    page = home(client, cast["nurse"])
    scores = section(page, "withdrawal_due")
    assert rows(scores) == [
        f"Kit Vitalsdue · East {due.bed.label} CIWA-Ar first score due since 10:02"
    ]
    assert hrefs(scores) == [
        reverse("observations:withdrawal_score", args=[due.public_id, "ciwa_ar"])
    ]
    # Technicians do not score withdrawal; clinicians have no vitals or scores sections.
    assert section(home(client, cast["technician"]), "withdrawal_due") == ""
    clinician = home(client, cast["clinician"])
    assert section(clinician, "withdrawal_due") == section(clinician, "vitals_due") == ""

    at(clock, 10, 9)
    vitals_record(
        actor=cast["technician"], admission=due, taken_at=timezone.now(), values=NORMAL_VITALS
    )
    score(cast["nurse"], due, 3)
    page = home(client, cast["nurse"])
    assert not rows(section(page, "vitals_due")) and not rows(section(page, "withdrawal_due"))
    assert "vitals are due now." in section(page, "vitals_due")


# ---------------------------------------------------------------- groups today


def test_groups_of_today_not_yet_documented_lead_to_their_attendance_page(
    client, cast, facility, other_facility, clock
):
    stay = on(facility, "East", cast, "Groupie")
    east = Unit.objects.get(facility=facility, name="East")

    def group(hour, minute=0, *, unit=None, days_back=0, where=facility, who="technician"):
        begins = WEDNESDAY.replace(hour=hour, minute=minute) - timedelta(days=days_back)
        return group_session_create(
            actor=cast[who], facility=where, facilitator=cast[who],
            topic=GroupTopic.objects.get(facility=where, title="Process group"),
            starts_at=begins, ends_at=begins + timedelta(hours=1), unit=unit, location="Group room",
        )  # fmt: skip

    ended = group(8, unit=east)
    running = group(9, 45)
    later = group(15)
    group(8, days_back=1)  # yesterday's: not today's list
    group(9, 30, where=other_facility, who="other_technician")

    groups = section(home(client, cast["technician"]), "groups_today")
    assert rows(groups) == [
        "Process group · East ended, attendance owed 09:00",
        "Process group · whole facility running: attendance 09:45",
        "Process group · whole facility starts 15:00",
    ]
    assert hrefs(groups) == [
        reverse("observations:group_attendance", args=[s.public_id])
        for s in (ended, running, later)
    ]
    assert section(home(client, cast["nurse"]), "groups_today") == ""

    group_attendance_document(
        actor=cast["technician"],
        session=ended,
        rows=[AttendanceRow(admission=stay, status="present")],
    )
    groups = section(home(client, cast["technician"]), "groups_today")
    assert [r.split(" ")[3] for r in rows(groups)] == ["whole", "whole"]


# ---------------------------------------------------------------- C-SSRS owed


def test_a_screen_owed_leads_to_the_screen_form_until_it_is_done(
    client, cast, facility, other_facility, clock
):
    old = on(facility, "East", cast, "Oldtimer")
    new = admit(
        facility,
        cast["nurse"],
        first="Kit",
        last="Newcomer",
        admitted_at=timezone.now() - timedelta(hours=1),
    )
    on(other_facility, "East", cast, "Birchfield")

    for role in ("technician", "nurse"):
        owed = section(home(client, cast[role]), "cssrs_owed")
        found = rows(owed)
        assert len(found) == 2 and "Birchfield" not in owed, role
        # The one overdue first, then the new admission's, due four hours after admission.
        assert found[0].startswith("Kit Oldtimer") and "At admission: overdue since" in found[0]
        assert found[1].endswith("At admission: due by 13:07") and "Newcomer" in found[1]
        assert hrefs(owed) == [
            reverse("observations:cssrs_screen", args=[a.public_id]) for a in (old, new)
        ]
    assert section(home(client, cast["clinician"]), "cssrs_owed") == ""

    cssrs_screen_record(actor=cast["technician"], admission=old, answers=NONE, reason="admission")
    assert [
        h.split("/")[-3] for h in hrefs(section(home(client, cast["nurse"]), "cssrs_owed"))
    ] == [str(new.public_id)]


# ---------------------------------------------------------------- levels awaiting an order


def test_a_nurse_raise_waits_on_the_nurse_and_the_clinician_until_it_is_confirmed(
    client, cast, facility, other_facility, clock
):
    raised = on(facility, "East", cast, "Raisedup")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    at(clock, 9, 50)
    order = level_order(actor=cast["nurse"], admission=raised, level="q15", reason="Pacing")
    level_order(actor=cast["other_nurse"], admission=elsewhere, level="q15", reason="Pacing")
    at(clock, 10, 7)

    chart = reverse("clients:chart", args=[raised.client.public_id]) + "#section-rounds"
    expected = f"Kit Raisedup · East {raised.bed.label} · raised to q15 Close order due by 10:50"
    nurse = section(home(client, cast["nurse"]), "levels_awaiting_order")
    clinician = section(home(client, cast["clinician"]), "levels_to_order")
    for found in (nurse, clinician):
        assert rows(found) == [expected] and hrefs(found) == [chart]
    page = home(client, cast["technician"])
    assert section(page, "levels_awaiting_order") == section(page, "levels_to_order") == ""

    at(clock, 11, 0)
    (row,) = rows(section(home(client, cast["clinician"]), "levels_to_order"))
    assert row.endswith("order overdue since 10:50")
    level_confirm(actor=cast["clinician"], order=order)
    assert not rows(section(home(client, cast["clinician"]), "levels_to_order"))
    assert not rows(section(home(client, cast["nurse"]), "levels_awaiting_order"))
    assert LevelOrder.objects.get(pk=order.pk).confirmed_by == cast["clinician"]


# ---------------------------------------------------------------- notes to co-sign


def signed_note(author, admission):
    note = progress_note_start(actor=author, admission=admission)
    return progress_note_sign(
        actor=author, note=note, sections={"behavior": "Calm at group."}, event_at=note.event_at,
        version=note.version,
    )  # fmt: skip


def test_a_technicians_note_waits_on_the_nurse_and_the_clinician_until_co_signed(
    client, cast, facility, other_facility, clock
):
    stay = on(facility, "East", cast, "Cosignee")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    note = signed_note(cast["technician"], stay)
    signed_note(cast["other_technician"], elsewhere)
    signed_note(cast["nurse"], stay)  # a nurse's note needs no second signature

    at(clock, 10, 47)
    for role in ("nurse", "clinician"):
        found = section(home(client, cast[role]), "notes_to_cosign")
        assert rows(found) == ["Kit Cosignee · BIRP by Technician waiting 40 min 10:07"], role
        assert hrefs(found) == [reverse("observations:note", args=[note.public_id])]
    assert section(home(client, cast["technician"]), "notes_to_cosign") == ""

    progress_note_cosign(actor=cast["nurse"], note=note)
    assert not rows(section(home(client, cast["clinician"]), "notes_to_cosign"))


# ---------------------------------------------------------------- high-risk screens


def test_high_and_moderate_screens_wait_on_the_clinician_until_plan_and_level_are_settled(
    client, cast, facility, other_facility, clock
):
    high = on(facility, "East", cast, "Highrisk")
    moderate = on(facility, "East", cast, "Moderisk")
    rescreened = on(facility, "West", cast, "Rescreened")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    at(clock, 8, 0)
    cssrs_screen_record(actor=cast["nurse"], admission=rescreened, answers=MODERATE, reason="other")
    at(clock, 9, 0)
    screens = {
        "high": cssrs_screen_record(
            actor=cast["nurse"], admission=high, answers=HIGH, reason="other"
        ),
        "moderate": cssrs_screen_record(
            actor=cast["technician"], admission=moderate, answers=MODERATE, reason="other"
        ),
    }
    # A later screen with no risk supersedes the moderate one.
    cssrs_screen_record(actor=cast["nurse"], admission=rescreened, answers=NONE, reason="other")
    cssrs_screen_record(
        actor=cast["other_nurse"], admission=elsewhere, answers=HIGH, reason="other"
    )
    at(clock, 10, 7)

    found = section(home(client, cast["clinician"]), "high_risk_screens")
    assert rows(found) == [
        f"Kit Highrisk · East {high.bed.label} · high risk "
        "no safety plan yet; level to order (1:1 suggested) 09:00",
        f"Kit Moderisk · East {moderate.bed.label} · moderate risk "
        "level to order (q15 suggested) 09:00",
    ]
    assert hrefs(found) == [
        reverse("observations:cssrs_result", args=[screens[k].public_id])
        for k in ("high", "moderate")
    ]
    for role in ("nurse", "technician", "supervisor"):
        assert section(home(client, cast[role]), "high_risk_screens") == "", role

    # The high screen: a safety plan and the 1:1 ordered. The moderate one: the nurse's raise
    # to q15 still waits for the clinician's order; their confirmation settles it.
    cssrs_safety_plan_record(actor=cast["clinician"], screen=screens["high"], started=True)
    level_order(actor=cast["clinician"], admission=high, level="one_to_one", reason="C-SSRS high")
    raise_ = level_order(actor=cast["nurse"], admission=moderate, level="q15", reason="C-SSRS")
    (row,) = rows(section(home(client, cast["clinician"]), "high_risk_screens"))
    assert row.startswith("Kit Moderisk") and "level to order" in row
    level_confirm(actor=cast["clinician"], order=raise_)
    found = section(home(client, cast["clinician"]), "high_risk_screens")
    assert not rows(found) and "No high or moderate C-SSRS result is waiting" in found


# ---------------------------------------------------------------- incidents to review


def submitted(actor, facility, admission, severity):
    fields = IncidentFields(
        incident_type="aggression_peer", occurred_at=timezone.now() - timedelta(minutes=20),
        severity=severity, location="Day room", description="Raised voices, a push.",
        interventions=("verbal",), clients=(admission,),
    )  # fmt: skip
    return incident_submit(
        actor=actor, incident=incident_open(actor=actor, facility=facility, fields=fields)
    )


def test_submitted_incidents_wait_on_a_supervisor_who_did_not_report_them(
    client, cast, facility, other_facility, clock
):
    stay = on(facility, "East", cast, "Incident")
    elsewhere = on(other_facility, "East", cast, "Birchfield")
    minor = submitted(cast["nurse"], facility, stay, "minor")
    at(clock, 10, 9)
    major = submitted(cast["technician"], facility, stay, "major")
    submitted(cast["supervisor"], facility, stay, "death")  # their own: another signs it off
    submitted(cast["other_technician"], other_facility, elsewhere, "death")
    at(clock, 10, 30)

    found = section(home(client, cast["supervisor"]), "incidents_to_review")
    assert rows(found) == [
        "Aggression toward a peer · Day room Major, awaiting review 10:09",
        "Aggression toward a peer · Day room Minor, awaiting review 10:07",
    ]
    assert hrefs(found) == [
        reverse("observations:incident_detail", args=[i.public_id]) for i in (major, minor)
    ]
    for role in ("technician", "nurse", "clinician"):
        assert section(home(client, cast[role]), "incidents_to_review") == "", role

    incident_review(actor=cast["supervisor"], incident=major, note="Debriefed; plan updated.")
    assert len(rows(section(home(client, cast["supervisor"]), "incidents_to_review"))) == 1


# ---------------------------------------------------------------- the census does not cost


def test_the_home_page_reads_as_many_queries_for_eight_clients_as_for_two(
    client, cast, facility, clock
):
    """Every section of the technician's and the nurse's page has rows for each client (rounds,
    vitals, screens, scores, raises, notes), yet the page's query count stays the same."""
    stays = []

    offered = []

    def census(up_to):
        at(clock, 9, 0)
        for n in range(len(stays), up_to):
            stay = on(facility, ("East", "West")[n % 2], cast, f"Census{n}")
            start(cast["nurse"], stay)
            signed_note(cast["technician"], stay)
            stays.append(stay)
            if n % 4 == 0:  # on line of sight, watched by the technician (My 1:1)
                level_order(actor=cast["clinician"], admission=stay, level="los", reason="Risk")
                handoff_offer(
                    actor=cast["technician"], admission=stay, to_observer=cast["technician"]
                )
            elif n % 4 == 2:  # on line of sight, offered to the technician (from 8 clients on)
                level_order(actor=cast["clinician"], admission=stay, level="los", reason="Risk")
                handoff_offer(actor=cast["nurse"], admission=stay, to_observer=cast["technician"])
                offered.append(stay)
            else:  # a nurse's raise awaiting an order
                level_order(actor=cast["nurse"], admission=stay, level="q15", reason="Pacing")
        chart_round(cast["technician"], facility, [s for s in stays if s not in offered])
        at(clock, 10, 7)

    def queries(role) -> int:
        client.force_login(cast[role])
        client.get(reverse("home"))
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("home")).content.decode()
        assert len(rows(section(page, "vitals_due"))) == len(stays)
        return len(captured)

    def per_section() -> dict[str, int]:
        counts = {}
        for mine in registry.worklist_sections:
            if mine.items.__module__ != "observations.worklist":
                continue
            with CaptureQueriesContext(connection) as captured:
                mine.items(user=cast["nurse"], facility=facility, now=timezone.now())
            counts[mine.key] = len(captured)
        return counts

    census(2)
    few = {role: queries(role) for role in ("technician", "nurse")}
    sections = per_section()
    census(8)
    many = {role: queries(role) for role in ("technician", "nurse")}
    assert many == few
    assert per_section() == sections == {
        "rounds_on_units": 6, "my_one_to_one": 2, "vitals_due": 3, "withdrawal_due": 3,
        "groups_today": 1, "cssrs_owed": 3, "levels_awaiting_order": 2, "levels_to_order": 2,
        "notes_to_cosign": 1, "high_risk_screens": 1, "incidents_to_review": 1,
    }  # fmt: skip
    # The whole page, every app's sections with the sign-in and the menu: 24 and 26 today.
    assert few["technician"] <= 32 and few["nurse"] <= 34, few


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "interval", "ends"),
    [
        # Fall back: the repeated hour has its own block, an hour of real time after 01:00 EDT.
        (datetime(2026, 11, 1, 1, 50, tzinfo=NY), 60, utc(2026, 11, 1, 6, 0)),
        (datetime(2026, 11, 1, 1, 50, fold=1, tzinfo=NY), 60, utc(2026, 11, 1, 7, 0)),
        # Spring forward: the block from 01:00 ends at 03:00 EDT, the clock's next hour.
        (datetime(2026, 3, 8, 1, 50, tzinfo=NY), 60, utc(2026, 3, 8, 7, 0)),
        (datetime(2026, 3, 8, 1, 50, tzinfo=NY), 15, utc(2026, 3, 8, 7, 0)),
        (datetime(2026, 5, 13, 10, 7, tzinfo=NY), 30, utc(2026, 5, 13, 14, 30)),
    ],
    ids=["fall-back-first-1am", "fall-back-second-1am", "spring-forward-q60", "spring-forward-q15",
         "plain-day-q30"],
)  # fmt: skip
def test_a_units_next_deadline_is_the_end_of_the_board_s_clock_block_across_dst(
    local, interval, ends
):
    assert _block_end(local.astimezone(UTC), interval, NY) == ends
