"""A PRN order with a structured hold (issue 11 review: "clonidine PRN for COWS, hold if
SBP < 90"): the PRN card and the give page show the hold and the vital it is judged on; a dose
is refused until the vital is taken (or one from the facility's maximum age is used); a met
rule says "hold it" and giving anyway needs a reason; the dose records the vital."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from medications.models import Administration
from medications.services import order_transcribe, order_verify
from observations.models import VitalSigns
from tests.medications.conftest import at

TEN = at(10, 0)


def prn_hold_order(stay, cast, nurse2, med):
    with time_machine.travel(at(6, 30), tick=False):
        order = order_transcribe(
            actor=cast["nurse"], admission=stay, medication=med, dose="0.1 mg",
            dose_units=Decimal("1"), route="oral", frequency="prn", times="",
            indication="Opioid withdrawal", prn_min_interval_minutes=240, prn_max_per_24h=4,
            start_at=at(6, 30), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
            hold_parameters="Hold if SBP < 90", holds=[("sbp", "lt", Decimal(90))],
        )  # fmt: skip
        order_verify(actor=nurse2, order=order)
    return order


def vitals(stay, user, taken_at, **values):
    return VitalSigns.objects.create(
        admission=stay, taken_at=taken_at, recorded_at=taken_at, recorded_by=user, **values
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def card(page: str, order) -> str:
    return page.split(f'id="prn-{order.public_id}"', 1)[1].split("</li>", 1)[0]


def give(client, user, order, **body):
    client.force_login(user)
    data = {"indication": "COWS 9", "pre_assessment": "restless, yawning", **body}
    return client.post(reverse("medications:prn_give", args=[order.public_id]), data)


@pytest.mark.django_db
def test_the_prn_card_shows_the_hold_and_the_recent_sbp_that_meets_it(
    client, cast, stay, clonidine, nurse2
):
    order = prn_hold_order(stay, cast, nurse2, clonidine)
    vitals(stay, cast["technician"], TEN - timedelta(minutes=10), sbp=85, dbp=50, hr=70)
    client.force_login(cast["nurse"])
    with time_machine.travel(TEN, tick=False):
        page = text(client.get(reverse("medications:med_pass", args=[stay.public_id])))
    prn = card(page, order)
    assert "Hold if SBP < 90" in prn
    assert 'name="hold_sbp" inputmode="decimal" maxlength="6" value="85"' in prn
    assert "85 from the 09:50 set" in prn
    assert "Hold parameter met: SBP 85 < 90. Hold it: do not give this dose." in prn
    assert 'name="hold_reason"' in prn and "Give anyway" in prn


@pytest.mark.django_db
def test_a_met_hold_refuses_the_dose_without_a_reason_and_nothing_is_charted(
    client, cast, stay, clonidine, nurse2
):
    order = prn_hold_order(stay, cast, nurse2, clonidine)
    vitals(stay, cast["technician"], TEN - timedelta(minutes=10), sbp=85, dbp=50, hr=70)
    with time_machine.travel(TEN, tick=False):
        response = give(client, cast["nurse"], order, hold_sbp="85")
    assert response.status_code == 400
    page = text(response)
    assert "Hold parameter met: SBP 85 < 90 meets the order's hold rule" in page
    assert "Held: not given" in page  # the way out: leave it held
    assert not Administration.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_given_anyway_with_a_reason_records_the_vital_and_the_rule(
    client, cast, stay, clonidine, nurse2
):
    order = prn_hold_order(stay, cast, nurse2, clonidine)
    taken = TEN - timedelta(minutes=10)
    vitals(stay, cast["technician"], taken, sbp=85, dbp=50, hr=70)
    with time_machine.travel(TEN, tick=False):
        response = give(
            client, cast["nurse"], order, hold_sbp="85", hold_reason="Prescriber said give"
        )
    assert response.status_code == 302
    admin = Administration.objects.get(order=order)
    assert admin.outcome == "given"
    assert (admin.hold_vital, admin.hold_vital_value) == ("sbp", Decimal("85"))
    assert (admin.hold_vital_taken_at, admin.hold_vital_entered) == (taken, False)
    assert admin.hold_parameter == "SBP 85 < 90"
    assert admin.reason == "Hold parameter met (SBP 85 < 90), given anyway: Prescriber said give"


@pytest.mark.django_db
def test_with_no_recent_sbp_the_give_page_asks_for_one_and_a_typed_value_is_recorded(
    client, cast, stay, clonidine, nurse2
):
    order = prn_hold_order(stay, cast, nurse2, clonidine)
    vitals(stay, cast["technician"], TEN - timedelta(hours=2), sbp=85, dbp=50, hr=70)
    client.force_login(cast["nurse"])
    with time_machine.travel(TEN, tick=False):
        page = text(client.get(reverse("medications:prn_give", args=[order.public_id])))
        assert "Hold if SBP < 90" in page
        assert "No reading in the last 60 minutes: take it and enter it." in page
        refused = give(client, cast["nurse"], order)
        assert refused.status_code == 400
        assert "Systolic BP: the order holds the dose if SBP < 90, and no reading was taken" in (
            text(refused)
        )
        assert give(client, cast["nurse"], order, hold_sbp="118").status_code == 302
    admin = Administration.objects.get(order=order)
    assert (admin.hold_vital_value, admin.hold_vital_entered, admin.reason) == (
        Decimal("118"), True, ""
    )  # fmt: skip
    assert admin.hold_vital_taken_at == TEN


@pytest.mark.django_db
def test_a_typed_value_meeting_the_rule_on_the_give_page_says_hold_it(
    client, cast, stay, clonidine, nurse2
):
    order = prn_hold_order(stay, cast, nurse2, clonidine)
    with time_machine.travel(TEN, tick=False):
        response = give(client, cast["nurse"], order, hold_sbp="84")
    assert response.status_code == 400
    page = text(response)
    assert "Hold parameter met: SBP 84 < 90. Hold it: do not give this dose." in page
    assert "Give anyway" in page
    assert not Administration.objects.filter(order=order).exists()
