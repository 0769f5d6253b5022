"""Behavior and mood notes (issue 12 item 1, specs/charting.md): the structured fields and their
ranges, at least one field, the narrative in the facility's format, observed time within 24 hours
(late entries marked, no reason asked), quick entry from a client's row on the rounds board with
the status just charted pre-filling the behavior, risk flags that ask for a C-SSRS screen and
alert the nurse (and only the nurse), "flag for handoff", striking a note entered in error, the
chart section and the timeline source."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facility.models import Alert
from facility.registry import registry
from observations.chart import _behavior_notes
from observations.models import BehaviorNote, CssrsRequest, RoundCode
from observations.services import RoundEntry, round_submit
from observations.services.behavior_notes import (
    behavior_note_record,
    behavior_note_strike,
    behavior_timeline,
    status_prefill,
)
from tests.conftest import admit, form_time, make_user

NY = ZoneInfo("America/New_York")


def page(response) -> str:
    return response.content.decode()


def record(actor, admission, **fields):
    fields.setdefault("observed_at", timezone.now())
    return behavior_note_record(actor=actor, admission=admission, **fields)


def new_url(admission, came_from: str = "") -> str:
    url = reverse("observations:behavior_note_new", args=[admission.public_id])
    return url + (f"?came_from={came_from}" if came_from else "")


def body(facility, **changes) -> dict:
    data = {"observed_at": form_time(timezone.now(), facility)}
    data.update(changes)
    return data


def chart(client, admission) -> str:
    return page(client.get(reverse("clients:chart", args=[admission.client.public_id])))


def chart_round(actor, admission, status_code: str, *, minutes_ago: int = 0):
    facility = admission.facility
    codes = RoundCode.objects.filter(facility=facility)
    round_submit(
        actor=actor,
        facility=facility,
        submission_key=uuid.uuid4(),
        observed_at=timezone.now() - timedelta(minutes=minutes_ago),
        entries=[
            RoundEntry(
                admission,
                codes.get(kind="location", code="DAY"),
                codes.get(kind="status", code=status_code),
            )
        ],
    )


# ---------------------------------------------------------------- the rules of a note


@pytest.mark.django_db
def test_an_empty_note_is_refused_naming_the_fields_and_nothing_is_saved(
    client, cast, facility, admission
):
    with pytest.raises(ValidationError) as refused:
        record(cast["technician"], admission)
    message = refused.value.messages[0]
    for name in ("mood", "affect", "behavior", "participation", "sleep", "meals", "cravings",
                 "risk flags", "Behavior, Intervention, Response, Plan"):  # fmt: skip
        assert name in message
    client.force_login(cast["technician"])
    response = client.post(new_url(admission), body(facility))
    assert response.status_code == 400
    assert "Nothing was saved." in page(response)
    assert escape("Nothing to save: enter at least one of mood, affect, behavior") in page(response)
    assert BehaviorNote.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"behaviors": ["calm"]},
        {"mood_words": "Pretty good today"},
        {"meal_lunch": 0},
        {"cravings": 0},
        {"sleep_hours": Decimal("0")},
        {"narrative": {"plan": "Check in after group."}},
    ],
)
def test_any_one_field_or_section_is_enough(cast, admission, fields):
    note = record(cast["technician"], admission, **fields)
    assert BehaviorNote.objects.get() == note
    assert note.narrative_format == "birp"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"meal_breakfast": 30}, "meal_breakfast", "Breakfast: choose 0, 25, 50, 75 or 100 %."),
        ({"meal_dinner": 110}, "meal_dinner", "Dinner: choose 0, 25, 50, 75 or 100 %."),
        ({"cravings": 11}, "cravings", "Cravings: enter a whole number from 0 to 10."),
        ({"cravings": -1}, "cravings", "Cravings: enter a whole number from 0 to 10."),
        ({"sleep_hours": Decimal("24.5")}, "sleep_hours", "Sleep: enter hours between 0 and 24"),
        ({"sleep_hours": Decimal("-1")}, "sleep_hours", "Sleep: enter hours between 0 and 24"),
        ({"behaviors": ["calm", "sleepy"]}, "behaviors", "Behavior: choose from the list."),
        ({"risk_flags": ["bored"]}, "risk_flags", "Risk flags: choose from the list."),
        ({"mood": "grumpy"}, "mood", "Mood: choose from the list."),
        ({"affect_congruent": True}, "affect", "Affect: choose the affect"),
    ],
)
def test_out_of_range_values_are_refused_by_the_service_naming_the_field(
    cast, admission, fields, field, message
):
    with pytest.raises(ValidationError) as refused:
        record(cast["technician"], admission, **{"behaviors": ["calm"], **fields})
    assert message in refused.value.message_dict[field][0]
    assert BehaviorNote.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("meal_lunch", "30", "Lunch: choose 0, 25, 50, 75 or 100 %."),
        ("cravings", "11", "Cravings: choose a number from 0 to 10."),
        ("sleep_hours", "25", "Sleep: enter hours between 0 and 24."),
        ("sleep_hours", "7.25", "Sleep (hours): at most 1 decimal places."),
        ("behaviors", "sleepy", "Behavior: choose from the list."),
    ],
)
def test_the_form_refuses_what_is_not_on_offer(
    client, cast, facility, admission, field, value, message
):
    client.force_login(cast["technician"])
    response = client.post(new_url(admission), body(facility, **{field: value}))
    assert response.status_code == 400
    assert escape(message) in page(response)
    assert BehaviorNote.objects.count() == 0


@pytest.mark.django_db
def test_every_structured_field_is_stored_as_typed(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.post(
        new_url(admission),
        body(
            facility, mood="anxious", mood_words="On edge", affect="restricted",
            affect_congruent="yes", behaviors=["withdrawn", "tearful"], participation="partial",
            sleep_hours="5.5", sleep_quality="poor", meal_breakfast="25", meal_lunch="75",
            meal_dinner="", cravings="6", narrative_behavior="Sat alone after the call.",
            narrative_plan="Offer 1:1 time.", handoff="on",
        ),
    )  # fmt: skip
    assert response.status_code == 302
    note = BehaviorNote.objects.get()
    assert (note.mood, note.mood_words, note.affect, note.affect_congruent) == (
        "anxious", "On edge", "restricted", True,
    )  # fmt: skip
    assert note.behaviors == ["withdrawn", "tearful"]
    assert (note.sleep_hours, note.sleep_quality, note.participation) == (
        Decimal("5.5"), "poor", "partial",
    )  # fmt: skip
    assert (note.meal_breakfast, note.meal_lunch, note.meal_dinner, note.cravings) == (
        25, 75, None, 6,
    )  # fmt: skip
    assert note.narrative == {"behavior": "Sat alone after the call.", "plan": "Offer 1:1 time."}
    assert note.handoff is True and note.risk_flags == []
    assert note.recorded_by == cast["technician"]
    text = chart(client, admission)
    assert "Handoff" in text and "Sat alone after the call." in text
    assert "Meals eaten" in text and "Breakfast 25 %, Lunch 75 %" in text
    assert escape("Anxious “On edge”") in text


@pytest.mark.django_db
def test_the_narrative_follows_the_facilitys_format(client, cast, facility, admission):
    facility.note_format = "dap"
    facility.save(update_fields=["note_format"])
    client.force_login(cast["technician"])
    form = page(client.get(new_url(admission)))
    assert 'Narrative <span class="meta">(DAP)' in form
    for name in ("narrative_data", "narrative_assessment", "narrative_plan"):
        assert f'name="{name}"' in form
    assert 'name="narrative_behavior"' not in form
    with pytest.raises(ValidationError) as refused:
        record(cast["technician"], admission, narrative={"behavior": "BIRP text"})
    assert "not a section of dap: behavior" in refused.value.message_dict["narrative"][0]
    response = client.post(new_url(admission), body(facility, narrative_data="Calm at lunch."))
    assert response.status_code == 302
    note = BehaviorNote.objects.get()
    assert (note.narrative_format, note.narrative) == ("dap", {"data": "Calm at lunch."})


# ---------------------------------------------------------------- time


@pytest.mark.django_db
def test_observed_time_is_not_in_the_future_nor_over_24_hours_back(cast, facility):
    now = datetime(2026, 5, 12, 10, 0, tzinfo=NY)
    with time_machine.travel(now, tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=now - timedelta(days=3))
    for observed_at, message in (
        (now + timedelta(minutes=1), "Observed at: cannot be in the future."),
        (now - timedelta(hours=24, minutes=1), "Observed at: at most 24 hours back."),
        (stay.admitted_at - timedelta(minutes=1), "Observed at: at most 24 hours back."),
    ):
        with pytest.raises(ValidationError) as refused:
            record(cast["technician"], stay, observed_at=observed_at, cravings=2, now=now)
        assert refused.value.message_dict["observed_at"] == [message]
    note = record(
        cast["technician"], stay, observed_at=now - timedelta(hours=24), cravings=2, now=now
    )
    assert note.late_entry is True


@pytest.mark.django_db
def test_a_note_before_admission_is_refused(cast, facility):
    now = timezone.now()
    stay = admit(facility, cast["nurse"], admitted_at=now - timedelta(hours=2))
    with pytest.raises(ValidationError) as refused:
        record(cast["technician"], stay, observed_at=now - timedelta(hours=3), cravings=1)
    assert refused.value.message_dict["observed_at"] == [
        "Observed at: before the client was admitted."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "observed, recorded, late",
    [
        ((10, 0), (10, 5), False),  # written straight away
        ((10, 0), (10, 55), False),  # back-dated within the hour and the shift: no reason, not late
        ((10, 0), (11, 5), True),  # more than 60 minutes after (DESIGN.md §2)
        ((14, 50), (15, 5), True),  # recorded after the day shift (07-15) ended
        ((15, 5), (15, 20), False),  # in the evening shift, written in it
    ],
)
def test_a_late_entry_is_marked_without_asking_a_reason(cast, facility, observed, recorded, late):
    day = datetime(2026, 5, 12, tzinfo=NY)
    with time_machine.travel(day + timedelta(hours=1), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=day)
    observed_at = day.replace(hour=observed[0], minute=observed[1])
    now = day.replace(hour=recorded[0], minute=recorded[1])
    note = record(cast["technician"], stay, observed_at=observed_at, behaviors=["calm"], now=now)
    assert note.late_entry is late
    assert (note.observed_at, note.recorded_at) == (observed_at, now)


@pytest.mark.django_db
def test_a_late_entry_shows_both_times_on_the_chart(client, cast, facility, admission):
    note = record(
        cast["technician"], admission, observed_at=timezone.now() - timedelta(minutes=50),
        cravings=3, now=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip
    assert note.late_entry
    client.force_login(cast["nurse"])
    text = chart(client, admission)
    assert "Late entry" in text
    assert f"recorded {timezone.localtime(note.recorded_at, facility.tz):%b %-d %H:%M}" in text


# ---------------------------------------------------------------- quick entry from the board


@pytest.mark.django_db
def test_the_board_row_opens_the_note_with_the_status_just_charted(
    client, cast, facility, admission
):
    tech = cast["technician"]
    chart_round(tech, admission, "AG")
    client.force_login(tech)
    board = page(client.get(reverse("observations:board", args=[admission.unit.public_id])))
    link = new_url(admission, "board")
    assert f'href="{escape(link)}"' in board
    assert f'>Note<span class="visually-hidden"> for {admission.client.display_name}' in board

    form = page(client.get(link))
    assert "Last charted: <strong>Agitated</strong>" in form
    assert "behavior pre-filled" in form
    assert _checked(form, "behaviors") == ["agitated"]
    assert _checked(form, "risk_flags") == []

    response = client.post(link, body(facility, behaviors=["agitated"], narrative_response="Ok"))
    assert response.status_code == 302
    assert response["Location"] == reverse("observations:board", args=[admission.unit.public_id])
    note = BehaviorNote.objects.get()
    assert note.round_check is not None and note.round_check.status.code == "AG"


@pytest.mark.django_db
def test_a_client_on_1_to_1_has_the_note_link_on_the_observer_line(
    client, cast, facility, admission
):
    from observations.services import level_order

    level_order(actor=cast["nurse"], admission=admission, level="one_to_one", reason="SI")
    client.force_login(cast["technician"])
    board = page(client.get(reverse("observations:board", args=[admission.unit.public_id])))
    link = f'<a href="{escape(new_url(admission, "board"))}" data-leaves-round>note<span'
    assert f" · {link}" in board
    client.force_login(cast["clinician"])  # reads the board, does not chart on it
    board = page(client.get(reverse("observations:board", args=[admission.unit.public_id])))
    assert escape(new_url(admission, "board")) not in board


def _checked(html: str, name: str) -> list[str]:
    """The values of the checked inputs named `name` in the page."""
    import re

    return [
        m.group(1)
        for m in re.finditer(rf'<input type="[a-z]+" name="{name}" value="([^"]*)"[^>]*>', html)
        if " checked" in m.group(0)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code, behaviors, mood",
    [
        ("A", ["calm"], ""),
        ("IS", ["isolative"], ""),
        ("CR", ["tearful"], ""),
        ("RIS", ["internal_stimuli"], ""),
        ("V", ["hostile"], ""),
        ("AN", [], "anxious"),
    ],
)
def test_statuses_that_say_a_behavior_prefill_it(
    client, cast, facility, admission, code, behaviors, mood
):
    chart_round(cast["technician"], admission, code)
    client.force_login(cast["technician"])
    form = page(client.get(new_url(admission, "board")))
    assert _checked(form, "behaviors") == behaviors
    assert _checked(form, "mood") == [mood]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code, label", [("E", "Eating"), ("P", "Pacing"), ("SIB", "Self-injurious behavior")]
)
def test_a_status_that_says_no_behavior_prefills_nothing_but_is_shown(
    client, cast, facility, admission, code, label
):
    chart_round(cast["technician"], admission, code)
    client.force_login(cast["technician"])
    form = page(client.get(new_url(admission, "board")))
    assert f"Last charted: <strong>{label}</strong>" in form
    assert "behavior pre-filled" not in form
    assert _checked(form, "behaviors") == []
    assert _checked(form, "risk_flags") == []  # a risk flag is never pre-filled


@pytest.mark.django_db
def test_an_old_round_or_the_chart_prefills_nothing(client, cast, facility, admission):
    chart_round(cast["technician"], admission, "AG", minutes_ago=0)
    client.force_login(cast["technician"])
    from_chart = page(client.get(new_url(admission)))
    assert "Last charted: <strong>Agitated</strong>" in from_chart
    assert _checked(from_chart, "behaviors") == []
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        stale = page(client.get(new_url(admission, "board")))
    assert _checked(stale, "behaviors") == []


def test_status_words_map_to_chips_for_a_facilitys_own_labels():
    assert status_prefill("Calm in day room") == (["calm"], "")
    assert status_prefill("Physically aggressive") == (["hostile"], "")
    assert status_prefill("Sleeping") == ([], "")
    assert status_prefill("Talking/socializing") == ([], "")


# ---------------------------------------------------------------- risk flags


@pytest.mark.django_db
@pytest.mark.parametrize(
    "flags, severity",
    [
        (["suicidal"], "critical"),
        (["homicidal"], "critical"),
        (["contraband", "leaving"], "warning"),
        (["self_harm"], "warning"),
    ],
)
def test_a_risk_flag_opens_a_cssrs_request_and_alerts_the_nurse(
    client, cast, facility, admission, flags, severity
):
    client.force_login(cast["technician"])
    response = client.post(new_url(admission), body(facility, risk_flags=flags), follow=True)
    assert "A C-SSRS screen is requested and the nurse is alerted." in page(response)
    note = BehaviorNote.objects.get()
    request = CssrsRequest.objects.get()
    assert (request.admission, request.reason, request.behavior_note) == (
        admission, "risk_flag", note,
    )  # fmt: skip
    assert request.answered_by is None and request.due_at > note.recorded_at
    alert = Alert.objects.get(kind="behavior_risk")
    assert (alert.severity, alert.audience) == (severity, "nurse")
    assert alert.client_public_id == admission.client.public_id
    assert alert.link == reverse("observations:cssrs_screen", args=[admission.public_id])
    assert "C-SSRS screen due by" in alert.message


@pytest.mark.django_db
def test_the_risk_alert_is_seen_by_the_nurse_not_by_the_technician(
    client, cast, facility, admission
):
    record(cast["technician"], admission, risk_flags=["suicidal"], behaviors=["tearful"])
    alert = Alert.objects.get(kind="behavior_risk")
    client.force_login(cast["nurse"])
    nurse_view = page(client.get(reverse("alerts")))
    assert escape(alert.message) in nurse_view
    assert escape("Suicidal thoughts") in nurse_view
    client.force_login(cast["technician"])
    tech_view = page(client.get(reverse("alerts")))
    assert escape(alert.message) not in tech_view
    client.force_login(cast["supervisor"])
    assert escape(alert.message) in page(client.get(reverse("alerts")))


@pytest.mark.django_db
def test_a_second_flagged_note_reuses_the_open_request_and_alerts_again(cast, admission):
    record(cast["technician"], admission, risk_flags=["leaving"])
    record(cast["nurse"], admission, risk_flags=["suicidal"])
    assert CssrsRequest.objects.count() == 1
    severities = Alert.objects.filter(kind="behavior_risk").values_list("severity", flat=True)
    assert sorted(severities) == ["critical", "warning"]


@pytest.mark.django_db
def test_a_note_without_a_flag_asks_for_nothing(cast, admission):
    record(cast["technician"], admission, behaviors=["calm"])
    assert CssrsRequest.objects.count() == 0
    assert not Alert.objects.filter(kind="behavior_risk").exists()


# ---------------------------------------------------------------- who


@pytest.mark.django_db
def test_who_may_write_a_note(client, cast, facility, admission, other_admission):
    for role in ("technician", "nurse", "supervisor"):
        record(cast[role], admission, cravings=1)
    for role in ("clinician", "admin"):
        with pytest.raises(PermissionDenied):
            record(cast[role], admission, cravings=1)
    client.force_login(cast["clinician"])
    assert client.get(new_url(admission)).status_code == 403
    client.force_login(cast["technician"])
    assert client.get(new_url(other_admission)).status_code == 404


@pytest.mark.django_db
def test_a_discharged_client_gets_no_new_note(client, cast, facility, admission):
    from clients.services import admission_discharge

    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
        discharge_type="completed",
    )  # fmt: skip
    client.force_login(cast["technician"])
    assert client.get(new_url(admission)).status_code == 403
    with pytest.raises(PermissionDenied):
        record(cast["technician"], admission, cravings=1)


# ---------------------------------------------------------------- entered in error


@pytest.mark.django_db
def test_the_author_strikes_a_note_with_a_reason_and_it_stays_visible_struck(
    client, cast, facility, admission
):
    note = record(cast["technician"], admission, narrative={"behavior": "Wrong client's note"})
    client.force_login(cast["technician"])
    strike = reverse("observations:behavior_note_strike", args=[note.public_id])
    refused = client.post(strike, {"reason": ""}, follow=True)
    assert "Reason: say what was wrong." in page(refused)
    assert BehaviorNote.objects.get().struck_at is None
    response = client.post(strike, {"reason": "Wrong client"}, follow=True)
    assert "Struck as entered in error." in page(response)
    note.refresh_from_db()
    assert (note.struck_by, note.struck_reason) == (cast["technician"], "Wrong client")
    text = chart(client, admission)
    assert "Wrong client&#x27;s note" in text or "Wrong client's note" in text
    assert "Entered in error: Wrong client" in text
    again = client.post(strike, {"reason": "Twice"}, follow=True)
    assert "This note was already struck." in page(again)


@pytest.mark.django_db
def test_a_nurse_or_supervisor_may_strike_anyones_note_another_technician_may_not(
    client, cast, facility, admission
):
    note = record(cast["technician"], admission, cravings=4)
    colleague = make_user("tech2", "technician", facility, mfa=False)
    with pytest.raises(PermissionDenied, match="author, a nurse or a supervisor"):
        behavior_note_strike(actor=colleague, note=note, reason="Not mine")
    client.force_login(colleague)
    assert f'id="strike-{note.public_id}"' not in chart(client, admission)
    detail = page(client.get(reverse("observations:behavior_note", args=[note.public_id])))
    assert "Strike the note" not in detail
    with pytest.raises(PermissionDenied):
        behavior_note_strike(actor=cast["clinician"], note=note, reason="Duplicate")
    for role in ("nurse", "supervisor"):
        # A struck note stays struck (the database refuses to unstrike it): one note each.
        theirs = record(cast["technician"], admission, cravings=4)
        struck = behavior_note_strike(actor=cast[role], note=theirs, reason="Duplicate")
        assert struck.struck_by == cast[role]


# ---------------------------------------------------------------- chart and timeline


@pytest.mark.django_db
def test_the_chart_section_reads_the_notes_in_a_fixed_number_of_queries(cast, facility, admission):
    request = RequestFactory().get("/")
    request.user = cast["nurse"]
    record(cast["technician"], admission, behaviors=["calm"])
    _behavior_notes(request, admission.client, admission)  # the user's permissions, cached
    with CaptureQueriesContext(connection) as one:
        context = _behavior_notes(request, admission.client, admission)
    assert len(context["notes"]) == 1
    for n in range(14):
        note = record(
            make_user(f"t{n}", "technician", facility, mfa=False) if n % 3 == 0
            else cast["technician"],
            admission, cravings=n % 11, risk_flags=["leaving"] if n == 5 else [],
        )  # fmt: skip
        if n == 7:
            behavior_note_strike(actor=cast["nurse"], note=note, reason="Duplicate")
    with CaptureQueriesContext(connection) as many:
        context = _behavior_notes(request, admission.client, admission)
    assert len(context["notes"]) == 10 and context["more"] is True
    assert len(many) == len(one) <= 2, [q["sql"] for q in many.captured_queries]


@pytest.mark.django_db
def test_the_chart_lists_the_stays_recent_notes_for_every_reader(client, cast, facility, admission):
    record(cast["technician"], admission, behaviors=["guarded"], handoff=True)
    for role in ("technician", "nurse", "clinician", "supervisor"):
        client.force_login(cast[role])
        text = chart(client, admission)
        assert "Behavior and mood notes" in text and "guarded" in text and "Handoff" in text
        assert ("Write a behavior note" in text) is (role != "clinician")


@pytest.mark.django_db
def test_the_timeline_source_gives_each_note_struck_ones_struck_with_the_reason(
    cast, facility, admission
):
    now = timezone.now()
    kept = record(cast["technician"], admission, behaviors=["calm"], risk_flags=["contraband"],
                  observed_at=now - timedelta(minutes=30))  # fmt: skip
    wrong = record(cast["technician"], admission, narrative={"behavior": "Oops"})
    behavior_note_strike(actor=cast["nurse"], note=wrong, reason="Wrong client")
    assert registry.timeline_labels["behavior"] == "Behavior notes"
    with CaptureQueriesContext(connection) as queries:
        entries = behavior_timeline(
            admission, since=now - timedelta(hours=1), until=now + timedelta(hours=1),
            user=cast["nurse"],
        )  # fmt: skip
    assert len(queries) == 1
    assert [e.at for e in entries] == [wrong.observed_at, kept.observed_at]
    struck, first = entries
    assert struck.struck and "Entered in error: Wrong client" in struck.struck_note
    assert struck.kind == "behavior" and "Behavior: Oops" in struck.text
    assert not first.struck and "Behavior: calm" in first.text
    assert "risk flag" in first.title and "Contraband suspected" in first.text
    assert first.href == reverse("observations:behavior_note", args=[kept.public_id])
    assert first.author == cast["technician"].signature
    only_old = registry.timeline(
        admission, since=now - timedelta(hours=1), until=now - timedelta(minutes=10),
        user=cast["nurse"], kinds=["behavior"],
    )  # fmt: skip
    assert [e.at for e in only_old] == [kept.observed_at]
