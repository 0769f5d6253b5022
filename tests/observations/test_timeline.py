"""The chart timeline (issue 12 item 2): one stay's progress notes, rounds remarks, vitals flags
and MAR exceptions merged newest first, filtered by kind through the query string, struck
entries struck through with the reason, late entries marked; the chart shows the last 24 hours.
Each source reads a fixed number of queries, so the page's count does not grow with history."""

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility.registry import registry
from medications.models import ScheduledDose
from medications.services import administration_record, order_verify
from observations.models import RoundCode
from observations.services import RoundEntry, round_submit, vitals_record, vitals_strike
from observations.services.progress_notes import progress_note_sign, progress_note_start
from tests.conftest import make_user
from tests.facility.world import first_dose, ondansetron, other_drug, transcribe

MINE = ("note", "round", "vitals", "mar")


def page(response) -> str:
    return response.content.decode()


def url(admission, query: str = "") -> str:
    return reverse("observations:timeline", args=[admission.public_id]) + query


def a_note(actor, admission, text: str):
    note = progress_note_start(actor=actor, admission=admission)
    return progress_note_sign(
        actor=actor, note=note, sections={"behavior": text}, event_at=note.event_at,
        version=note.version,
    )  # fmt: skip


def a_remark(actor, admission, remark: str, *, concern: bool = False):
    codes = RoundCode.objects.filter(facility=admission.facility)
    round_submit(
        actor=actor, facility=admission.facility, submission_key=uuid.uuid4(),
        entries=[RoundEntry(admission, codes.get(kind="location", code="RM"),
                            codes.get(kind="status", code="A"), remark=remark,
                            safety_concern=concern)],
    )  # fmt: skip


def a_flagged_set(actor, admission, hr: int = 130):
    return vitals_record(
        actor=actor, admission=admission, taken_at=timezone.now(), values={"hr": hr}
    )


def a_refused_dose(cast, admission, name: str):
    """A verified order of a new drug whose first dose (due in 10 minutes) the client refused."""
    med = ondansetron(admission.facility) if name == "Ondansetron" else other_drug(
        admission.facility, name
    )  # fmt: skip
    second = cast.get("second_nurse") or make_user("second_nurse", "nurse", admission.facility)
    cast["second_nurse"] = second
    order = transcribe(cast["nurse"], admission, med)
    order_verify(actor=second, order=order)
    return administration_record(
        actor=cast["nurse"], dose=first_dose(order), outcome="refused", reason="Felt nauseous",
        prescriber_notified="no", prescriber_not_notified_reason="Report at rounds",
    )  # fmt: skip


def one_of_each(cast, admission, start, *, n: int = 1, drug: str = "Drug") -> None:
    """`n` entries of each of this app's kinds and of the MAR's, 10 minutes apart from `start`."""
    for i in range(n):
        with time_machine.travel(start + timedelta(minutes=10 * i), tick=False):
            a_note(cast["technician"], admission, f"Note number {i}")
            a_remark(cast["technician"], admission, f"Remark number {i}")
            a_flagged_set(cast["nurse"], admission)
            a_refused_dose(cast, admission, f"{drug}{i}")


@pytest.mark.django_db
def test_the_timeline_merges_every_source_newest_first(client, cast, facility, admission):
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=50), tick=False):
        a_remark(cast["technician"], admission, "Pacing near the exit", concern=True)
    with time_machine.travel(now - timedelta(minutes=40), tick=False):
        a_flagged_set(cast["nurse"], admission)
    with time_machine.travel(now - timedelta(minutes=30), tick=False):
        a_refused_dose(cast, admission, "Ondansetron")
    with time_machine.travel(now - timedelta(minutes=20), tick=False):
        a_note(cast["technician"], admission, "Calmer after talking with staff")
    # A quiet check without a remark, and an unflagged set, are not on the timeline.
    a_remark(cast["technician"], admission, "")
    a_flagged_set(cast["nurse"], admission, hr=72)
    client.force_login(cast["clinician"])
    shown = page(client.get(url(admission)))
    order = [
        "Calmer after talking with staff",
        "Refused: Ondansetron",
        "Vitals flagged",
        "Pacing near the exit",
    ]
    positions = [shown.index(text) for text in order]
    assert positions == sorted(positions), positions
    assert "safety concern" in shown and "Heart rate 130 bpm (notify" in shown
    assert "Felt nauseous" in shown and "awaiting co-signature" in shown
    assert shown.count('class="tl-entry') == 4
    for label in ("Progress notes", "Rounds remarks", "Vitals flags", "MAR exceptions"):
        assert label in shown  # the filter's chips


@pytest.mark.django_db
def test_the_timeline_is_filtered_by_kind_from_the_query_string(client, cast, admission):
    one_of_each(cast, admission, timezone.now() - timedelta(minutes=30))
    client.force_login(cast["nurse"])
    shown = page(client.get(url(admission, "?kind=note&kind=vitals")))
    assert "Note number 0" in shown and "Vitals flagged" in shown
    assert "Remark number 0" not in shown and "Refused: Drug0" not in shown
    assert shown.count('class="tl-entry') == 2
    assert re.search(r'value="note" id="id_kind_\d+" checked', shown)
    assert not re.search(r'value="round" id="id_kind_\d+" checked', shown)
    only_mar = page(client.get(url(admission, "?kind=mar")))
    assert "Refused: Drug0" in only_mar and "Note number 0" not in only_mar
    assert only_mar.count('class="tl-entry') == 1


@pytest.mark.django_db
def test_a_kind_or_period_not_offered_is_refused_with_a_message(client, cast, admission):
    client.force_login(cast["nurse"])
    response = client.get(url(admission, "?kind=gossip"))
    assert response.status_code == 400
    assert "Show: choose from the kinds listed." in page(response)
    response = client.get(url(admission, "?period=forever"))
    assert "Period: choose the whole stay, 24 hours, 7 or 30 days." in page(response)


@pytest.mark.django_db
def test_struck_entries_stay_struck_through_with_reason_who_and_when(client, cast, admission):
    vitals = a_flagged_set(cast["nurse"], admission)
    vitals_strike(actor=cast["nurse"], vitals=vitals, reason="Wrong client's monitor")
    client.force_login(cast["clinician"])
    shown = page(client.get(url(admission)))
    assert "tl-struck" in shown and "entered in error" in shown
    assert "Entered in error: Wrong client&#x27;s monitor — " + cast["nurse"].signature in shown


@pytest.mark.django_db
def test_a_missed_dose_nobody_documented_is_on_the_timeline(client, cast, admission):
    refused = a_refused_dose(cast, admission, "Ondansetron")
    order = transcribe(cast["nurse"], admission, other_drug(admission.facility, "Famotidine"))
    order_verify(actor=cast["second_nurse"], order=order)
    dose = first_dose(order)
    with time_machine.travel(dose.scheduled_at + timedelta(hours=3), tick=False):
        ScheduledDose.objects.filter(pk=dose.pk).update(marked_missed_at=timezone.now())
        client.force_login(cast["nurse"])
        shown = page(client.get(url(admission, "?kind=mar")))
    assert "Missed: Famotidine" in shown and "not documented" in shown
    assert "Refused: Ondansetron" in shown and refused.reason in shown


@pytest.mark.django_db
def test_the_chart_shows_the_last_24_hours_and_the_page_the_whole_stay(client, cast, facility):
    from tests.conftest import admit

    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=40), tick=False):
        admission = admit(facility, cast["nurse"], first="Long", last="Stay")
    with time_machine.travel(now - timedelta(hours=30), tick=False):
        a_note(cast["nurse"], admission, "Yesterday's note")
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        a_note(cast["nurse"], admission, "This morning's note")
    client.force_login(cast["technician"])
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "Notes and timeline (last 24 hours)" in chart
    assert "This morning&#x27;s note" in chart and "Yesterday&#x27;s note" not in chart
    whole = page(client.get(url(admission)))
    assert "This morning&#x27;s note" in whole and "Yesterday&#x27;s note" in whole
    last_day = page(client.get(url(admission, "?period=24h")))
    assert "Yesterday&#x27;s note" not in last_day


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_timeline_reads_a_fixed_number_of_queries_whatever_the_history(
    client, cast, facility, admission, django_assert_max_num_queries
):
    from tests.conftest import admit

    start = timezone.now() - timedelta(minutes=50)
    one_of_each(cast, admission, start, n=1)
    busy = admit(facility, cast["nurse"], n=3, first="Busy", last="Client")
    one_of_each(cast, busy, start, n=4, drug="Busydrug")
    client.force_login(cast["nurse"])
    mine = "?" + "&".join(f"kind={k}" for k in MINE)
    client.get(url(admission, mine))  # the session's first page reads a few things once
    quiet_count = queries_for(client, url(admission, mine))
    busy_count = queries_for(client, url(busy, mine))
    assert quiet_count == busy_count
    # Session, user, facility, permissions (2), the stay, the audit row (lock, last hash,
    # insert), then note (2: notes, addenda), round (1), vitals (1), MAR (2: exceptions,
    # undocumented missed doses) and the identity band's allergies.
    with django_assert_max_num_queries(18):
        shown = page(client.get(url(busy, mine)))
    assert shown.count('class="tl-entry') == 16
    # Every registered source, whichever apps add them, the same count with 1 or 4 of each.
    assert queries_for(client, url(admission)) == queries_for(client, url(busy))


def test_observations_and_medications_register_their_sources():
    assert {"note", "round", "vitals", "mar"} <= set(registry.timeline_sources)
