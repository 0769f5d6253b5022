"""Controlled substances: a declining count, blind shift counts by two people, variance sign-off,
witnessed waste, and the missed shift count alert (specs/mar.md)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

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
    stock_receive(
        actor=cast["nurse"], stock=s, quantity="30", note="Pharmacy delivery",
        witness=cast["technician"], source_document="INV-100",
    )  # fmt: skip
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
            stock_receive(
                actor=cast["nurse"], stock=stock, quantity=bad, witness=cast["technician"],
                source_document="INV-1",
            )  # fmt: skip
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
        stock_receive(
            actor=cast["nurse"], stock=stock, quantity="30", witness=cast["technician"],
            source_document="INV-1",
        )  # fmt: skip
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
def test_others_do_not_see_the_expected_of_an_open_variance(client, cast, facility, stock):
    count_submit(actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="0")
    client.force_login(make_user("tech_b", "technician", facility))
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
        quantity="12", note="Own supply", witness=cast["technician"], source_document="Home",
    )  # fmt: skip
    assert (stock.admission, stock.quantity) == (admission, Decimal("12"))
    assert list(StockMovement.objects.filter(stock=stock).values_list("kind", "change")) == [
        ("receipt", Decimal("12"))
    ]


@pytest.mark.django_db
def test_a_refused_first_receipt_leaves_no_empty_count_behind(cast, facility, lorazepam):
    with pytest.raises(ValidationError, match="Quantity: more than 0"):
        stock_open_and_receive(
            actor=cast["nurse"], facility=facility, medication=lorazepam, quantity="0",
            witness=cast["technician"], source_document="INV-1",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        stock_open_and_receive(
            actor=cast["technician"], facility=facility, medication=lorazepam, quantity="5",
            witness=cast["nurse"], source_document="INV-1",
        )  # fmt: skip
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


# ---------------------------------------------------------------- issue 9, item 8


def count_url(stock):
    return reverse("medications:count_submit", args=[stock.public_id])


def page_text(response) -> str:
    from html import unescape

    return unescape(response.content.decode())


@pytest.mark.django_db
def test_a_counter_cannot_sign_off_their_own_counts_variance(client, cast, facility, stock):
    supervisor = cast["supervisor"]
    off = count_submit(actor=supervisor, second=cast["nurse"], stock=stock, counted_quantity="29")
    with pytest.raises(ValidationError, match="you counted this stock"):
        discrepancy_sign_off(actor=supervisor, count=off, explanation="Miscount")
    client.force_login(supervisor)
    page = page_text(
        client.post(
            reverse("medications:discrepancy_sign_off", args=[off.public_id]),
            {"explanation": "I know what happened"},
        )
    )
    assert "you counted this stock" in page and 'value="I know what happened"' in page
    off.refresh_from_db()
    assert off.completed_at is None and off.signed_off_by is None
    # The database says so too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ControlledCount.objects.filter(pk=off.pk).update(
            signed_off_by=cast["nurse"], signed_off_at=off.counted_at
        )
    other = make_user("supervisor_b", "supervisor", facility)
    discrepancy_sign_off(actor=other, count=off, explanation="One tablet found in the drawer")
    off.refresh_from_db()
    assert off.signed_off_by == other


@pytest.mark.django_db
def test_a_matching_recount_is_recorded_but_the_variance_waits_for_a_supervisor(
    client, cast, facility, stock
):
    first = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="29"
    )
    recount = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="30"
    )
    first.refresh_from_db()
    assert first.superseded_at is not None and first.completed_at is None
    assert recount.recount_of == first and recount.completed_at is None
    alert = Alert.objects.get(kind="count_variance")
    assert alert.resolved_at is None  # nobody who counted closes it
    client.force_login(cast["supervisor"])
    page = page_text(client.get(reverse("medications:controlled")))
    assert "Open variances" in page and "recount, awaiting sign-off" in page
    # Nobody who counted either count signs off; the explanation is still required.
    for counter in (cast["nurse"], cast["technician"]):
        with pytest.raises((ValidationError, PermissionDenied)):
            discrepancy_sign_off(actor=counter, count=recount, explanation="Miscount")
    with pytest.raises(ValidationError, match="Explanation"):
        discrepancy_sign_off(actor=cast["supervisor"], count=recount, explanation=" ")
    with pytest.raises(ValidationError, match="was recounted"):
        discrepancy_sign_off(actor=cast["supervisor"], count=first, explanation="Miscount")
    discrepancy_sign_off(actor=cast["supervisor"], count=recount, explanation="Miscount")
    recount.refresh_from_db()
    stock.refresh_from_db()
    alert.refresh_from_db()
    assert recount.completed_at and recount.signed_off_by == cast["supervisor"]
    assert stock.quantity == Decimal("30")  # the recount matched: nothing adjusted
    assert not StockMovement.objects.filter(stock=stock, kind="adjustment").exists()
    assert alert.resolved_by == cast["supervisor"] and "Miscount" in alert.resolution_note
    page = page_text(client.get(reverse("medications:controlled")))
    assert "Open variances" not in page and "recounted" in page  # both counts stay visible


@pytest.mark.django_db
def test_a_supervisor_who_counted_the_first_count_cannot_sign_off_its_recount(
    cast, facility, stock
):
    count_submit(actor=cast["supervisor"], second=cast["nurse"], stock=stock, counted_quantity="29")
    recount = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="29"
    )
    with pytest.raises(ValidationError, match="you counted this stock"):
        discrepancy_sign_off(actor=cast["supervisor"], count=recount, explanation="One missing")
    other = make_user("supervisor_r", "supervisor", facility)
    discrepancy_sign_off(actor=other, count=recount, explanation="One missing")
    stock.refresh_from_db()
    assert stock.quantity == Decimal("29")  # the latest count's variance


@pytest.mark.django_db
def test_a_recount_that_still_differs_needs_sign_off_and_is_allowed_once(cast, stock):
    first = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="29"
    )
    recount = count_submit(
        actor=cast["technician"], second=cast["nurse"], stock=stock, counted_quantity="28"
    )
    assert recount.completed_at is None and recount.recount_of == first
    with pytest.raises(ValidationError, match="already recounted"):
        count_submit(
            actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="30"
        )
    with pytest.raises(ValidationError, match="was recounted"):
        discrepancy_sign_off(actor=cast["supervisor"], count=first, explanation="Miscount")
    alerts = Alert.objects.filter(kind="count_variance")
    assert [a.resolved_at is None for a in alerts] == [True]
    discrepancy_sign_off(actor=cast["supervisor"], count=recount, explanation="Two missing")
    stock.refresh_from_db()
    assert stock.quantity == Decimal("28")  # adjusted by the recount's variance, not the first
    assert not alerts.filter(resolved_at__isnull=True).exists()


@pytest.mark.django_db
def test_counters_cannot_close_their_own_variance_by_recounting_the_expected_number(
    client, cast, stock
):
    """The review's path: the expected number is shown after a variance, and the same pair
    (second signer kept in the session) "recounts" it."""
    client.force_login(cast["nurse"])
    after = page_text(
        client.post(
            count_url(stock),
            {"counted_quantity": "28", "second_nurse": "technician", "second_password": PASSWORD},
            follow=True,
        )
    )
    assert "counted 28, expected 30, difference -2" in after
    # The kept second signer does not sign a recount: their password is typed again.
    refused = page_text(client.post(count_url(stock), {"counted_quantity": "30"}))
    assert "the second signer types it again for a recount" in refused
    assert 'value="30"' in refused and stock.counts.count() == 1
    recounted = page_text(
        client.post(
            count_url(stock),
            {"counted_quantity": "30", "second_nurse": "technician", "second_password": PASSWORD},
            follow=True,
        )
    )
    assert "Recount recorded; a supervisor must sign off" in recounted
    assert "counted 30, expected 30" in recounted and "Count complete" not in recounted
    assert "Open variances" in recounted
    assert not ControlledCount.objects.filter(completed_at__isnull=False).exists()
    assert Alert.objects.get(kind="count_variance").resolved_at is None
    stock.refresh_from_db()
    assert stock.quantity == Decimal("30")
    # Only a supervisor who counted neither count closes it, with an explanation.
    client.force_login(cast["supervisor"])
    url = reverse("medications:discrepancy_sign_off", args=[stock.counts.get(
        recount_of__isnull=False).public_id])  # fmt: skip
    assert "Explanation: say what happened." in page_text(client.post(url, {"explanation": ""}))
    assert client.post(url, {"explanation": "Miscount"}).status_code == 302
    assert Alert.objects.get(kind="count_variance").resolved_by == cast["supervisor"]
    stock.refresh_from_db()
    assert stock.quantity == Decimal("30")


@pytest.mark.django_db
def test_the_second_signer_types_their_password_once_per_count_session(
    client, cast, facility, lorazepam, stock
):
    diazepam = Medication.objects.create(
        facility=facility, name="Diazepam", strength="5 mg", form="tablet", routes="oral",
        controlled_schedule="IV",
    )  # fmt: skip
    other = ControlledStock.objects.create(facility=facility, medication=diazepam)
    stock_receive(actor=cast["nurse"], stock=other, quantity="10", witness=cast["technician"],
                  source_document="INV-2")  # fmt: skip
    client.force_login(cast["nurse"])
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(
            count_url(stock),
            {"counted_quantity": "30", "second_nurse": "technician", "second_password": PASSWORD},
        )
        page = page_text(client.get(reverse("medications:controlled")))
        assert "Second signer for counts: " in page
        # The next stock: no password, no name; the same second signer signs.
        response = client.post(count_url(other), {"counted_quantity": "10"})
        assert response.status_code == 302
        assert other.counts.get().second_signer == cast["technician"]
        # Naming someone else needs their password, and forgets the kept one.
        refused = page_text(
            client.post(count_url(other), {"counted_quantity": "10", "second_nurse": "supervisor"})
        )
        assert "Second person: username or password is not correct" in refused
        assert 'value="10"' in refused  # what was typed stays
        assert other.counts.count() == 1
        client.post(
            count_url(stock),
            {"counted_quantity": "30", "second_nurse": "technician", "second_password": PASSWORD},
        )
        # Thirty minutes after the password (kept signed in meanwhile), it must be typed again.
        for _ in range(3):
            traveller.shift(timedelta(minutes=10))
            client.get(reverse("medications:controlled"))
        traveller.shift(timedelta(minutes=1))
        expired = page_text(client.post(count_url(other), {"counted_quantity": "10"}))
        assert "a different person must count with you" in expired
    assert other.counts.count() == 1


@pytest.mark.django_db
def test_a_receipt_needs_a_witness_and_a_source_document(client, cast, stock):
    for witness, document, field in (
        (None, "INV-3", "witness"),
        (cast["nurse"], "INV-3", "witness"),
        (cast["technician"], " ", "source_document"),
    ):
        with pytest.raises(ValidationError) as refused:
            stock_receive(actor=cast["nurse"], stock=stock, quantity="5", witness=witness,
                          source_document=document)  # fmt: skip
        assert field in refused.value.message_dict
    client.force_login(cast["nurse"])
    url = reverse("medications:stock_receive", args=[stock.public_id])
    page = page_text(client.post(url, {"quantity": "7", "note": "Tote 4"}))
    assert "Source document: enter the invoice, DEA 222 or packing slip number." in page
    assert "Witness: a second person must sign the receipt with you." in page
    assert 'value="7"' in page and 'value="Tote 4"' in page
    assert StockMovement.objects.filter(stock=stock).count() == 1
    done = client.post(
        url,
        {"quantity": "7", "source_document": "DEA222-88", "second_nurse": "technician",
         "second_password": PASSWORD},
    )  # fmt: skip
    assert done.status_code == 302
    receipt = StockMovement.objects.filter(stock=stock).last()
    assert (receipt.witness, receipt.source_document, receipt.change) == (
        cast["technician"], "DEA222-88", Decimal("7")
    )  # fmt: skip


@pytest.mark.django_db
def test_a_new_stock_needs_the_same_two_signatures(client, cast, facility, admission, lorazepam):
    client.force_login(cast["nurse"])
    body = {"medication": lorazepam.pk, "admission": str(admission.public_id), "quantity": "12"}
    page = page_text(client.post(reverse("medications:stock_new"), body))
    assert "Source document:" in page and "Witness:" in page
    assert not ControlledStock.objects.exists()


@pytest.mark.django_db
def test_sign_off_resolves_the_variance_alert(cast, stock):
    off = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="29"
    )
    discrepancy_sign_off(actor=cast["supervisor"], count=off, explanation="Dropped, recovered")
    alert = Alert.objects.get(kind="count_variance")
    assert alert.resolved_at is not None and alert.resolved_by == cast["supervisor"]
    assert "Dropped, recovered" in alert.resolution_note


@pytest.mark.django_db
def test_a_significant_loss_is_signed_off_now_and_its_dea_106_filed_later(client, cast, stock):
    """DEA allows 45 days for Form 106: sign-off needs no filing date; the critical alert says
    when it is due, and recording the filing (not future, not before the count) closes it."""
    off = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="20"
    )
    client.force_login(cast["supervisor"])
    client.post(
        reverse("medications:discrepancy_sign_off", args=[off.public_id]),
        {"explanation": "Ten tablets gone", "significant_loss": "on"},
    )
    off.refresh_from_db()
    assert off.significant_loss and off.completed_at and off.dea_106_filed_on is None
    counted_on = timezone.localtime(off.counted_at, stock.facility.tz).date()
    due = counted_on + timedelta(days=45)
    incident = Alert.objects.get(kind="incident_required")
    assert incident.severity == "critical" and incident.resolved_at is None
    assert f"DEA Form 106 due by {due}" in incident.message
    page = page_text(client.get(reverse("medications:controlled")))
    assert f"DEA Form 106 due by {due}" in page and "Record DEA 106 filed" in page
    # Not by a Resolve tap on the alerts page: only the filing closes it.
    client.post(reverse("alert_resolve", args=[incident.public_id]), {"note": "Done"})
    incident.refresh_from_db()
    assert incident.resolved_at is None
    url = reverse("medications:count_dea_106", args=[off.public_id])
    for typed, message in (
        ("", "DEA Form 106 filed on: enter the date."),
        ((counted_on + timedelta(days=2)).isoformat(), "DEA Form 106 filed on: not a future date."),
        (
            (counted_on - timedelta(days=1)).isoformat(),
            "DEA Form 106 filed on: not before the count",
        ),
    ):
        page = page_text(client.post(url, {"dea_106_filed_on": typed}))
        assert message in page
    off.refresh_from_db()
    assert off.dea_106_filed_on is None
    client.force_login(cast["nurse"])  # a nurse does not record it
    assert client.post(url, {"dea_106_filed_on": counted_on.isoformat()}).status_code == 403
    client.force_login(cast["supervisor"])
    client.post(url, {"dea_106_filed_on": counted_on.isoformat()})
    off.refresh_from_db()
    incident.refresh_from_db()
    assert off.dea_106_filed_on == counted_on and incident.resolved_by == cast["supervisor"]
    page = page_text(client.get(reverse("medications:controlled")))
    assert "Record DEA 106 filed" not in page and f"DEA 106 filed {counted_on}" in page


@pytest.mark.django_db
def test_controlled_forms_label_each_field_and_show_each_error_under_it(client, cast, stock):
    """The sign-off and new-stock receipt forms: every input has its own label (for=id), each
    error sits right under its field, and "at most 10,000" is said once."""
    import re

    off = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="29"
    )
    client.force_login(cast["supervisor"])
    page = page_text(
        client.post(
            reverse("medications:discrepancy_sign_off", args=[off.public_id]),
            {"explanation": "", "significant_loss": "on"},
        )
    )
    assert re.search(r'name="explanation"[^>]*>\s*<ul class="errorlist"[^>]*>\s*<li>'
                     r"Explanation: say what happened.", page)  # fmt: skip
    assert "dea_106_filed_on" not in page.split("Open variances")[1].split("<h2>Stocks")[0]
    client.force_login(cast["nurse"])
    page = page_text(
        client.post(
            reverse("medications:stock_new"),
            {"medication": stock.medication.pk, "quantity": "100000", "source_document": "",
             "note": "Kept", "second_nurse": "technician", "second_password": "x"},
        )
    )  # fmt: skip
    form = page.split('id="h-new"')[1]
    assert "Start a count" not in page and "Receive a medication not yet in stock" in page
    for name in ("medication", "admission", "quantity", "source_document", "second_nurse",
                 "second_password", "note"):  # fmt: skip
        field_id = re.search(rf'<(?:input|select) id="([^"]+)" name="{name}"', form).group(1)
        assert form.count(f'for="{field_id}"') == 1, name
    assert re.search(r'name="quantity"[^>]*>\s*<ul class="errorlist"[^>]*>\s*<li>'
                     r"Quantity: at most 10,000.", form)  # fmt: skip
    assert re.search(r'name="source_document"[^>]*>\s*<ul class="errorlist"[^>]*>\s*<li>'
                     r"Source document: enter", form)  # fmt: skip
    assert 'value="Kept"' in form
    count_url = reverse("medications:count_submit", args=[stock.public_id])
    page = page_text(client.post(count_url, {"counted_quantity": "100000",
                                             "second_nurse": "technician"}))  # fmt: skip
    assert page.count("Counted: at most 10,000.") == 1


@pytest.mark.django_db
def test_a_refused_waste_keeps_what_was_typed(client, cast, stock):
    client.force_login(cast["nurse"])
    page = page_text(
        client.post(
            reverse("medications:stock_waste", args=[stock.public_id]),
            {"quantity": "0.5", "reason": "Half tablet dropped", "second_nurse": "technician",
             "second_password": "wrong"},
        )
    )  # fmt: skip
    assert "Second person: username or password is not correct" in page
    assert 'value="Half tablet dropped"' in page and 'value="0.5"' in page
    assert StockMovement.objects.filter(kind="waste").count() == 0
