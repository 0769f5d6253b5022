"""PRN limits per ingredient across all of a client's orders (issue 9 item 5): two PRN orders of
acetaminophen (325 mg and 500 mg tablets) share one interval and one 24-hour maximum, and the
facility's 3,000 mg daily cap counts scheduled doses too. Seen from the nurse's side: the
service's refusal and the PRN give page, before and after the tap."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from clients.models import Client
from medications.models import Administration, Ingredient, Medication, MedicationIngredient
from medications.services import (
    administration_record,
    order_discontinue,
    order_transcribe,
    order_verify,
    prn_give,
)
from tests.conftest import PASSWORD, make_user

NY = ZoneInfo("America/New_York")
DAY = datetime(2026, 5, 12, 0, 0, tzinfo=NY)


def at(hour, minute=0, days=0):
    return DAY.replace(hour=hour, minute=minute) + timedelta(days=days)


def drug(facility, strength, mg=None, ingredient=None):
    med = Medication.objects.create(
        facility=facility,
        name="Acetaminophen" if ingredient else "Ibuprofen",
        strength=strength,
        form="tablet",
        routes="oral",
    )
    if ingredient is not None:
        MedicationIngredient.objects.create(medication=med, ingredient=ingredient, mg_per_unit=mg)
    return med


@pytest.fixture
def ward(cast, facility, admission):
    """An admitted client with known allergies, a second nurse, and the catalog."""
    admission.admitted_at = DAY - timedelta(days=3)
    admission.save(update_fields=["admitted_at"])
    if hasattr(Client, "allergy_status"):
        Client.objects.filter(pk=admission.client_id).update(allergy_status="nkda")
    acetaminophen = Ingredient.objects.create(
        facility=facility, name="acetaminophen", max_mg_per_24h=Decimal("3000")
    )
    return {
        "admission": admission,
        "nurse": cast["nurse"],
        "verifier": make_user("verifier", "nurse", facility),
        "tab325": drug(facility, "325 mg", 325, acetaminophen),
        "tab500": drug(facility, "500 mg", 500, acetaminophen),
    }


def order(ward, med, units, **fields):
    with time_machine.travel(DAY - timedelta(hours=12), tick=False):
        made = order_transcribe(
            actor=ward["nurse"],
            admission=ward["admission"],
            medication=med,
            dose=f"{units} tablet(s)",
            dose_units=Decimal(units),
            route="oral",
            start_at=DAY - timedelta(days=2),
            prescriber_name="Dr. Prn",
            prescriber_credentials="MD",
            **fields,
        )
        order_verify(actor=ward["verifier"], order=made)
    return made


def prn(ward, med, units, interval, maximum):
    return order(
        ward,
        med,
        units,
        frequency="prn",
        indication="pain",
        prn_min_interval_minutes=interval,
        prn_max_per_24h=maximum,
    )


def give(ward, prn_order, when, **extra):
    with time_machine.travel(when, tick=False):
        return prn_give(
            actor=ward["nurse"],
            order=prn_order,
            indication="headache",
            pre_assessment="pain 6/10",
            **extra,
        )


def give_scheduled(ward, sched, when):
    dose = sched.doses.get(scheduled_at=when)
    with time_machine.travel(when, tick=False):
        administration_record(actor=ward["nurse"], dose=dose, outcome="given")


@pytest.mark.django_db
def test_two_prn_orders_of_acetaminophen_share_one_interval(ward):
    p325 = prn(ward, ward["tab325"], 2, interval=240, maximum=4)
    p500 = prn(ward, ward["tab500"], 1, interval=360, maximum=3)
    give(ward, p325, at(10))
    # The 500 mg order's own 6-hour interval runs from the 325 mg dose.
    with pytest.raises(ValidationError, match="Too soon: the next dose is allowed from 16:00"):
        give(ward, p500, at(12))
    give(ward, p500, at(16))
    with pytest.raises(ValidationError, match="allowed from 20:00"):
        give(ward, p325, at(18))
    # A dose charted late, between two others, is too soon for the later one as well.
    with pytest.raises(ValidationError, match="Too soon: a dose was given at 16:00"):
        give(ward, p325, at(23), given_at=at(14), reason="Charted late")
    assert Administration.objects.count() == 2


@pytest.mark.django_db
def test_two_prn_orders_of_acetaminophen_share_one_24_hour_maximum(ward):
    p325 = prn(ward, ward["tab325"], 1, interval=60, maximum=3)
    p500 = prn(ward, ward["tab500"], 1, interval=60, maximum=3)
    give(ward, p325, at(8))
    give(ward, p500, at(10))
    give(ward, p325, at(12))
    # Neither order alone has reached 3, together they have.
    with pytest.raises(ValidationError, match="Maximum reached: 3 of 3 in 24 hours"):
        give(ward, p500, at(14))
    # 24 hours after the first dose it has rolled off.
    give(ward, p500, at(8, days=1))


@pytest.mark.django_db
def test_a_scheduled_dose_counts_toward_the_3_g_cap_and_blocks_a_prn(client, ward):
    sched = order(ward, ward["tab500"], 2, frequency="times", times="02:00,08:00")
    give_scheduled(ward, sched, at(2))
    give_scheduled(ward, sched, at(8))
    p325 = prn(ward, ward["tab325"], 2, interval=240, maximum=4)
    # The scheduled 08:00 dose starts the PRN's interval too.
    with pytest.raises(ValidationError, match="Too soon: the next dose is allowed from 12:00"):
        give(ward, p325, at(11))
    give(ward, p325, at(12))  # 2,000 + 650 = 2,650 mg
    cap = "Daily maximum of acetaminophen: 2,650 mg in the last 24 hours, this dose 650 mg "
    cap += "would make 3,300 mg (cap 3,000 mg); allowed from 2026-05-13 02:00."
    with pytest.raises(ValidationError) as refused:
        give(ward, p325, at(16))
    assert cap in refused.value.messages
    # The nurse sees it on the give page before tapping give.
    client.force_login(ward["nurse"])
    url = reverse("medications:prn_give", args=[p325.public_id])
    with time_machine.travel(at(16), tick=False):
        page = client.get(url).content.decode()
    assert escape(cap) in page
    assert "acetaminophen: 2,650 mg in the last 24 h, this dose 650 mg, cap 3,000 mg" in page
    # An override takes a reason and a second nurse.
    admin = give(ward, p325, at(16), override_reason="MD ordered", override_by=ward["verifier"])
    assert admin.override_by == ward["verifier"]


@pytest.mark.django_db
def test_the_cap_weighs_every_24_hours_holding_the_dose(ward):
    """A dose charted late counts against the later doses' 24 hours too."""
    p500 = prn(ward, ward["tab500"], 2, interval=60, maximum=6)  # 1,000 mg a dose
    give(ward, p500, at(20, days=-1))
    give(ward, p500, at(8))
    give(ward, p500, at(18))
    # At 07:00, the 24 hours ending 07:00 hold 1,000 mg, but those ending 18:00 hold 3,000.
    with pytest.raises(ValidationError, match="would make 4,000 mg"):
        give(ward, p500, at(19), given_at=at(7), reason="Charted late")


@pytest.mark.django_db
def test_without_ingredient_rows_orders_of_the_same_medication_share_limits(ward, facility):
    ibuprofen = drug(facility, "400 mg")
    other = drug(facility, "200 mg")
    first = prn(ward, ibuprofen, 1, interval=360, maximum=3)
    second = prn(ward, ibuprofen, 1, interval=360, maximum=3)
    unrelated = prn(ward, other, 1, interval=360, maximum=3)
    give(ward, first, at(8))
    with pytest.raises(ValidationError, match="Too soon"):
        give(ward, second, at(9))
    give(ward, unrelated, at(9))


@pytest.mark.django_db
def test_a_refused_give_shows_the_page_again_with_what_was_typed(client, ward):
    p325 = prn(ward, ward["tab325"], 2, interval=240, maximum=4)
    give(ward, p325, at(10))
    client.force_login(ward["nurse"])
    url = reverse("medications:prn_give", args=[p325.public_id])
    body = {"indication": "back pain", "pre_assessment": "pain 7/10 lower back"}
    with time_machine.travel(at(11), tick=False):
        response = client.post(url, body)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Too soon: the next dose is allowed from 14:00" in page
    assert 'value="pain 7/10 lower back"' in page
    assert Administration.objects.count() == 1
    body.update(override_reason="Fell", second_nurse="verifier", second_password=PASSWORD)
    with time_machine.travel(at(11), tick=True):
        response = client.post(url, body)
    assert response.status_code == 302
    assert Administration.objects.filter(override_by=ward["verifier"]).count() == 1


@pytest.mark.django_db
def test_a_scheduled_dose_that_would_pass_the_cap_needs_a_second_nurse(ward):
    """The cap is about the client's liver, not the order type: a scheduled dose after PRN doses
    brought the day to 2,600 mg is stopped like a PRN would be (lead's choice, issue 9)."""
    p325 = prn(ward, ward["tab325"], 2, interval=240, maximum=4)
    for hour in (0, 4, 8, 12):
        give(ward, p325, at(hour))  # 4 x 650 = 2,600 mg
    sched = order(ward, ward["tab500"], 1, frequency="times", times="20:00")
    dose = sched.doses.get(scheduled_at=at(20))
    with time_machine.travel(at(20), tick=False), pytest.raises(ValidationError) as refused:
        administration_record(actor=ward["nurse"], dose=dose, outcome="given")
    assert "Daily maximum of acetaminophen: 2,600 mg" in " ".join(refused.value.messages)
    assert not Administration.objects.filter(dose=dose).exists()
    with time_machine.travel(at(20), tick=False):
        admin = administration_record(
            actor=ward["nurse"], dose=dose, outcome="given",
            override_reason="Prescriber aware, fever", override_by=ward["verifier"],
        )  # fmt: skip
    assert admin.override_by == ward["verifier"]


@pytest.mark.django_db
def test_the_smallest_maximum_of_the_prn_orders_sharing_a_drug_applies(client, ward):
    """Safety review of issue 9: order A allows 2 a day, order B 6; B must not allow a third
    (nor a fourth) dose because its own maximum is larger. The refusal names A."""
    p325 = prn(ward, ward["tab325"], 1, interval=60, maximum=2)
    p500 = prn(ward, ward["tab500"], 1, interval=60, maximum=6)
    give(ward, p500, at(8))
    give(ward, p500, at(10))
    applies = (
        "Maximum reached: 2 of 2 in 24 hours (PRN orders of the same drug together; the "
        "maximum of the Acetaminophen 325 mg tablet 1 tablet(s) PRN order applies, "
        "2 per 24 hours)."
    )
    with pytest.raises(ValidationError) as refused:
        give(ward, p500, at(12))
    assert applies in refused.value.messages
    with pytest.raises(ValidationError) as refused:
        give(ward, p325, at(12))
    assert (
        "Maximum reached: 2 of 2 in 24 hours (PRN orders of the same drug together; this "
        "order's maximum applies)."
    ) in refused.value.messages
    # The nurse sees it on B's give page before tapping give.
    client.force_login(ward["nurse"])
    url = reverse("medications:prn_give", args=[p500.public_id])
    with time_machine.travel(at(12), tick=False):
        page = client.get(url).content.decode()
    assert escape(applies) in page
    assert "2 of 2 in the last 24 h" in page
    assert Administration.objects.count() == 2
    # Past it only with a reason and a second nurse.
    give(ward, p500, at(12), override_reason="MD aware", override_by=ward["verifier"])


@pytest.mark.django_db
def test_a_stopped_orders_smaller_maximum_no_longer_applies(ward):
    p325 = prn(ward, ward["tab325"], 1, interval=60, maximum=2)
    p500 = prn(ward, ward["tab500"], 1, interval=60, maximum=4)
    give(ward, p325, at(8))
    give(ward, p500, at(10))
    with pytest.raises(ValidationError, match="Maximum reached: 2 of 2"):
        give(ward, p500, at(12))
    with time_machine.travel(at(11), tick=False):
        order_discontinue(actor=ward["nurse"], order=p325, reason="Changed to 500 mg")
    give(ward, p500, at(12))  # 3 of B's 4; A's doses still count
    give(ward, p500, at(14))
    with pytest.raises(ValidationError, match="Maximum reached: 4 of 4 in 24 hours"):
        give(ward, p500, at(16))
