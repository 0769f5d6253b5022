"""What a nurse may chart on a dose (issue 9): not a cancelled dose, not too soon without a
second nurse, not a refusal without saying whether the prescriber was told, not a hold without
its parameter; repeated refusals alert."""

from decimal import Decimal

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
from tests.conftest import PASSWORD
from tests.medications.conftest import at


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


def item(page: str, dose) -> str:
    """One dose's item on the med pass."""
    return page.split(f'id="dose-{dose.public_id}"', 1)[1].split("</li>", 1)[0]


@pytest.mark.django_db
def test_discontinuing_cancels_a_due_dose_but_a_missed_one_still_needs_an_outcome(
    client, cast, stay, clonidine, nurse2
):
    # Issue 9 review changed this test: discontinuing used to cancel the missed 09:00 dose too,
    # and it left "Needs an outcome" undocumented.
    order = verified(stay, cast, nurse2, clonidine)
    past, due = dose_at(order, at(9, 0)), dose_at(order, at(21, 0))
    with time_machine.travel(at(21, 30), tick=False):
        order_discontinue(actor=cast["nurse"], order=order, reason="BP low")
        past.refresh_from_db()
        due.refresh_from_db()
        assert past.cancelled_at is None and due.cancelled_at == at(21, 30)
        with pytest.raises(ValidationError, match="cancelled"):
            administration_record(actor=cast["nurse"], dose=due, outcome="given")
        page = post(client, cast["nurse"], due, {"outcome": "given"}).content.decode()
        assert "cancelled when the order was discontinued" in page
        assert f'action="{reverse("medications:dose_document", args=[due.public_id])}"' not in page
        assert "Cancelled" in item(page, due)
        needs = page.split("<h2>Needs an outcome</h2>", 1)[1].split("<h2>Doses now and next</h2>")[
            0
        ]
        assert f'id="dose-{past.public_id}"' in needs and "Missed" in item(page, past)
        assert Administration.objects.count() == 0
        post(client, cast["nurse"], past, {
            "outcome": "not_given", "reason": "Client was at court all day",
        })  # fmt: skip
    assert Administration.objects.get().dose == past


@pytest.mark.django_db
def test_discontinuing_cancels_a_dose_in_its_window_or_ahead_not_a_late_one(
    cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine, frequency="q4h")  # 10, 14, 18, 22 (±60)
    with time_machine.travel(at(15, 0), tick=False):  # 14:00 due to 15:00, 10:00 missed
        order_discontinue(actor=cast["nurse"], order=order, reason="Changed to PRN")
    cancelled = set(order.doses.filter(cancelled_at__isnull=False).values_list(
        "scheduled_at", flat=True))  # fmt: skip
    assert at(14, 0) in cancelled and at(18, 0) in cancelled and at(10, 0) not in cancelled


@pytest.mark.django_db
def test_a_dose_given_before_the_discontinuation_can_still_be_charted_and_a_replacement_waits(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine, times="09:00,21:00")
    old = dose_at(order, at(9, 0))
    with time_machine.travel(at(9, 10), tick=False):
        order_discontinue(actor=cast["nurse"], order=order, reason="Dose change")
    with time_machine.travel(at(9, 12), tick=False):
        new = order_transcribe(
            actor=cast["nurse"], admission=stay, medication=clonidine, dose="0.2 mg",
            dose_units=Decimal("2"), route="oral", frequency="bid", times="09:00,21:00",
            start_at=at(9, 12), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
        )  # fmt: skip
        order_verify(actor=nurse2, order=new)
    with time_machine.travel(at(9, 15), tick=False):
        page = post(client, cast["nurse"], old, {
            "outcome": "given", "given_at": "2026-05-12T09:00",
        }).content.decode()  # fmt: skip
        assert Administration.objects.get(dose=old).given_at == at(9, 0)
        assert "Given" in item(page, old) and "Cancelled" not in item(page, old)
        # The replacement's 09:00 dose, 20 minutes after the old order's: too soon.
        refused = post(client, cast["nurse"], dose_at(new, at(9, 0)), {"outcome": "given"})
    assert refused.status_code == 400
    assert "Clonidine was given at 09:00" in refused.content.decode()
    assert Administration.objects.count() == 1
    with time_machine.travel(at(9, 20), tick=False), pytest.raises(ValidationError, match="cancel"):
        administration_record(  # given after the discontinuation: still refused
            actor=cast["nurse"], dose=old, outcome="given", given_at=at(9, 11)
        )


@pytest.mark.django_db
def test_a_dose_given_before_the_order_was_verified_is_refused(
    client, cast, stay, clonidine, nurse2
):
    with time_machine.travel(at(10, 0), tick=False):
        order = order_transcribe(
            actor=cast["nurse"], admission=stay, medication=clonidine, dose="0.1 mg",
            dose_units=Decimal("1"), route="oral", frequency="daily", times="09:00",
            start_at=at(8, 0), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
        )  # fmt: skip
    with time_machine.travel(at(10, 30), tick=False):
        order_verify(actor=nurse2, order=order)
    dose = dose_at(order, at(9, 0))  # the first dose: give by 11:30
    with time_machine.travel(at(10, 45), tick=False):
        page = post(client, cast["nurse"], dose, {
            "outcome": "given", "given_at": "2026-05-12T10:20",
        })  # fmt: skip
        assert page.status_code == 400
        assert "Given at: before the order was verified or released (10:30)." in (
            page.content.decode()
        )
        assert Administration.objects.count() == 0
        post(client, cast["nurse"], dose, {"outcome": "given", "given_at": "2026-05-12T10:40"})
    assert Administration.objects.get().given_at == at(10, 40)


@pytest.mark.django_db
def test_charting_a_dose_resolves_its_late_and_missed_alerts_not_the_supervisors(
    client, cast, stay, clonidine, nurse2
):
    from medications.services import scan_doses

    order = verified(stay, cast, nurse2, clonidine, time_critical=True)  # 09:00 ±30
    late, missed = dose_at(order, at(9, 0)), dose_at(order, at(21, 0))
    with time_machine.travel(at(9, 45), tick=False):
        scan_doses()
        assert Alert.objects.open().filter(kind="dose_late").count() == 1
        post(client, cast["nurse"], late, {"outcome": "given", "reason": "Client was in group"})
    assert not Alert.objects.open().filter(kind="dose_late").exists()
    assert Alert.objects.get(kind="dose_late").resolution_note == "Dose charted: given."
    with time_machine.travel(at(23, 50), tick=False):
        scan_doses()
        assert Alert.objects.open().filter(kind="dose_missed").count() == 1
        post(client, cast["nurse"], missed, {"outcome": "not_given", "reason": "Asleep"})
    assert not Alert.objects.open().filter(kind="dose_missed").exists()
    assert Alert.objects.open().filter(kind="dose_missed_critical").count() == 1


@pytest.mark.django_db
def test_uneven_times_judge_too_soon_by_the_actual_gap(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine, frequency="times", times="08:00,12:00,20:00")
    with time_machine.travel(at(8, 0), tick=False):
        administration_record(actor=cast["nurse"], dose=dose_at(order, at(8, 0)), outcome="given")
    # 11:30 is on time for 12:00 (±60) and 3.5 hours after 08:00: more than half the 4-hour gap.
    with time_machine.travel(at(11, 30), tick=False):
        admin = administration_record(
            actor=cast["nurse"], dose=dose_at(order, at(12, 0)), outcome="given"
        )
    assert admin.override_by is None
    # 20:00's gaps are 8 hours back and 12 ahead: a dose at 19:00 is 7.5 hours after 11:30.
    with time_machine.travel(at(19, 0), tick=False):
        administration_record(actor=cast["nurse"], dose=dose_at(order, at(20, 0)), outcome="given")
    # A day later: 08:00 given late at 09:30, then 12:00 at 11:00 is under half the 4 hours.
    with time_machine.travel(at(9, 30, day=13), tick=False):
        administration_record(
            actor=cast["nurse"], dose=dose_at(order, at(8, 0, day=13)), outcome="given",
            reason="Client was asleep",
        )  # fmt: skip
    with time_machine.travel(at(11, 0, day=13), tick=False), pytest.raises(ValidationError) as info:
        administration_record(
            actor=cast["nurse"], dose=dose_at(order, at(12, 0, day=13)), outcome="given"
        )
    assert "Clonidine was given at 09:30, less than 2 hours" in str(info.value)


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
def test_a_hold_shows_the_orders_rule_and_asks_for_the_value_met(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine, hold_parameters="Hold if SBP < 100")
    dose = dose_at(order, at(9, 0))
    with time_machine.travel(at(9, 0), tick=False):
        client.force_login(cast["nurse"])
        page = client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()
        card = item(page, dose)
        assert "The order's hold rule: Hold if SBP &lt; 100" in card
        assert 'name="hold_parameter" maxlength="300" placeholder="e.g. SBP 94" value=""' in card
        body = {"outcome": "held", "reason": "BP 92/60", "hold_parameter": ""}
        text = post(client, cast["nurse"], dose, body).content.decode()
        assert "Hold parameter: record the value that met the hold rule" in text
        assert '<details class="dose-more" open><summary>Held' in item(text, dose)
        text = post(client, cast["nurse"], dose, {**body, "hold_parameter": "SBP 94"})
    assert Administration.objects.get().hold_parameter == "SBP 94"
    assert "Hold parameter met: SBP 94" in item(text.content.decode(), dose)


@pytest.mark.django_db
def test_a_refusal_is_told_every_missing_field_at_once_and_keeps_what_was_typed(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine)
    dose = dose_at(order, at(9, 0))
    with time_machine.travel(at(9, 10), tick=False):
        body = {"outcome": "refused", "reason": "", "prescriber_notified": "yes",
                "prescriber_notified_name": "Dr. Rivera"}  # fmt: skip
        card = item(post(client, cast["nurse"], dose, body).content.decode(), dose)
        assert "Reason: say why the dose was refused." in card
        assert "Prescriber notified: say when." in card
        assert '<details class="dose-more" open><summary>Refused' in card
        assert 'value="Dr. Rivera"' in card
        with pytest.raises(ValidationError) as refused:
            administration_record(actor=cast["nurse"], dose=dose, outcome="refused",
                                  prescriber_notified="")  # fmt: skip
        assert set(refused.value.message_dict) == {"reason", "prescriber_notified"}
        body.update(reason="Nauseous", prescriber_notified_at="2026-05-12T09:05")
        page = post(client, cast["nurse"], dose, body).content.decode()
    assert "Prescriber notified: Dr. Rivera at 05-12 09:05" in item(page, dose)


@pytest.mark.django_db
def test_an_early_dose_shows_its_reason_and_second_nurse_once_charted(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine)
    dose = dose_at(order, at(9, 0))
    with time_machine.travel(at(7, 30), tick=False):
        page = post(client, cast["nurse"], dose, {
            "outcome": "given", "reason": "Leaving early for court",
            "second_nurse": nurse2.username, "second_password": PASSWORD,
        }).content.decode()  # fmt: skip
    assert Administration.objects.get().override_by == nurse2
    assert f"Given early: Leaving early for court · co-signed by {nurse2.signature}" in item(
        page, dose
    )
