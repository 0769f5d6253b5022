"""What a nurse may chart on a dose (issue 9): not a cancelled dose, not too soon without a
second nurse, not a refusal without saying whether the prescriber was told, not a hold without
its parameter; repeated refusals alert."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from facility.models import Alert
from medications.models import Administration, Ingredient, Medication, MedicationIngredient
from medications.services import (
    administration_record,
    order_discontinue,
    order_transcribe,
    order_verify,
)
from tests.conftest import PASSWORD, admit, make_user

NY = ZoneInfo("America/New_York")


def at(h, m=0, day=12):
    return datetime(2026, 5, day, h, m, tzinfo=NY)


@pytest.fixture
def clonidine(facility):
    return Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )


@pytest.fixture
def nurse2(facility):
    return make_user("nurse_two", "nurse", facility)


@pytest.fixture
def stay(cast, facility):
    with time_machine.travel(at(6, 5), tick=False):
        return admit(facility, cast["nurse"], admitted_at=at(6, 0))


def verified(stay, cast, nurse2, med, **overrides):
    fields = dict(
        dose="0.1 mg", dose_units=Decimal("1"), route="oral", frequency="bid",
        start_at=at(6, 30), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
    )  # fmt: skip
    fields.update(overrides)
    with time_machine.travel(at(6, 30), tick=False):
        order = order_transcribe(actor=cast["nurse"], admission=stay, medication=med, **fields)
        order_verify(actor=nurse2, order=order)
    return order


def dose_at(order, moment):
    return order.doses.get(scheduled_at=moment)


def post(client, user, dose, body):
    client.logout()
    client.force_login(user)
    url = reverse("medications:dose_document", args=[dose.public_id])
    return client.post(url, body, follow=True)


REFUSED_NOT_TOLD = {
    "prescriber_notified": "no",
    "prescriber_not_notified_reason": "Will report at morning rounds",
}


@pytest.mark.django_db
def test_discontinuing_cancels_a_due_dose_and_past_ones_and_none_can_be_given(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine)
    with time_machine.travel(at(21, 30), tick=False):
        order_discontinue(actor=cast["nurse"], order=order, reason="BP low")
        past, due = dose_at(order, at(9, 0)), dose_at(order, at(21, 0))
        assert past.__class__.objects.filter(order=order, cancelled_at__isnull=True).count() == 0
        with pytest.raises(ValidationError, match="cancelled"):
            administration_record(actor=cast["nurse"], dose=due, outcome="given")
        page = post(client, cast["nurse"], due, {"outcome": "given"}).content.decode()
    assert "cancelled when the order was discontinued" in page
    assert f'action="{reverse("medications:dose_document", args=[due.public_id])}"' not in page
    assert "Needs an outcome" not in page and "Cancelled" in page
    assert Administration.objects.count() == 0


@pytest.mark.django_db
def test_an_early_dose_needs_a_reason_and_a_second_nurse_and_the_screen_says_how_early(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine)
    dose = dose_at(order, at(21, 0))  # ±60: the window opens at 20:00
    with time_machine.travel(at(19, 14), tick=False):
        client.force_login(cast["nurse"])
        page = client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()
        assert "106 min before its time" in page and "Early: its window opens" in page
        refused = post(client, cast["nurse"], dose, {"outcome": "given", "reason": "Going out"})
        text = refused.content.decode()
        assert refused.status_code == 400
        assert "Second nurse: Too soon: 46 min before its window opens at 20:00." in text
        assert 'value="Going out"' in text  # what was typed is kept
        wrong = post(client, cast["nurse"], dose, {
            "outcome": "given", "reason": "Going out", "second_nurse": nurse2.username,
            "second_password": "not it",
        })  # fmt: skip
        assert wrong.status_code == 400
        assert Administration.objects.count() == 0
        post(client, cast["nurse"], dose, {
            "outcome": "given", "reason": "Leaving for court at 19:30",
            "second_nurse": nurse2.username, "second_password": PASSWORD,
        })  # fmt: skip
    admin = Administration.objects.get()
    assert (admin.timing, admin.override_by, admin.override_reason) == (
        "early", nurse2, "Leaving for court at 19:30"
    )  # fmt: skip


@pytest.mark.django_db
def test_a_dose_under_half_its_interval_after_a_shared_ingredient_needs_a_cosign(
    cast, stay, facility, nurse2
):
    apap = Ingredient.objects.create(facility=facility, name="acetaminophen")
    tylenol = Medication.objects.create(
        facility=facility, name="Acetaminophen", strength="325 mg", form="tablet", routes="oral"
    )
    norco = Medication.objects.create(
        facility=facility, name="Hydrocodone/acetaminophen", strength="5/325 mg", form="tablet",
        routes="oral",
    )  # fmt: skip
    for med in (tylenol, norco):
        MedicationIngredient.objects.create(medication=med, ingredient=apap, mg_per_unit=325)
    first = verified(stay, cast, nurse2, tylenol, frequency="daily", times="09:00")
    second = verified(stay, cast, nurse2, norco, frequency="daily", times="12:00")
    with time_machine.travel(at(9, 0), tick=False):
        administration_record(actor=cast["nurse"], dose=dose_at(first, at(9, 0)), outcome="given")
    with time_machine.travel(at(12, 0), tick=False):
        with pytest.raises(ValidationError) as info:
            administration_record(
                actor=cast["nurse"], dose=dose_at(second, at(12, 0)), outcome="given",
                reason="Pain 7/10",
            )  # fmt: skip
        assert "Acetaminophen was given at 09:00, less than 12 hours" in str(
            info.value.message_dict["override_by"]
        )
        admin = administration_record(
            actor=cast["nurse"], dose=dose_at(second, at(12, 0)), outcome="given",
            reason="Pain 7/10; prescriber aware", override_by=nurse2,
        )  # fmt: skip
    assert admin.override_by == nurse2 and admin.timing == "on_time"


@pytest.mark.django_db
def test_the_next_dose_of_one_order_five_minutes_after_the_last_needs_a_cosign(
    cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine, frequency="q4h")  # ±60, half interval 2 h
    with time_machine.travel(at(12, 59), tick=False):
        administration_record(
            actor=cast["nurse"], dose=dose_at(order, at(10, 0)), outcome="given",
            reason="Client was at court",
        )  # fmt: skip
    # 14:00's window opens at 13:00: 13:04 is on time by the window, but 5 minutes after the last.
    with time_machine.travel(at(13, 4), tick=False), pytest.raises(ValidationError) as info:
        administration_record(actor=cast["nurse"], dose=dose_at(order, at(14, 0)), outcome="given")
    assert set(info.value.message_dict) == {"reason", "override_by"}
    assert "Clonidine was given at 12:59, less than 2 hours" in str(info.value)


@pytest.mark.django_db
def test_a_refusal_says_whether_the_prescriber_was_told(client, cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    dose = dose_at(order, at(9, 0))
    with time_machine.travel(at(9, 10), tick=False):
        page = post(client, cast["nurse"], dose, {"outcome": "refused", "reason": "Nauseous"})
        assert "Prescriber notified: say yes or no." in page.content.decode()
        body = {"outcome": "refused", "reason": "Nauseous", "prescriber_notified": "yes"}
        text = post(client, cast["nurse"], dose, body).content.decode()
        assert "Prescriber notified: say who was told." in text
        assert "Prescriber notified: say when." in text
        body.update(
            prescriber_notified_name="Dr. Rivera", prescriber_notified_at="2026-05-12T09:05"
        )
        post(client, cast["nurse"], dose, body)
    admin = Administration.objects.get()
    assert (admin.prescriber_notified, admin.prescriber_notified_name) == ("yes", "Dr. Rivera")
    assert admin.prescriber_notified_at == at(9, 5)
    assert not Alert.objects.exists()  # one refusal of a routine dose alerts nobody


@pytest.mark.django_db
def test_two_refusals_in_a_row_alert_the_nurse_once(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    for moment in (at(9, 0), at(21, 0)):
        with time_machine.travel(moment, tick=False):
            administration_record(
                actor=cast["nurse"], dose=dose_at(order, moment), outcome="refused",
                reason="Says it makes her dizzy", **REFUSED_NOT_TOLD,
            )  # fmt: skip
    alert = Alert.objects.get()
    assert alert.kind == "dose_refused" and "refused twice in a row" in alert.message


@pytest.mark.django_db
def test_a_refused_time_critical_dose_alerts_at_once(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine, time_critical=True)
    with time_machine.travel(at(9, 0), tick=False):
        administration_record(
            actor=cast["nurse"], dose=dose_at(order, at(9, 0)), outcome="refused",
            reason="Asleep", **REFUSED_NOT_TOLD,
        )  # fmt: skip
    assert "time-critical dose refused" in Alert.objects.get(kind="dose_refused").message


@pytest.mark.django_db
def test_a_hold_records_the_parameter_met_prefilled_from_the_order(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine, hold_parameters="Hold if SBP < 100")
    dose = dose_at(order, at(9, 0))
    with time_machine.travel(at(9, 0), tick=False):
        client.force_login(cast["nurse"])
        page = client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()
        assert 'name="hold_parameter" maxlength="300" value="Hold if SBP &lt; 100"' in page
        body = {"outcome": "held", "reason": "BP 92/60", "hold_parameter": ""}
        text = post(client, cast["nurse"], dose, body).content.decode()
        assert "Hold parameter: say which parameter was met" in text
        post(client, cast["nurse"], dose, {**body, "hold_parameter": "SBP < 100"})
    assert Administration.objects.get().hold_parameter == "SBP < 100"
