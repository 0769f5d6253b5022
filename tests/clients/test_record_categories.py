"""Record categories (issue 16): each app's records of one client for a period, in a fixed
number of queries, with labels staff read; struck entries shown struck; no incident reports
and no transport among them."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import disclosures
from facility.registry import registry
from tests.facility.world import (
    World,
    a_behavior_note,
    a_breath_result,
    a_group_session,
    a_high_cssrs_screen,
    a_poc_result,
    a_signed_note,
    a_vitals_set,
    a_withdrawal_protocol,
    a_withdrawal_score,
    an_incident,
    mar_objects,
)

# Queries each category's render and template make, whatever the number of rows.
QUERIES = {
    "demographics": 2,
    "medications": 2,
    "vitals": 2,
    "progress_notes": 3,
    "observation": 2,
    "risk_screens": 1,
    "groups": 1,
    "drug_screens": 5,
}


def rounds(w: World, n: int):
    from observations.models import RoundCheck, RoundCode

    location = RoundCode.objects.filter(facility=w.facility, kind="location").first()
    status = RoundCode.objects.filter(facility=w.facility, kind="status").first()
    now = timezone.now()
    RoundCheck.objects.bulk_create(
        RoundCheck(
            admission=w.admission, observed_at=now - timedelta(minutes=15 * i),
            recorded_at=now - timedelta(minutes=15 * i), recorded_by=w.cast["technician"],
            location=location, status=status, submission_key=uuid.uuid4(),
            safety_concern=(i == 0),
        )
        for i in range(n)
    )  # fmt: skip


@pytest.fixture
def full_chart(cast, facility, admission):
    """Something in every category of the home client, and an incident report naming them."""
    from observations.models import GroupAttendance
    from observations.services import level_order

    w = World(facility=facility, cast=cast, admission=admission)
    objects = mar_objects(cast, facility, admission)
    a_vitals_set(w)
    a_withdrawal_protocol(w)
    a_withdrawal_score(w)
    note = a_signed_note(w)
    a_behavior_note(w)
    a_high_cssrs_screen(w)
    GroupAttendance.objects.create(
        session=a_group_session(w), admission=admission, status="present",
        recorded_at=timezone.now(), recorded_by=cast["nurse"],
    )  # fmt: skip
    a_poc_result(w)
    a_breath_result(w)
    level_order(actor=cast["clinician"], admission=admission, level="q30", reason="Settled in")
    rounds(w, 30)
    an_incident(w)
    return {"w": w, "note": note, **objects}


def render(key, client):
    category = registry.record_category(key)
    day = timezone.localtime(timezone.now(), client.facility.tz).date()
    start, end = disclosures.period_bounds(client, day - timedelta(days=1), day)
    with CaptureQueriesContext(connection) as queries, timezone.override(client.facility.tz):
        context = category.render(client=client, start=start, end=end)
        html = render_to_string(category.template, context)
    return html, len(queries)


def test_the_categories_and_their_labels():
    keys = [c.key for c in registry.record_categories]
    for key in QUERIES:
        assert key in keys
    labels = {c.key: c.label for c in registry.record_categories}
    assert labels["medications"] == "Medications and administrations"
    assert not any("incident" in k or "transport" in k for k in keys)
    assert not any("incident" in c.label.lower() for c in registry.record_categories)


@pytest.mark.django_db
def test_each_category_renders_in_a_fixed_number_of_queries(full_chart, admission):
    client = admission.client
    seen = {}
    for key, expected in QUERIES.items():
        html, count = render(key, client)
        assert count == expected, f"{key}: {count} queries"
        seen[key] = html
    assert "Robin" in seen["demographics"] and "Penicillin" in seen["demographics"]
    assert "Ondansetron" in seen["medications"] and "Given" in seen["medications"]
    assert "CIWA-Ar" in seen["vitals"] and "80" in seen["vitals"]
    assert "Calm in group, joined the discussion." in seen["progress_notes"]
    assert "Calm in the day room." in seen["progress_notes"]
    assert "q30" in seen["observation"] and "Settled in" in seen["observation"]
    # One line per day, not one per check.
    assert seen["observation"].count("<tr>") <= 2 + 2 + 2
    assert "High risk" in seen["risk_screens"]
    assert "Present" in seen["groups"]
    assert "COC presumptive positive" in seen["drug_screens"]
    assert "0.000" in seen["drug_screens"]
    for html in seen.values():
        assert "Pushed a peer in the hallway." not in html


@pytest.mark.django_db
def test_more_rows_cost_no_more_queries(full_chart, admission):
    rounds(full_chart["w"], 0)
    before = {key: render(key, admission.client)[1] for key in QUERIES}
    from observations.models import NoteAddendum

    NoteAddendum.objects.create(
        note=full_chart["note"], author=full_chart["w"].cast["clinician"],
        text="Addendum: called family.", recorded_at=timezone.now(),
    )  # fmt: skip
    rounds(full_chart["w"], 40)
    html, _ = render("progress_notes", admission.client)
    assert "Addendum: called family." in html
    after = {key: render(key, admission.client)[1] for key in QUERIES}
    assert before == after


@pytest.mark.django_db
def test_struck_entries_are_shown_struck(full_chart, admission, cast):
    from observations.models import ProgressNote

    note = full_chart["note"]
    ProgressNote.objects.filter(pk=note.pk).update(
        struck_at=timezone.now(), struck_by=cast["clinician"], struck_reason="Wrong client"
    )
    html, _ = render("progress_notes", admission.client)
    assert "<s><strong>Behavior:</strong> Calm in group" in html
    assert "Entered in error" in html and "Wrong client" in html


@pytest.mark.django_db
def test_records_outside_the_period_stay_out(full_chart, admission):
    client = admission.client
    category = registry.record_category("progress_notes")
    day = timezone.localtime(timezone.now(), client.facility.tz).date()
    start, end = disclosures.period_bounds(
        client, day - timedelta(days=30), day - timedelta(days=2)
    )
    html = render_to_string(category.template, category.render(client=client, start=start, end=end))
    assert "Calm in group" not in html
