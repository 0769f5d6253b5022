"""Controlled substances: a declining count, blind shift counts by two people, variance sign-off,
witnessed waste, and the missed shift count alert (specs/mar.md)."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from facility.models import Alert
from medications.models import (
    Administration,
    ControlledCount,
    ControlledStock,
    Medication,
    StockMovement,
)
from medications.services import (
    administration_record,
    count_submit,
    discrepancy_sign_off,
    order_transcribe,
    order_verify,
    scan_shift_counts,
    stock_open_and_receive,
    stock_receive,
    stock_waste,
)
from tests.conftest import PASSWORD, make_user

NY = ZoneInfo("America/New_York")


@pytest.fixture
def lorazepam(facility):
    return Medication.objects.create(
        facility=facility, name="Lorazepam", strength="1 mg", form="tablet",
        routes="oral,sublingual", controlled_schedule="IV",
    )  # fmt: skip


@pytest.fixture
def stock(cast, facility, lorazepam):
    s = ControlledStock.objects.create(facility=facility, medication=lorazepam)
    stock_receive(actor=cast["nurse"], stock=s, quantity="30", note="Pharmacy delivery")
    s.refresh_from_db()
    return s


@pytest.mark.django_db
def test_receipts_administrations_and_waste_move_a_declining_count(
    cast, facility, admission, lorazepam, stock
):
    nurse2 = make_user("nurse_c", "nurse", facility)
    order = order_transcribe(
        actor=cast["nurse"], admission=admission, medication=lorazepam, dose="2 mg",
        dose_units=Decimal("2"), route="oral", frequency="times",
        times="23:59", start_at=admission.admitted_at, prescriber_name="Dr. C",
        prescriber_credentials="MD",
    )  # fmt: skip
    order_verify(actor=nurse2, order=order)
    dose = order.doses.order_by("scheduled_at").first()
    with time_machine.travel(dose.scheduled_at, tick=False):
        administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    stock_waste(
        actor=cast["nurse"],
        witness=cast["technician"],
        stock=stock,
        quantity="0.5",
        reason="Half tablet dropped",
    )
    stock.refresh_from_db()
    assert stock.quantity == Decimal("27.5")
    kinds = list(
        StockMovement.objects.filter(stock=stock).order_by("id").values_list("kind", "change")
    )
    assert kinds == [("receipt", Decimal("30")), ("administration", Decimal("-2")),
                     ("waste", Decimal("-0.5"))]  # fmt: skip


@pytest.mark.django_db
def test_waste_needs_a_different_witness_and_stock_cannot_go_negative(cast, stock):
    with pytest.raises(ValidationError, match="different person must witness"):
        stock_waste(
            actor=cast["nurse"], witness=cast["nurse"], stock=stock, quantity="1", reason="x"
        )
    with pytest.raises(PermissionDenied):
        stock_waste(
            actor=cast["nurse"], witness=cast["clinician"], stock=stock, quantity="1", reason="x"
        )
    with pytest.raises(ValidationError, match="only 30 on hand"):
        stock_waste(
            actor=cast["nurse"], witness=cast["technician"], stock=stock, quantity="31", reason="x"
        )
    for bad in ("-1", "0", "abc", "1e9"):
        with pytest.raises(ValidationError, match="Quantity"):
            stock_receive(actor=cast["nurse"], stock=stock, quantity=bad)
    stock.refresh_from_db()
    assert stock.quantity == Decimal("30")


@pytest.mark.django_db
def test_a_controlled_dose_with_no_stock_is_refused_and_nothing_saved(
    cast, facility, admission, lorazepam
):
    nurse2 = make_user("nurse_d", "nurse", facility)
    order = order_transcribe(
        actor=cast["nurse"], admission=admission, medication=lorazepam, dose="1 mg",
        dose_units=Decimal("1"), route="oral", frequency="times", times="23:59",
        start_at=admission.admitted_at, prescriber_name="Dr. C", prescriber_credentials="MD",
    )  # fmt: skip
    order_verify(actor=nurse2, order=order)
    dose = order.doses.first()
    with (
        time_machine.travel(dose.scheduled_at, tick=False),
        pytest.raises(ValidationError, match="no count is kept"),
    ):
        administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    assert Administration.objects.count() == 0


@pytest.mark.django_db
def test_blind_count_match_completes_and_variance_waits_for_supervisor(cast, stock):
    ok = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="30"
    )
    assert ok.completed_at is not None
    off = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="29"
    )
    assert off.completed_at is None
    assert Alert.objects.get(kind="count_variance").severity == "critical"
    with pytest.raises(PermissionDenied):
        discrepancy_sign_off(actor=cast["nurse"], count=off, explanation="Miscount")
    with pytest.raises(ValidationError, match="Explanation"):
        discrepancy_sign_off(actor=cast["supervisor"], count=off, explanation=" ")
    discrepancy_sign_off(
        actor=cast["supervisor"],
        count=off,
        explanation="One tablet found crushed in the drawer; pharmacy told",
    )
    off.refresh_from_db()
    stock.refresh_from_db()
    assert off.completed_at is not None and off.signed_off_by == cast["supervisor"]
    assert stock.quantity == Decimal("29")


@pytest.mark.django_db
def test_a_count_needs_two_distinct_signers_even_in_the_database(cast, stock):
    with pytest.raises(ValidationError, match="different person"):
        count_submit(actor=cast["nurse"], second=cast["nurse"], stock=stock, counted_quantity=30)
    with pytest.raises(IntegrityError), transaction.atomic():
        ControlledCount.objects.create(
            stock=stock, counted_at=stock.movements.first().at, first_signer=cast["nurse"],
            second_signer=cast["nurse"], counted_quantity=30, expected_quantity=30,
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        # A variance cannot be marked complete without a signed-off discrepancy.
        ControlledCount.objects.create(
            stock=stock, counted_at=stock.movements.first().at, first_signer=cast["nurse"],
            second_signer=cast["technician"], counted_quantity=29, expected_quantity=30,
            completed_at=stock.movements.first().at,
        )  # fmt: skip


@pytest.mark.django_db
def test_count_page_is_blind_and_second_signer_proves_it_with_a_password(client, cast, stock):
    client.force_login(cast["nurse"])
    page = client.get(reverse("medications:controlled")).content.decode()
    assert "Lorazepam" in page and ">30<" not in page and "30.00" not in page
    url = reverse("medications:count_submit", args=[stock.public_id])
    wrong = client.post(
        url,
        {"counted_quantity": "30", "second_nurse": "technician", "second_password": "nope"},
        follow=True,
    )
    assert "Second person: username or password is not correct, or they" in wrong.content.decode()
    done = client.post(
        url,
        {"counted_quantity": "30", "second_nurse": "technician", "second_password": PASSWORD},
        follow=True,
    )
    assert "Count complete" in done.content.decode()
    assert ControlledCount.objects.filter(completed_at__isnull=False).count() == 1


@pytest.mark.django_db
def test_a_shift_change_without_a_completed_count_alerts_once(cast, facility, lorazepam):
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False) as traveller:
        stock = ControlledStock.objects.create(facility=facility, medication=lorazepam)
        stock_receive(actor=cast["nurse"], stock=stock, quantity="30")
        traveller.move_to(datetime(2026, 5, 12, 6, 30, tzinfo=NY))
        count_submit(
            actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="30"
        )
        traveller.move_to(datetime(2026, 5, 12, 8, 1, tzinfo=NY))
        assert scan_shift_counts() == 0  # the 07:00 change was counted at 06:30
        traveller.move_to(datetime(2026, 5, 12, 16, 1, tzinfo=NY))
        assert scan_shift_counts() == 1  # nobody counted at 15:00
        assert scan_shift_counts() == 0
    assert "15:00 shift change" in Alert.objects.get(kind="count_missing").message


@pytest.mark.django_db
def test_striking_a_controlled_dose_puts_it_back_on_the_count(
    cast, facility, admission, lorazepam, stock
):
    from medications.services import administration_strike

    nurse2 = make_user("nurse_s", "nurse", facility)
    order = order_transcribe(
        actor=cast["nurse"], admission=admission, medication=lorazepam, dose="2 mg",
        dose_units=Decimal("2"), route="oral", frequency="times", times="23:59",
        start_at=admission.admitted_at, prescriber_name="Dr. C", prescriber_credentials="MD",
    )  # fmt: skip
    order_verify(actor=nurse2, order=order)
    dose = order.doses.order_by("scheduled_at").first()
    with time_machine.travel(dose.scheduled_at, tick=False):
        given = administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        administration_strike(actor=cast["nurse"], administration=given, reason="Wrong client")
        administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    stock.refresh_from_db()
    assert stock.quantity == Decimal("28")  # 30 - 2 - (2 back) - 2


@pytest.mark.django_db
def test_sign_off_corrects_by_the_variance_and_keeps_later_doses(cast, stock):
    off = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="28"
    )
    stock_waste(
        actor=cast["nurse"],
        witness=cast["technician"],
        stock=stock,
        quantity="1",
        reason="Dropped after the count",
    )
    discrepancy_sign_off(actor=cast["supervisor"], count=off, explanation="Two missing")
    stock.refresh_from_db()
    assert stock.quantity == Decimal("27")  # 30 - 1 wasted - 2 missing


@pytest.mark.django_db
def test_no_recount_while_a_variance_is_open_and_counters_never_see_the_expected(
    client, cast, stock
):
    count_submit(actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="0")
    with pytest.raises(ValidationError, match="variance on this stock is still open"):
        count_submit(
            actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="30"
        )
    client.force_login(cast["technician"])
    page = client.get(reverse("medications:controlled")).content.decode()
    assert (
        "count does not match" in page and "expected" not in page.split("Open variances")[1][:400]
    )


@pytest.mark.django_db
def test_a_cosigner_from_another_facility_is_refused(client, cast, stock):
    client.force_login(cast["nurse"])
    page = client.post(
        reverse("medications:count_submit", args=[stock.public_id]),
        {"counted_quantity": "30", "second_nurse": "other_technician",
         "second_password": PASSWORD},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "Second person: username or password is not correct, or they" in page
    assert ControlledCount.objects.count() == 0


@pytest.mark.django_db
def test_a_new_count_opens_with_its_first_receipt(cast, facility, admission, lorazepam):
    stock = stock_open_and_receive(
        actor=cast["nurse"], facility=facility, medication=lorazepam, admission=admission,
        quantity="12", note="Own supply",
    )  # fmt: skip
    assert (stock.admission, stock.quantity) == (admission, Decimal("12"))
    assert list(StockMovement.objects.filter(stock=stock).values_list("kind", "change")) == [
        ("receipt", Decimal("12"))
    ]


@pytest.mark.django_db
def test_a_refused_first_receipt_leaves_no_empty_count_behind(cast, facility, lorazepam):
    with pytest.raises(ValidationError, match="Quantity: more than 0"):
        stock_open_and_receive(
            actor=cast["nurse"], facility=facility, medication=lorazepam, quantity="0"
        )
    with pytest.raises(PermissionDenied):
        stock_open_and_receive(
            actor=cast["technician"], facility=facility, medication=lorazepam, quantity="5"
        )
    assert not ControlledStock.objects.exists()


@pytest.mark.django_db
def test_a_count_opens_only_for_a_controlled_medication_and_a_client_admitted_here(
    cast, facility, lorazepam, other_admission
):
    plain = Medication.objects.create(
        facility=facility, name="Ibuprofen", strength="200 mg", form="tablet", routes="oral"
    )
    with pytest.raises(ValidationError, match="Medication: choose a controlled medication"):
        stock_open_and_receive(actor=cast["nurse"], facility=facility, medication=plain, quantity=1)
    with pytest.raises(ValidationError, match="For: choose a client admitted here"):
        stock_open_and_receive(
            actor=cast["nurse"], facility=facility, medication=lorazepam,
            admission=other_admission, quantity=1,
        )  # fmt: skip
    assert not ControlledStock.objects.exists()
