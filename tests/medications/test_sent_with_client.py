"""A dose sent with a client on a trip or to an appointment (issue 14 item 3, specs/transport.md):
charted on the MAR as "sent with client", never as given. It needs a note of what was sent and
with whom, counts for the dose-safety checks from when it was sent (never as given), shows with
its own label, and for a
controlled medication comes off the count as the tablet leaves the cabinet."""

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from medications.chart import _mar_timeline
from medications.models import (
    Administration,
    ControlledStock,
    Ingredient,
    Medication,
    MedicationIngredient,
    MovementKind,
    StockMovement,
)
from medications.services import (
    administration_record,
    administration_strike,
    order_transcribe,
    order_verify,
    prn_check,
    stock_receive,
)
from tests.medications.conftest import at

pytestmark = pytest.mark.django_db

NOTE = "1 tab handed to escort J. Doe for the dentist"
SENT_AT = at(8, 50)


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


def prn_of(stay, cast, nurse2, med):
    return verified(
        stay, cast, nurse2, med, frequency="prn", indication="withdrawal",
        prn_min_interval_minutes=240, prn_max_per_24h=2,
    )  # fmt: skip


def out_briefly(admission, user, when):
    """The client out on an appointment around `when` (a dose is sent only with a client out,
    or about to leave on a trip: issue 14 review)."""
    from datetime import timedelta

    from clients.models import Leave

    return Leave.objects.get_or_create(
        admission=admission, left_at=when - timedelta(minutes=1),
        defaults={
            "kind": "appointment", "expected_back_at": when + timedelta(hours=1),
            "returned_at": when + timedelta(minutes=1), "recorded_by": user,
            "returned_recorded_by": user,
        },
    )[0]  # fmt: skip


def send(order, user, *, when=SENT_AT, reason=NOTE):
    dose = order.doses.get(scheduled_at=at(9, 0))
    out_briefly(order.admission, user, when)
    with time_machine.travel(when, tick=False):
        return administration_record(actor=user, dose=dose, outcome="sent", reason=reason)


def test_sent_needs_a_note_of_what_was_sent_and_with_whom(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    with pytest.raises(ValidationError) as exc:
        send(order, cast["nurse"], reason="  ")
    assert exc.value.message_dict["reason"] == [
        "Note: say what was sent and with whom (e.g. 1 tab handed to escort J. Doe)."
    ]
    admin = send(order, cast["nurse"])
    assert (admin.outcome, admin.given_at, admin.reason) == ("sent", None, NOTE)
    assert admin.get_outcome_display() == "Sent with client"


def test_only_a_nurse_may_send_a_dose(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    with pytest.raises(PermissionDenied):
        send(order, cast["technician"])
    assert not Administration.objects.exists()


def test_a_sent_dose_counts_for_the_interval_as_if_taken_when_sent(cast, stay, clonidine, nurse2):
    """A PRN of the same drug after a sent dose is too soon, counted from when it was sent
    (the lead's decision 9: presumed taken off site); it is still not a given dose (given_at
    empty, not a PRN counted toward the PRN maximum). After a given dose the same (control)."""
    scheduled, prn = verified(stay, cast, nurse2, clonidine), prn_of(stay, cast, nurse2, clonidine)
    sent = send(scheduled, cast["nurse"])
    with time_machine.travel(at(9, 30), tick=False):
        check = prn_check(prn, at(9, 30))
    assert check.blocks == [
        "Too soon: the next dose is allowed from 12:50 (Clonidine 0.1 mg tablet sent with the "
        "client 08:50)."
    ]
    assert check.count == 1 and sent.given_at is None
    evening = scheduled.doses.get(scheduled_at=at(21, 0))
    with time_machine.travel(at(21, 0), tick=False):
        administration_record(actor=cast["nurse"], dose=evening, outcome="given")
    with time_machine.travel(at(21, 30), tick=False):
        assert any("Too soon" in b for b in prn_check(prn, at(21, 30)).blocks)


def test_a_sent_dose_counts_toward_the_daily_cap(cast, stay, nurse2, facility):
    apap = Ingredient.objects.create(
        facility=facility, name="acetaminophen", max_mg_per_24h=Decimal("1000")
    )
    med = Medication.objects.create(
        facility=facility, name="Acetaminophen", strength="1000 mg", form="tablet", routes="oral"
    )
    MedicationIngredient.objects.create(medication=med, ingredient=apap, mg_per_unit=Decimal(1000))
    scheduled, prn = verified(stay, cast, nurse2, med), prn_of(stay, cast, nurse2, med)
    send(scheduled, cast["nurse"])
    with time_machine.travel(at(10, 0), tick=False):
        check = prn_check(prn, at(10, 0))
    assert [c.so_far_mg for c in check.caps] == [1000]
    assert any(b.startswith("Daily maximum of acetaminophen") for b in check.blocks)


def test_sent_shows_with_its_own_label_on_the_med_pass_and_in_the_history(
    client, cast, stay, clonidine, nurse2
):
    order = verified(stay, cast, nurse2, clonidine)
    send(order, cast["nurse"])
    client.force_login(cast["nurse"])
    with time_machine.travel(at(9, 5), tick=False):
        page = client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()
    dose = order.doses.get(scheduled_at=at(9, 0))
    card = page.split(f'id="dose-{dose.public_id}"', 1)[1].split("</li>", 1)[0]
    assert "Sent with client" in card and NOTE in card and "Given" not in card
    entries = _mar_timeline(stay, since=at(0, 0), until=at(23, 0), user=cast["nurse"])
    assert [e.title for e in entries] == [f"Sent with client: {clonidine} — 0.1 mg"]
    assert NOTE in entries[0].text


def test_a_late_dose_can_be_charted_sent(client, cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    out_briefly(stay, cast["nurse"], at(9, 0))
    client.force_login(cast["nurse"])
    with time_machine.travel(at(11, 30), tick=False):
        page = client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()
    needs = page.split("<h2>Needs an outcome</h2>", 1)[1].split("<h2>Doses now and next</h2>")[0]
    assert '<option value="sent"' in needs
    dose = order.doses.get(scheduled_at=at(9, 0))
    with time_machine.travel(at(11, 30), tick=False):
        response = client.post(
            reverse("medications:dose_document", args=[dose.public_id]),
            {"outcome": "sent", "reason": NOTE},
        )
    assert response.status_code == 302
    assert Administration.objects.get(dose=dose).outcome == "sent"


def test_a_sent_controlled_dose_comes_off_the_count_and_a_strike_puts_it_back(
    cast, facility, stay, nurse2
):
    lorazepam = Medication.objects.create(
        facility=facility, name="Lorazepam", strength="1 mg", form="tablet", routes="oral",
        controlled_schedule="IV",
    )  # fmt: skip
    stock = ControlledStock.objects.create(facility=facility, medication=lorazepam)
    stock_receive(
        actor=cast["nurse"], stock=stock, quantity="10", witness=cast["technician"],
        source_document="INV-1",
    )  # fmt: skip
    order = verified(stay, cast, nurse2, lorazepam, dose="1 mg")
    admin = send(order, cast["nurse"])
    stock.refresh_from_db()
    assert stock.quantity == 9
    move = StockMovement.objects.get(administration=admin)
    assert (move.kind, move.change, move.at) == (MovementKind.ADMINISTRATION, -1, at(8, 50))
    assert move.note == f"Sent with client: {NOTE}"
    administration_strike(actor=cast["nurse"], administration=admin, reason="Trip cancelled")
    stock.refresh_from_db()
    assert stock.quantity == 10


def test_the_allergy_check_applies_to_a_sent_dose(cast, facility, nurse2):
    from tests.conftest import admit

    with time_machine.travel(at(6, 5), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0))
    med = Medication.objects.create(
        facility=facility, name="Amoxicillin", strength="500 mg", form="capsule", routes="oral"
    )
    order = verified(stay, cast, nurse2, med, dose="500 mg")
    from clients.services import allergy_add

    with time_machine.travel(at(7, 0), tick=False):
        allergy_add(actor=cast["nurse"], client=stay.client, allergen="Amoxicillin")
    with pytest.raises(ValidationError, match="Allergy conflict"):
        send(order, cast["nurse"])
