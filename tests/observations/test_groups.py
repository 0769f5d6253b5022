"""Groups and attendance (specs/charting.md; issue 12 item 5), from the user's side: a group of 12
documented on one screen lands in each of the 12 charts, a client on leave is excused
automatically, partial minutes and excuses follow the rules, re-documenting strikes and never
edits, and each client's clinical hours are shown against the target of their level of care."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients.models import Admission
from clients.services import admission_discharge, leave_return, leave_start
from facility.models import Bed, Unit
from facility.registry import registry
from observations.models import ClinicalHoursTarget, GroupAttendance, GroupSession, GroupTopic
from observations.services.groups import (
    DEFAULT_CURRICULUM,
    DEFAULT_TARGETS,
    AttendanceRow,
    group_attendance_document,
    group_session_create,
    groups_seed_defaults,
    session_roster,
)
from tests.conftest import admit, form_time

NY = ZoneInfo("America/New_York")
# A Wednesday afternoon: the week began on Monday 11 May 2026.
WEDNESDAY = datetime(2026, 5, 13, 14, 0, tzinfo=NY)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wednesday():
    with time_machine.travel(WEDNESDAY, tick=False):
        yield WEDNESDAY


@pytest.fixture
def east(facility):
    return Unit.objects.get(facility=facility, name="East")


def fill_unit(facility, cast, unit, count: int, start: int = 0):
    """`count` clients on `unit`, beds added as needed, admitted the Friday before."""
    for n in range(Bed.objects.filter(unit=unit).count() + 1, count + 1):
        Bed.objects.create(unit=unit, label=f"{unit.name[0]}{n:02d}")
    occupied = Admission.objects.current().values("bed_id")
    beds = Bed.objects.filter(unit=unit).exclude(pk__in=occupied)
    return [
        admit(facility, cast["nurse"], bed=bed, n=start + i, admitted_at=WEDNESDAY - timedelta(5))
        for i, bed in enumerate(beds.order_by("label")[:count], 1)
    ]


def topic(facility, title="Process group"):
    return GroupTopic.objects.get(facility=facility, title=title)


def session_at(cast, facility, *, unit=None, start=None, minutes=60, title="Process group"):
    start = start or timezone.now() - timedelta(minutes=50)
    return group_session_create(
        actor=cast["technician"], facility=facility, topic=topic(facility, title),
        facilitator=cast["technician"], starts_at=start, ends_at=start + timedelta(minutes=minutes),
        unit=unit, location="Group room",
    )  # fmt: skip


def attendance_url(session):
    return reverse("observations:group_attendance", args=[session.public_id])


def roster_body(stays, status="present", per_client=None):
    """Every stay at `status`; per_client maps an index to its own fields."""
    body = {"reason": ""}
    for i, a in enumerate(stays):
        fields = {"status": status, **(per_client or {}).get(i, {})}
        for name, value in fields.items():
            body[f"{name}-{a.public_id}"] = value
    return body


def section(html: str, key: str) -> str:
    """One chart section's HTML, as the user sees it on the chart page."""
    match = re.search(rf'<section[^>]*id="section-{key}".*?</section>', html, re.S)
    assert match, f"no {key} section"
    return match.group(0)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- the group of twelve


def test_a_group_of_twelve_is_documented_and_each_of_the_twelve_charts_shows_it(
    client, cast, facility, east, wednesday
):
    stays = fill_unit(facility, cast, east, 12)
    client.force_login(cast["technician"])
    # The technician opens a group from the curriculum, for the East unit.
    response = client.post(
        reverse("observations:group_new"),
        {
            "topic": topic(facility, "Triggers and high-risk situations").pk,
            "starts_at": form_time(timezone.now() - timedelta(minutes=50), facility),
            "length": "60",
            "facilitator": cast["technician"].pk,
            "co_facilitator": cast["clinician"].pk,
            "unit": str(east.public_id),
            "location": "Group room",
        },
    )
    session = GroupSession.objects.get()
    assert response["Location"] == attendance_url(session)
    assert (session.group_type, session.unit, session.co_facilitator) == (
        "relapse_prevention",
        east,
        cast["clinician"],
    )

    # Every client of the unit on one screen, nothing chosen yet.
    page = client.get(attendance_url(session)).content.decode()
    for a in stays:
        assert escape(a.client.display_name) in page
    assert page.count('type="radio" name="status-') == 12 * 5
    assert " checked" not in page

    body = roster_body(
        stays,
        per_client={
            0: {"participation": "active", "note": "Shared a coping plan"},
            1: {"status": "partial", "minutes": "40"},
            2: {"status": "absent", "note": "Stayed in room"},
        },
    )
    response = client.post(attendance_url(session), body, follow=True)
    assert "Attendance saved: 12 clients documented." in response.content.decode()
    assert GroupAttendance.objects.filter(session=session).count() == 12

    expected = {0: "Present · active participation", 1: "Partial 40 min", 2: "Absent"}
    hours = {0: "1.0 of 15 h", 1: "0.7 of 15 h", 2: "0.0 of 15 h"}
    for i, a in enumerate(stays):
        chart = client.get(reverse("clients:chart", args=[a.client.public_id])).content.decode()
        groups = text_of(section(chart, "groups"))
        assert "Triggers and high-risk situations" in groups, a
        assert expected.get(i, "Present") in groups
        assert f"Clinical hours this week: {hours.get(i, '1.0 of 15 h')}" in groups
    assert "Shared a coping plan" in text_of(
        client.get(reverse("clients:chart", args=[stays[0].client.public_id])).content.decode()
    )
    # The chart's timeline has it too, as one "Groups" line per client.
    entries = registry.timeline(
        stays[1], since=None, until=None, user=cast["nurse"], kinds=["group"]
    )
    assert [e.title for e in entries] == [
        "Group: Triggers and high-risk situations · Relapse prevention"
    ]
    assert entries[0].text.startswith("Partial 40 min")
    assert registry.timeline_labels["group"] == "Groups"
    timeline = client.get(
        reverse("observations:timeline", args=[stays[1].public_id]), {"kind": "group"}
    )
    assert "Group: Triggers and high-risk situations" in text_of(timeline.content.decode())


def test_a_group_for_the_whole_facility_lists_both_units_and_only_stays_of_its_time(
    cast, facility, east, wednesday
):
    west = Unit.objects.get(facility=facility, name="West")
    here = fill_unit(facility, cast, east, 2) + fill_unit(facility, cast, west, 1, start=10)
    gone = admit(facility, cast["nurse"], n=20, admitted_at=WEDNESDAY - timedelta(days=3))
    # A group the day before anyone on the units was admitted: nobody on its roster.
    before = session_at(cast, facility, start=WEDNESDAY - timedelta(days=6))
    admission_discharge(
        actor=cast["nurse"], admission=gone, discharged_at=WEDNESDAY - timedelta(hours=2),
        discharge_type="completed",
    )  # fmt: skip
    whole = session_at(cast, facility)
    assert {line.admission for line in session_roster(whole)} == set(here)
    # A unit's group: that unit's clients only.
    assert {line.admission for line in session_roster(session_at(cast, facility, unit=west))} == {
        here[2]
    }
    # A client admitted after the group ended is not on its roster.
    assert session_roster(before) == []


def test_a_client_who_moved_units_is_on_the_roster_of_the_unit_they_were_on(
    cast, facility, east, wednesday
):
    from clients.services import admission_move_bed

    west = Unit.objects.get(facility=facility, name="West")
    (stay,) = fill_unit(facility, cast, east, 1)
    east_group = session_at(cast, facility, unit=east, start=WEDNESDAY - timedelta(hours=3))
    admission_move_bed(
        actor=cast["nurse"], admission=stay, bed=Bed.objects.filter(unit=west).first(),
        moved_at=WEDNESDAY - timedelta(hours=1), reason="Quieter",
    )  # fmt: skip
    assert [line.admission for line in session_roster(east_group)] == [stay]
    assert session_roster(session_at(cast, facility, unit=west, start=east_group.starts_at)) == []


# ---------------------------------------------------------------- leave


def test_a_client_on_leave_for_the_whole_group_is_excused_automatically(
    client, cast, facility, east, wednesday
):
    stays = fill_unit(facility, cast, east, 3)
    away = stays[2]
    leave_start(
        actor=cast["nurse"], admission=away, kind="appointment", destination="Dentist",
        left_at=WEDNESDAY - timedelta(hours=2), expected_back_at=WEDNESDAY + timedelta(hours=2),
        backdate_reason="Entered after the door",
    )  # fmt: skip
    session = session_at(cast, facility, unit=east)
    client.force_login(cast["technician"])
    page = client.get(attendance_url(session)).content.decode()
    assert "Excused · On leave (Appointment)" in page
    assert f'name="status-{away.public_id}"' not in page  # locked: nothing to tap
    response = client.post(attendance_url(session), roster_body(stays[:2]))
    assert response.status_code == 302
    row = GroupAttendance.objects.get(admission=away)
    assert (row.status, row.excuse_reason) == ("excused", "On leave (Appointment)")
    assert GroupAttendance.objects.filter(session=session).count() == 3

    # A posted status for them is refused, not silently dropped.
    with pytest.raises(ValidationError) as refused:
        group_attendance_document(
            actor=cast["technician"], session=session,
            rows=[AttendanceRow(admission=away, status="present")], reason="Came back",
        )  # fmt: skip
    assert "on leave for the whole group, excused automatically" in str(refused.value)


def test_a_client_back_from_leave_during_the_group_is_documented_like_anyone(
    client, cast, facility, east, wednesday
):
    (stay,) = fill_unit(facility, cast, east, 1)
    leave = leave_start(
        actor=cast["nurse"], admission=stay, kind="pass",
        left_at=WEDNESDAY - timedelta(hours=3), expected_back_at=WEDNESDAY,
        backdate_reason="Entered after the door",
    )  # fmt: skip
    session = session_at(cast, facility, unit=east)  # 13:10–14:10
    leave_return(actor=cast["nurse"], leave=leave, returned_at=WEDNESDAY - timedelta(minutes=30))
    (line,) = session_roster(session)
    assert line.leave == leave and not line.locked
    client.force_login(cast["technician"])
    assert "part of the group" in client.get(attendance_url(session)).content.decode()
    client.post(
        attendance_url(session), roster_body([stay], "partial", per_client={0: {"minutes": "30"}})
    )
    assert GroupAttendance.objects.get(admission=stay).minutes == 30


# ---------------------------------------------------------------- the rules of a row


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"status": "partial"}, "partial: say how many minutes they attended."),
        ({"status": "partial", "minutes": "0"}, "partial: minutes must be 1 to 60"),
        ({"status": "partial", "minutes": "61"}, "partial: minutes must be 1 to 60"),
        ({"status": "excused"}, "excused: give the reason."),
        ({"status": ""}, "choose present, partial, absent, refused or excused."),
    ],
)
def test_a_row_breaking_a_rule_is_refused_naming_the_client_and_nothing_is_saved(
    client, cast, facility, east, wednesday, fields, message
):
    stays = fill_unit(facility, cast, east, 2)
    session = session_at(cast, facility, unit=east)
    client.force_login(cast["technician"])
    response = client.post(attendance_url(session), roster_body(stays, per_client={1: fields}))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved." in page
    assert escape(f"{stays[1].client.display_name}: {message}") in page
    assert GroupAttendance.objects.count() == 0
    assert GroupSession.objects.get().documented_at is None


@pytest.mark.parametrize(
    "fields, saved",
    [
        ({"status": "partial", "minutes": "1"}, (1, "")),
        ({"status": "partial", "minutes": "60"}, (60, "")),
        # Minutes typed, then another status tapped: the hidden minutes are not saved.
        ({"status": "present", "minutes": "25"}, (None, "")),
        ({"status": "excused", "excuse_reason": "At court"}, (None, "At court")),
    ],
)
def test_partial_minutes_up_to_the_length_and_an_excuse_with_its_reason_are_saved(
    client, cast, facility, east, wednesday, fields, saved
):
    (stay,) = fill_unit(facility, cast, east, 1)
    session = session_at(cast, facility, unit=east)
    client.force_login(cast["technician"])
    response = client.post(attendance_url(session), roster_body([stay], per_client={0: fields}))
    assert response.status_code == 302
    row = GroupAttendance.objects.get()
    assert (row.minutes, row.excuse_reason) == saved


def test_participation_is_for_a_client_who_attended(cast, facility, east, wednesday):
    (stay,) = fill_unit(facility, cast, east, 1)
    session = session_at(cast, facility, unit=east)
    with pytest.raises(ValidationError) as refused:
        group_attendance_document(
            actor=cast["technician"], session=session,
            rows=[AttendanceRow(admission=stay, status="absent", participation="active")],
        )  # fmt: skip
    assert "participation is charted only for a client who attended" in str(refused.value)


def test_attendance_waits_for_the_group_to_start(client, cast, facility, east, wednesday):
    (stay,) = fill_unit(facility, cast, east, 1)
    later = session_at(cast, facility, unit=east, start=WEDNESDAY + timedelta(hours=2))
    client.force_login(cast["technician"])
    page = client.get(attendance_url(later)).content.decode()
    assert "Attendance is documented once the group has started (16:00)." in page
    assert "Save attendance" not in page
    response = client.post(attendance_url(later), roster_body([stay]))
    assert "Attendance is documented once the group has started (16:00)." in (
        response.content.decode()
    )
    assert GroupAttendance.objects.count() == 0


# ---------------------------------------------------------------- re-documenting


def test_documenting_again_strikes_the_changed_rows_and_keeps_the_rest(
    client, cast, facility, east, wednesday
):
    stays = fill_unit(facility, cast, east, 3)
    session = session_at(cast, facility, unit=east)
    client.force_login(cast["technician"])
    client.post(attendance_url(session), roster_body(stays))
    first = {r.admission_id: r.pk for r in GroupAttendance.objects.all()}

    # The same roster again: nothing changes, and it says so.
    again = client.post(attendance_url(session), roster_body(stays), follow=True)
    assert "Attendance already documented: nothing changed." in again.content.decode()
    assert GroupAttendance.objects.count() == 3

    # A change needs a reason.
    changed = roster_body(stays, per_client={1: {"status": "partial", "minutes": "20"}})
    response = client.post(attendance_url(session), changed)
    assert response.status_code == 400
    assert "Reason for the changes: say why the attendance documented changes." in (
        response.content.decode()
    )
    changed["reason"] = "Left after 20 minutes for the nurse"
    response = client.post(attendance_url(session), changed, follow=True)
    assert "1 changed (the earlier entry struck)" in response.content.decode()

    rows = GroupAttendance.objects.filter(admission=stays[1]).order_by("id")
    old, new = rows
    assert (old.status, old.struck_reason, old.struck_by) == (
        "present",
        "Left after 20 minutes for the nurse",
        cast["technician"],
    )
    assert (new.status, new.minutes, new.struck_at) == ("partial", 20, None)
    # The others' rows are the same rows, untouched; nothing vanished.
    for a in (stays[0], stays[2]):
        assert GroupAttendance.objects.get(admission=a).pk == first[a.pk]
    assert GroupAttendance.objects.count() == 4
    # The change shows on the screen and, struck, in the chart.
    assert "Changes" in response.content.decode()
    chart = client.get(reverse("clients:chart", args=[stays[1].client.public_id]))
    groups = section(chart.content.decode(), "groups")
    assert 'class="struck"' in groups and "changed: Left after 20 minutes" in groups


def test_a_client_left_out_of_a_second_post_keeps_their_row(cast, facility, east, wednesday):
    stays = fill_unit(facility, cast, east, 2)
    session = session_at(cast, facility, unit=east)
    tech = cast["technician"]
    group_attendance_document(
        actor=tech, session=session, rows=[AttendanceRow(a, "present") for a in stays]
    )
    result = group_attendance_document(
        actor=tech, session=session, rows=[AttendanceRow(stays[0], "refused")], reason="Misread"
    )
    assert (result.created, result.changed, result.unchanged) == (0, 1, 1)
    assert GroupAttendance.objects.get(admission=stays[1], struck_at__isnull=True).status == (
        "present"
    )


# ---------------------------------------------------------------- hours against the target


def test_clinical_hours_this_week_against_the_level_of_care_target(
    client, cast, facility, east, wednesday
):
    (stay,) = fill_unit(facility, cast, east, 1)
    ClinicalHoursTarget.objects.filter(facility=facility, level_of_care="3.5").update(
        hours_per_week=Decimal("5")
    )
    tech = cast["technician"]
    monday = WEDNESDAY - timedelta(days=2, hours=4)  # Monday 10:00
    for start, minutes, title, status, partial in (
        (monday, 60, "Process group", "present", None),
        (monday + timedelta(hours=2), 90, "DBT: distress tolerance", "partial", 45),
        (monday + timedelta(days=1), 60, "Recreation and exercise", "present", None),  # no
        (monday + timedelta(days=1, hours=3), 90, "12-step meeting (AA/NA)", "present", None),
        (monday - timedelta(hours=11), 60, "Process group", "present", None),  # last week
        (monday + timedelta(days=1, hours=5), 60, "Family education group", "absent", None),
    ):
        session = session_at(cast, facility, start=start, minutes=minutes, title=title)
        group_attendance_document(
            actor=tech, session=session, rows=[AttendanceRow(stay, status, partial)]
        )
    # 60 + 45 minutes of clinical groups this week: 1.75 h → 1.8 of 5 h, 35 %.
    client.force_login(cast["clinician"])
    page = text_of(client.get(reverse("observations:groups")).content.decode())
    assert f"{stay.client.display_name} E01 3.5 1.8 of 5 h" in page
    assert "3.3 h to go" in page  # 195 minutes
    chart = client.get(reverse("clients:chart", args=[stay.client.public_id])).content.decode()
    groups = text_of(section(chart, "groups"))
    assert "Clinical hours this week: 1.8 of 5 h" in groups
    assert "not clinical hours" in groups  # recreation and 12-step shown, marked
    assert "Process group" in groups and "Family education group" in groups


def test_a_new_facility_has_the_default_curriculum_and_targets(facility):
    assert GroupTopic.objects.filter(facility=facility).count() == len(DEFAULT_CURRICULUM)
    targets = dict(
        ClinicalHoursTarget.objects.filter(facility=facility).values_list(
            "level_of_care", "hours_per_week"
        )
    )
    assert targets == {str(k): v for k, v in DEFAULT_TARGETS.items()}
    groups_seed_defaults(facility)  # idempotent
    assert GroupTopic.objects.filter(facility=facility).count() == len(DEFAULT_CURRICULUM)


def test_admins_keep_the_curriculum_and_targets_in_setup_and_the_floor_does_not(
    client, cast, facility
):
    for who, status in (("admin", 200), ("technician", 302)):
        client.force_login(cast[who])
        for name in (
            "admin:observations_grouptopic_changelist",
            "admin:observations_clinicalhourstarget_changelist",
            "admin:observations_grouptopic_add",
        ):
            assert client.get(reverse(name)).status_code == status, (who, name)
    client.force_login(cast["admin"])
    target = ClinicalHoursTarget.objects.get(facility=facility, level_of_care="3.1")
    response = client.post(
        reverse("admin:observations_clinicalhourstarget_change", args=[target.pk]),
        {"facility": facility.pk, "level_of_care": "3.1", "hours_per_week": "9"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.hours_per_week == Decimal("9")
    # An admin never deletes a topic (sessions point to it): it is retired.
    topic_ = GroupTopic.objects.filter(facility=facility).first()
    assert client.get(
        reverse("admin:observations_grouptopic_delete", args=[topic_.pk])
    ).status_code in (302, 403)


# ---------------------------------------------------------------- sessions


def test_a_session_is_refused_with_another_facilitys_topic_or_staff(
    cast, facility, other_facility, wednesday
):
    start = timezone.now()
    base = {"actor": cast["technician"], "facility": facility, "starts_at": start,
            "ends_at": start + timedelta(hours=1), "facilitator": cast["technician"],
            "topic": topic(facility)}  # fmt: skip
    for change, field in (
        ({"topic": topic(other_facility)}, "topic"),
        ({"facilitator": cast["other_technician"]}, "facilitator"),
        ({"facilitator": cast["admin"]}, "facilitator"),  # admins do not run groups
        ({"co_facilitator": cast["technician"]}, "co_facilitator"),
        ({"ends_at": start}, "ends_at"),
        ({"ends_at": start + timedelta(hours=5)}, "ends_at"),
        ({"starts_at": start - timedelta(days=8), "ends_at": start - timedelta(days=7)},
         "starts_at"),
    ):  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            group_session_create(**(base | change))
        assert field in refused.value.message_dict, change
    with pytest.raises(PermissionDenied):
        group_session_create(**(base | {"actor": cast["admin"]}))
    assert GroupSession.objects.count() == 0


def test_a_retired_topic_is_not_offered_for_a_new_group(client, cast, facility, wednesday):
    GroupTopic.objects.filter(facility=facility, title="Process group").update(active=False)
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:group_new")).content.decode()
    assert "Process group" not in page and "DBT: distress tolerance" in page


def test_the_groups_page_lists_the_days_groups_with_who_attended(
    client, cast, facility, east, wednesday
):
    stays = fill_unit(facility, cast, east, 2)
    done = session_at(cast, facility, unit=east, title="Addiction and the brain")
    group_attendance_document(
        actor=cast["technician"], session=done,
        rows=[AttendanceRow(stays[0], "present"), AttendanceRow(stays[1], "refused")],
    )  # fmt: skip
    session_at(
        cast, facility, start=WEDNESDAY + timedelta(hours=1), title="Recreation and exercise"
    )
    session_at(cast, facility, start=WEDNESDAY - timedelta(days=1), title="Process group")
    client.force_login(cast["nurse"])
    page = text_of(client.get(reverse("observations:groups")).content.decode())
    assert "Addiction and the brain" in page and "1 attended of 2" in page
    assert "Recreation and exercise" in page and "not clinical hours" in page
    assert "Attendance to document" in page
    assert "Process group" not in page  # yesterday's
    yesterday = client.get(reverse("observations:groups"), {"day": "2026-05-12"})
    assert "Process group" in yesterday.content.decode()


# ---------------------------------------------------------------- speed


def test_the_attendance_page_query_count_does_not_grow_with_the_roster(
    client, cast, facility, east, django_assert_max_num_queries, wednesday
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = fill_unit(facility, cast, east, 3)
    session = session_at(cast, facility, unit=east)
    group_attendance_document(
        actor=cast["technician"], session=session, rows=[AttendanceRow(a, "present") for a in small]
    )
    client.force_login(cast["technician"])
    client.get(attendance_url(session))  # warm the session and the user's facilities
    with CaptureQueriesContext(connection) as three:
        client.get(attendance_url(session))
    more = fill_unit(facility, cast, east, 12)
    leave_start(
        actor=cast["nurse"], admission=more[-1], kind="pass",
        left_at=WEDNESDAY - timedelta(hours=3), expected_back_at=WEDNESDAY + timedelta(hours=3),
        backdate_reason="Entered after the door",
    )  # fmt: skip
    with django_assert_max_num_queries(len(three.captured_queries)):
        response = client.get(attendance_url(session))
    assert response.content.decode().count('name="status-') == 11 * 5  # one on leave, locked
    with django_assert_max_num_queries(14):
        client.get(attendance_url(session))


def test_the_groups_page_query_count_does_not_grow_with_clients_or_groups(
    client, cast, facility, east, django_assert_max_num_queries, wednesday
):
    fill_unit(facility, cast, east, 2)
    session_at(cast, facility)
    client.force_login(cast["technician"])
    client.get(reverse("observations:groups"))
    with django_assert_max_num_queries(12):
        client.get(reverse("observations:groups"))
    stays = list(Admission.objects.current()) + fill_unit(facility, cast, east, 12)
    for hour in (1, 3, 5):
        s = session_at(cast, facility, start=WEDNESDAY - timedelta(hours=hour))
        group_attendance_document(
            actor=cast["technician"], session=s, rows=[AttendanceRow(a, "present") for a in stays]
        )
    with django_assert_max_num_queries(12):
        client.get(reverse("observations:groups"))


# ---------------------------------------------------------------- the demo


def test_the_demo_seeds_groups_once(cast, facility, east, wednesday):
    from io import StringIO

    from django.core.management import call_command

    fill_unit(facility, cast, east, 6)
    call_command("seed_demo_groups", stdout=StringIO())
    sessions = GroupSession.objects.filter(facility=facility)
    assert sessions.count() == 3
    assert sessions.filter(documented_at__isnull=False).count() == 2
    assert GroupAttendance.objects.filter(status="partial").exists()
    call_command("seed_demo_groups", stdout=StringIO())
    assert GroupSession.objects.filter(facility=facility).count() == 3
