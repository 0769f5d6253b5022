"""Score-triggered PRN (issue 11 item 6): "give chlordiazepoxide 25 mg if CIWA-Ar ≥ 10". The med
pass shows it indicated when the latest score, still current, reaches the trigger; the dose
records the score it relied on; a dose the score does not indicate needs the nurse's reason."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility.registry import ScoreTrigger, score_triggers_for
from medications.models import Administration, Medication, Order
from medications.services import order_transcribe, order_verify, prn_give
from medications.triggers import NO_DUE_AT_CURRENT_FOR, trigger_status
from observations.models import ScaleAssessment, WithdrawalProtocol
from tests.conftest import admit
from tests.medications.conftest import at

SCORED = at(9, 5)


@pytest.fixture
def librium(facility):
    return Medication.objects.create(
        facility=facility, name="Chlordiazepoxide", strength="25 mg", form="capsule",
        routes="oral",
    )  # fmt: skip


def prn_order(stay, cast, nurse2, med, *, verify=True, **overrides):
    fields = dict(
        dose="25 mg", dose_units=Decimal("1"), route="oral", frequency="prn",
        start_at=at(6, 30), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
        indication="Alcohol withdrawal", prn_min_interval_minutes=60, prn_max_per_24h=6,
        prn_trigger_scale="ciwa_ar", prn_trigger_min_score=10,
    )  # fmt: skip
    fields.update(overrides)
    with time_machine.travel(at(6, 30), tick=False):
        order = order_transcribe(actor=cast["nurse"], admission=stay, medication=med, **fields)
        if verify:
            order_verify(actor=nurse2, order=order)
    return order


def score(stay, nurse, total, assessed_at=SCORED, scale="ciwa_ar"):
    """A CIWA-Ar under a protocol (4-hourly, hourly from 8): a total of 12 is due again an hour
    later, a 6 four hours later."""
    protocol, _ = WithdrawalProtocol.objects.get_or_create(
        admission=stay, scale=scale, ended_at=None,
        defaults={"started_at": at(6, 30), "ordered_by": nurse, "reason": "Alcohol withdrawal"},
    )  # fmt: skip
    return ScaleAssessment.objects.create(
        admission=stay, protocol=protocol, scale=scale, items={}, total=total,
        band="mild" if total >= 8 else "minimal", assessed_at=assessed_at,
        recorded_at=assessed_at, recorded_by=nurse,
    )  # fmt: skip


def text(response) -> str:
    return html.unescape(response.content.decode())


def prn_row(page: str, order) -> str:
    return page.split(f'id="prn-{order.public_id}"', 1)[1].split("</li>", 1)[0]


def med_pass(client, user, stay) -> str:
    client.force_login(user)
    response = client.get(reverse("medications:med_pass", args=[stay.public_id]))
    assert response.status_code == 200
    return text(response)


def give(client, user, order, **extra):
    client.force_login(user)
    body = {"indication": "Alcohol withdrawal", "pre_assessment": "Tremor, sweating"}
    body.update(extra)
    return client.post(reverse("medications:prn_give", args=[order.public_id]), body)


@pytest.mark.django_db
def test_a_ciwa_of_12_indicates_the_prn_and_the_dose_records_the_score(
    client, cast, stay, librium, nurse2
):
    order = prn_order(stay, cast, nurse2, librium)
    assessment = score(stay, cast["nurse"], 12)
    with time_machine.travel(at(9, 20), tick=False):
        row = prn_row(med_pass(client, cast["nurse"], stay), order)
        assert "Give if CIWA-Ar ≥ 10" in row
        assert "indicated: CIWA-Ar 12 ≥ 10 at 09:05" in row
        assert 'value="CIWA-Ar 12 at 09:05"' in row  # the pre-dose assessment, pre-filled
        assert 'name="trigger_reason"' not in row
        response = give(client, cast["nurse"], order, pre_assessment="CIWA-Ar 12 at 09:05")
    assert response.status_code == 302
    admin = Administration.objects.get(order=order)
    assert (admin.trigger_scale, admin.trigger_score) == ("ciwa_ar", 12)
    assert admin.trigger_assessed_at == SCORED
    assert admin.trigger_assessment_id == assessment.public_id
    assert admin.reason == ""


@pytest.mark.django_db
def test_a_score_older_than_its_due_time_is_not_current(client, cast, stay, librium, nurse2):
    order = prn_order(stay, cast, nurse2, librium)
    score(stay, cast["nurse"], 12)  # due again at 10:05
    with time_machine.travel(at(10, 5), tick=False):
        assert "indicated: CIWA-Ar 12 ≥ 10 at 09:05" in prn_row(
            med_pass(client, cast["nurse"], stay), order
        )
    with time_machine.travel(at(10, 6), tick=False):
        row = prn_row(med_pass(client, cast["nurse"], stay), order)
        assert "no current score — assess first" in row
        # The nurse may score it from here.
        scoring = reverse("observations:withdrawal_score", args=[stay.public_id, "ciwa_ar"])
        assert f'href="{scoring}"' in row
        refused = give(client, cast["nurse"], order)
        assert refused.status_code == 400
        assert "No current CIWA-Ar score: assess first, or say why it is given without one." in (
            text(refused)
        )
        assert not Administration.objects.exists()
        ok = give(client, cast["nurse"], order, trigger_reason="Seizure history, shaking now")
    assert ok.status_code == 302
    admin = Administration.objects.get(order=order)
    assert admin.trigger_score is None and admin.trigger_assessment_id is None
    assert admin.reason == (
        "Not indicated (no current CIWA-Ar score; trigger CIWA-Ar ≥ 10), given: "
        "Seizure history, shaking now"
    )


@pytest.mark.django_db
def test_giving_a_prn_the_score_does_not_indicate_needs_a_reason_and_records_the_score(
    client, cast, stay, librium, nurse2
):
    order = prn_order(stay, cast, nurse2, librium)
    assessment = score(stay, cast["nurse"], 6)
    with time_machine.travel(at(9, 20), tick=False):
        row = prn_row(med_pass(client, cast["nurse"], stay), order)
        assert "not indicated (CIWA-Ar 6)" in row
        assert 'name="trigger_reason"' in row
        refused = give(client, cast["nurse"], order)
        assert refused.status_code == 400
        assert (
            "Not indicated: CIWA-Ar 6 is below the trigger (CIWA-Ar ≥ 10); say why it is given."
            in text(refused)
        )
        assert not Administration.objects.exists()
        ok = give(client, cast["nurse"], order, trigger_reason="Client asks, anxious")
    assert ok.status_code == 302
    admin = Administration.objects.get(order=order)
    assert (admin.trigger_score, admin.trigger_assessment_id) == (6, assessment.public_id)
    assert admin.reason == (
        "Not indicated (CIWA-Ar 6; trigger CIWA-Ar ≥ 10), given: Client asks, anxious"
    )


@pytest.mark.django_db
def test_a_struck_score_is_not_relied_on(cast, stay, librium, nurse2):
    order = prn_order(stay, cast, nurse2, librium)
    score(stay, cast["nurse"], 6, assessed_at=at(8, 0))
    wrong = score(stay, cast["nurse"], 14)
    ScaleAssessment.objects.filter(pk=wrong.pk).update(
        struck_at=at(9, 10), struck_by=cast["nurse"], struck_reason="Wrong client"
    )
    with time_machine.travel(at(9, 20), tick=False), pytest.raises(ValidationError) as info:
        prn_give(actor=cast["nurse"], order=order, indication="CIWA", pre_assessment="CIWA")
    assert "CIWA-Ar 6 is below the trigger" in info.value.message_dict["trigger_reason"][0]


def test_a_score_with_no_due_time_is_current_for_four_hours():
    taken = at(9, 0)
    for minutes, state in [(0, "indicated"), (240, "indicated"), (241, "no_score")]:
        status = trigger_status(
            "cows", 8, score=9, taken_at=taken, due_at=None, at=taken + timedelta(minutes=minutes)
        )
        assert status.state == state, minutes
    assert timedelta(hours=4) == NO_DUE_AT_CURRENT_FOR
    # At the trigger is indicated; a score taken after the moment asked about is not current.
    assert trigger_status("cows", 9, score=9, taken_at=taken, due_at=None, at=taken).indicated
    assert not trigger_status(
        "cows", 9, score=9, taken_at=taken, due_at=None, at=taken - timedelta(minutes=1)
    ).indicated


# ---------------------------------------------------------------- the order form


def order_body(med, **extra) -> dict:
    body = {
        "medication": med.pk, "dose": "25 mg", "dose_units": "1", "route": "oral",
        "frequency": "prn", "times": "", "start_at": "2026-05-12T07:00", "stop_at": "",
        "indication": "Alcohol withdrawal", "prn_min_interval_minutes": "60",
        "prn_max_per_24h": "6", "prescriber_name": "Dr. Rivera", "prescriber_credentials": "MD",
    }  # fmt: skip
    body.update(extra)
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra, field, message",
    [
        ({"frequency": "bid", "prn_trigger_scale": "ciwa_ar", "prn_trigger_min_score": "10"},
         "prn_trigger_scale", "Score trigger: only a PRN order is given on a score; choose the "
         "frequency “PRN” or leave the trigger empty."),
        ({"prn_trigger_scale": "cows", "prn_trigger_min_score": "49"},
         "prn_trigger_min_score", "Minimum score: COWS runs from 0 to 48."),
        ({"prn_trigger_scale": "ciwa_ar", "prn_trigger_min_score": "68"},
         "prn_trigger_min_score", "Minimum score: CIWA-Ar runs to 67, COWS to 48."),
        ({"prn_trigger_scale": "ciwa_ar", "prn_trigger_min_score": "-1"},
         "prn_trigger_min_score", "Minimum score: 0 or more."),
        ({"prn_trigger_scale": "ciwa_ar"}, "prn_trigger_min_score",
         "Minimum score: give the score that triggers the dose (0–67)."),
        ({"prn_trigger_min_score": "10"}, "prn_trigger_scale",
         "Score trigger: choose CIWA-Ar or COWS."),
        ({"prn_trigger_scale": "audit", "prn_trigger_min_score": "10"}, "prn_trigger_scale",
         "Score trigger: choose CIWA-Ar or COWS."),
    ],
)  # fmt: skip
def test_the_order_form_refuses_a_bad_trigger_on_its_field(
    client, cast, stay, librium, extra, field, message
):
    client.force_login(cast["nurse"])
    with time_machine.travel(at(7, 0), tick=False):
        response = client.post(
            reverse("medications:order_new", args=[stay.public_id]), order_body(librium, **extra)
        )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in text(response)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_trigger_on_a_scheduled_order(cast, stay, librium, nurse2):
    with pytest.raises(ValidationError) as info:
        prn_order(stay, cast, nurse2, librium, frequency="bid")
    assert info.value.message_dict["prn_trigger_scale"] == [
        "Score trigger: only a PRN order is given on a score."
    ]


@pytest.mark.django_db
def test_the_order_form_saves_a_trigger_and_verification_shows_it(client, cast, stay, librium):
    client.force_login(cast["nurse"])
    with time_machine.travel(at(7, 0), tick=False):
        response = client.post(
            reverse("medications:order_new", args=[stay.public_id]),
            order_body(librium, prn_trigger_scale="cows", prn_trigger_min_score="13"),
        )
        assert response.status_code == 302, text(response)
        assert "give if COWS ≥ 13" in text(client.get(response["Location"]))
    order = Order.objects.get()
    assert (order.prn_trigger_scale, order.prn_trigger_min_score) == ("cows", 13)


# ---------------------------------------------------------------- the withdrawal board's source


@pytest.mark.django_db
def test_the_registry_lists_active_verified_triggered_prn_orders_in_one_query(
    cast, facility, stay, librium, nurse2
):
    order = prn_order(stay, cast, nurse2, librium)
    prn_order(stay, cast, nurse2, librium, verify=False)  # awaiting its second check
    prn_order(stay, cast, nurse2, librium, prn_trigger_scale="", prn_trigger_min_score=None)
    with time_machine.travel(at(6, 10), tick=False):
        others = [admit(facility, cast["nurse"], n=n) for n in range(2, 5)]
    for other in others:
        prn_order(other, cast, nurse2, librium, prn_trigger_scale="cows", prn_trigger_min_score=8)
    ids = [stay.pk, *(o.pk for o in others)]
    with CaptureQueriesContext(connection) as queries:
        found = score_triggers_for(ids, at=at(9, 0))
    mine = [q for q in queries.captured_queries if "medications_order" in q["sql"]]
    assert len(mine) == 1
    href = reverse("medications:med_pass", args=[stay.public_id]) + f"#prn-{order.public_id}"
    assert found[stay.pk] == [
        ScoreTrigger(
            scale="ciwa_ar", min_score=10,
            label="Chlordiazepoxide 25 mg — 25 mg Oral (PO) PRN if CIWA-Ar ≥ 10", href=href,
        )
    ]  # fmt: skip
    assert [t.min_score for o in others for t in found[o.pk]] == [8, 8, 8]
    # Discontinued: no longer listed.
    from medications.services import order_discontinue

    with time_machine.travel(at(8, 0), tick=False):
        order_discontinue(actor=cast["nurse"], order=order, reason="Protocol ended")
    assert stay.pk not in score_triggers_for([stay.pk], at=at(9, 0))


@pytest.mark.django_db
def test_the_med_pass_shows_triggers_without_a_query_per_prn_order(
    client, cast, stay, librium, nurse2
):
    """The scores are read once for the page; each PRN order's limits (prn_check) cost what they
    cost before issue 11, so the page with triggers costs the same as without."""
    score(stay, cast["nurse"], 12)
    for _ in range(3):
        prn_order(stay, cast, nurse2, librium, prn_trigger_scale="", prn_trigger_min_score=None)
    url = reverse("medications:med_pass", args=[stay.public_id])
    client.force_login(cast["nurse"])
    with time_machine.travel(at(9, 20), tick=False):
        client.get(url)
        with CaptureQueriesContext(connection) as plain:
            client.get(url)
    Order.objects.update(prn_trigger_scale="ciwa_ar", prn_trigger_min_score=10)
    with time_machine.travel(at(9, 20), tick=False), CaptureQueriesContext(connection) as late:
        page = text(client.get(url))
    assert page.count("indicated: CIWA-Ar 12 ≥ 10 at 09:05") == 3
    assert len(late) == len(plain), [q["sql"] for q in late.captured_queries]
