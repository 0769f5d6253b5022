"""Discharge closes the MAR (issue 9 item 3): every running order is discontinued with reason
"discharge", the client's own controlled stock gets a disposition, a disposed stock owes no more
counts, and a discharge medication list is printed."""

import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.services import admission_discharge
from facility.models import Alert
from medications.models import ControlledStock, Order, ScheduledDose, StockMovement
from medications.services import order_verify, scan_shift_counts, stock_open_and_receive
from tests.conftest import PASSWORD, form_time, make_user
from tests.facility.world import controlled, ondansetron, transcribe


@pytest.fixture
def orders(cast, facility, admission):
    """A verified scheduled order, a verified PRN order and one still awaiting verification."""
    checker = make_user("nurse_v", "nurse", facility)
    med = ondansetron(facility)
    scheduled = transcribe(cast["nurse"], admission, med)
    prn = transcribe(
        cast["nurse"], admission, med, frequency="prn", times="", indication="Nausea",
        prn_min_interval_minutes=240, prn_max_per_24h=3,
    )  # fmt: skip
    for order in (scheduled, prn):
        order_verify(actor=checker, order=order)
    unverified = transcribe(cast["nurse"], admission, med, dose="8 mg")
    return [scheduled, prn, unverified]


@pytest.fixture
def own_stock(cast, facility, admission):
    """The client's own lorazepam, 12 tablets brought in."""
    return stock_open_and_receive(
        actor=cast["nurse"], facility=facility, medication=controlled(facility, "Lorazepam"),
        admission=admission, quantity="12", witness=cast["technician"],
        source_document="Home supply",
    )  # fmt: skip


def discharge_url(admission):
    return reverse("clients:discharge", args=[admission.public_id])


def body(facility, **extra):
    return {
        "discharged_at": form_time(timezone.now(), facility),
        "discharge_type": "completed",
        "note": "",
        **extra,
    }


def text(response) -> str:
    from html import unescape

    return unescape(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["nurse", "supervisor"])
def test_discharge_leaves_no_active_order(client, cast, facility, admission, orders, role):
    client.force_login(cast[role])
    response = client.post(discharge_url(admission), body(facility))
    assert response.status_code == 302
    admission.refresh_from_db()
    assert admission.discharged_at is not None
    running = Order.objects.filter(admission=admission, discontinued_at__isnull=True)
    assert not running.exists()
    assert set(
        Order.objects.filter(admission=admission).values_list("discontinue_reason", flat=True)
    ) == {"discharge"}
    assert set(Order.objects.values_list("discontinued_by", flat=True)) == {cast[role].pk}
    # No dose is left to come due (or be marked missed) after the discharge.
    assert not ScheduledDose.objects.filter(
        order__admission=admission, cancelled_at__isnull=True, administrations__isnull=True
    ).exists()
    chart = text(client.get(response.url))
    assert "Print the discharge medication list" in chart


@pytest.mark.django_db
def test_discharge_asks_for_the_disposition_of_the_clients_own_stock(
    client, cast, facility, admission, orders, own_stock
):
    client.force_login(cast["nurse"])
    form = text(client.get(discharge_url(admission)))
    assert "Client&#x27;s own Lorazepam" in form or "Client's own Lorazepam" in form
    field = f"disposition-{own_stock.public_id}"
    refused = text(client.post(discharge_url(admission), body(facility, note="Home with mum")))
    assert "12 on hand: choose returned, destroyed or sent with the client." in refused
    assert "Home with mum" in refused
    # Destroyed needs a witness who proves it.
    refused = text(client.post(discharge_url(admission), body(facility, **{field: "destroyed"})))
    assert "Witness of destruction: a second person signs" in refused
    wrong = text(
        client.post(
            discharge_url(admission),
            body(facility, **{field: "destroyed", "disposition_witness": "technician",
                              "disposition_witness_password": "nope"}),
        )
    )  # fmt: skip
    assert "Second person: username or password is not correct" in wrong
    # Nothing was done by the refused attempts: one transaction.
    admission.refresh_from_db()
    own_stock.refresh_from_db()
    assert admission.discharged_at is None and own_stock.quantity == 12
    assert Order.objects.filter(admission=admission, discontinued_at__isnull=True).count() == 3
    done = client.post(
        discharge_url(admission),
        body(facility, **{field: "destroyed", "disposition_witness": "technician",
                          "disposition_witness_password": PASSWORD,
                          "disposition_note": "Flushed per policy"}),
    )  # fmt: skip
    assert done.status_code == 302
    own_stock.refresh_from_db()
    assert (own_stock.quantity, own_stock.disposition) == (0, "destroyed")
    assert own_stock.disposition_witness == cast["technician"]
    assert own_stock.disposed_by == cast["nurse"] and own_stock.disposed_at is not None
    last = StockMovement.objects.filter(stock=own_stock).last()
    assert (last.kind, last.change, last.balance, last.witness) == (
        "disposition", -12, 0, cast["technician"]
    )  # fmt: skip


@pytest.mark.django_db
def test_the_service_refuses_a_discharge_without_a_disposition(cast, admission, own_stock):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        admission_discharge(
            actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
            discharge_type="completed",
        )  # fmt: skip
    assert f"disposition-{own_stock.public_id}" in refused.value.message_dict
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
        discharge_type="completed",
        steps={"medications": {"dispositions": {str(own_stock.public_id): "sent"}}},
    )  # fmt: skip
    own_stock.refresh_from_db()
    assert own_stock.disposition == "sent" and own_stock.disposition_witness is None


@pytest.mark.django_db
def test_a_disposed_stock_raises_no_more_count_alerts(client, cast, facility, admission, own_stock):
    house = ControlledStock.objects.create(facility=facility, medication=controlled(facility, "X"))
    assert house  # never received: owes nothing
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
        discharge_type="completed",
        steps={"medications": {"dispositions": {str(own_stock.public_id): "returned"}}},
    )  # fmt: skip
    assert scan_shift_counts(now=timezone.now() + timedelta(days=1)) == 0
    assert not Alert.objects.filter(kind="count_missing").exists()
    client.force_login(cast["nurse"])
    page = text(client.get(reverse("medications:controlled")))
    stocks = page.split("<h2>Stocks</h2>")[1].split('id="h-new"')[0]
    assert "Lorazepam" not in stocks and "X 1 mg" in stocks
    # Nor can it be counted or received into any more.
    url = reverse("medications:count_submit", args=[own_stock.public_id])
    assert client.post(url, {"counted_quantity": "0"}).status_code == 404


@pytest.mark.django_db
def test_the_discharge_medication_list_prints_orders_allergies_and_the_notice(
    client, cast, facility, admission, orders, own_stock
):
    from medications.services import administration_record

    dose = orders[0].doses.order_by("scheduled_at").first()
    given = administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
        discharge_type="completed",
        steps={"medications": {"dispositions": {str(own_stock.public_id): "sent"}}},
    )  # fmt: skip
    client.force_login(cast["nurse"])
    response = client.get(reverse("medications:discharge_med_list", args=[admission.public_id]))
    assert response["Content-Type"] == "application/pdf"
    pdf = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    flat = " ".join(pdf.split())
    assert "Discharge medication list" in flat
    assert "Ondansetron" in flat and "4 mg" in flat and "8 mg" in flat and "not verified" in flat
    assert "Oral" in flat or "oral" in flat
    assert timezone.localtime(given.given_at, facility.tz).strftime("%Y-%m-%d %H:%M") in flat
    assert "not given" in flat  # the PRN order
    assert "Penicillin" in flat  # allergies
    assert "42 CFR part 2" in flat
    assert "Sent with the client" in flat


@pytest.mark.django_db
def test_an_open_count_variance_on_the_clients_own_stock_refuses_the_discharge(
    client, cast, facility, admission, own_stock
):
    from medications.services import count_submit, discrepancy_sign_off

    off = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=own_stock, counted_quantity="10"
    )
    field = f"disposition-{own_stock.public_id}"
    client.force_login(cast["nurse"])
    response = client.post(discharge_url(admission), body(facility, **{field: "sent"}))
    message = "Lorazepam 1 mg tablet: the last count differs; a supervisor must sign off the open"
    assert message in text(response)
    assert message in response.context["form"].errors[field][0]  # on that stock's field
    admission.refresh_from_db()
    own_stock.refresh_from_db()
    assert admission.discharged_at is None and own_stock.quantity == 12
    assert own_stock.disposition == ""
    discrepancy_sign_off(actor=cast["supervisor"], count=off, explanation="Two missing")
    assert (
        client.post(discharge_url(admission), body(facility, **{field: "sent"})).status_code == 302
    )
    last = StockMovement.objects.filter(stock=own_stock).last()
    assert (last.kind, last.change) == ("disposition", -10)  # the signed-off count, not the book


@pytest.mark.django_db
def test_an_open_variance_on_an_emptied_own_stock_still_refuses_the_discharge(
    cast, admission, own_stock
):
    from django.core.exceptions import ValidationError

    from medications.services import count_submit, stock_waste

    stock_waste(actor=cast["nurse"], witness=cast["technician"], stock=own_stock, quantity="12",
                reason="Spilled")  # fmt: skip
    count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=own_stock, counted_quantity="1"
    )
    with pytest.raises(ValidationError) as refused:
        admission_discharge(
            actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
            discharge_type="completed",
        )  # fmt: skip
    assert "sign off the open count first" in str(
        refused.value.message_dict[f"disposition-{own_stock.public_id}"]
    )


@pytest.mark.django_db
def test_a_discharge_time_before_a_dose_given_is_refused(client, cast, facility, admission, orders):
    from django.core.exceptions import ValidationError

    from medications.services import administration_record, administration_strike

    dose = orders[0].doses.order_by("scheduled_at").first()
    given = administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    at = timezone.localtime(given.given_at, facility.tz)
    back = form_time(given.given_at - timedelta(minutes=30), facility)
    client.force_login(cast["nurse"])
    refused = text(client.post(discharge_url(admission), {**body(facility), "discharged_at": back}))
    assert f"Discharge time: a dose was given at {at:%H:%M} after it." in refused
    assert f'value="{back}"' in refused
    admission.refresh_from_db()
    assert admission.discharged_at is None
    assert Order.objects.filter(admission=admission, discontinued_at__isnull=True).count() == 3
    # A time typed to the minute covers that minute: the dose's own minute is not before it.
    with pytest.raises(ValidationError, match="a dose was given at"):
        admission_discharge(
            actor=cast["nurse"], admission=admission, discharged_at=given.given_at - timedelta(
                microseconds=1), discharge_type="completed",
        )  # fmt: skip
    # A struck entry is not a dose given.
    administration_strike(actor=cast["nurse"], administration=given, reason="Wrong client")
    done = client.post(discharge_url(admission), {**body(facility), "discharged_at": back})
    assert done.status_code == 302
