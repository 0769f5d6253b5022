"""The MAR in a real browser: transcribe and verify an order, a technician's med pass, and two
nurses charting the same dose at once (specs/mar.md).
"""

import re
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from medications.models import Administration, Medication, Order, ScheduledDose
from medications.services import order_transcribe, order_verify
from tests.browser.conftest import shoot
from tests.conftest import form_time, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def clonidine(facility):
    return Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )


@pytest.fixture
def nurse_two(facility):
    return make_user("nurse_two", "nurse", facility)


def soon(facility, minutes: int = 10) -> str:
    """A wall time `minutes` from now on the facility's clock, as an order's times hold it."""
    return timezone.localtime(timezone.now() + timedelta(minutes=minutes), facility.tz).strftime(
        "%H:%M"
    )


def due_order(admission, clonidine, nurse, second_nurse) -> Order:
    """A verified daily Clonidine order whose one dose is due in about 10 minutes."""
    order = order_transcribe(
        actor=nurse,
        admission=admission,
        medication=clonidine,
        dose="0.1 mg",
        dose_units=Decimal("1"),
        route="oral",
        frequency="times",
        times=soon(admission.facility),
        start_at=timezone.now() - timedelta(minutes=1),
        prescriber_name="Dr. Rivera",
        prescriber_credentials="MD",
    )
    return order_verify(actor=second_nurse, order=order)


def next_dose(order: Order) -> ScheduledDose:
    return order.doses.filter(scheduled_at__gte=timezone.now()).earliest("scheduled_at")


def mar_url(dose: ScheduledDose, facility) -> str:
    """The MAR board of the dose's shift: the plain URL unless the dose is past a shift change."""
    url = reverse("medications:mar")
    day, shift = facility.current_shift(dose.scheduled_at)
    if (day, shift) != facility.current_shift(timezone.now()):
        url += "?" + urlencode({"day": day.isoformat(), "shift": shift})
    return url


def field(page: Page, label: str):
    """A form field by its label, which Django suffixes with a colon."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def dose_item(page: Page):
    return page.locator("li.pass-item", has_text="Clonidine 0.1 mg")


def test_nurse_transcribes_an_order_and_a_second_nurse_verifies_it(
    new_page, signed_in, cast, facility, admission, clonidine, nurse_two
):
    nurse = cast["nurse"]
    timings = {}
    page: Page = signed_in(new_page(viewport=TABLET), nurse)
    times = soon(facility)

    started = time.perf_counter()
    page.goto(reverse("medications:order_new", args=[admission.public_id]))
    expect(page.get_by_role("heading", name="Transcribe an order")).to_be_visible()
    field(page, "Medication").select_option(label=str(clonidine))
    field(page, "Dose").fill("0.1 mg")
    field(page, "Units per dose").fill("1")
    field(page, "Route").select_option(label="Oral (PO)")
    field(page, "Frequency").select_option(label="At specific times")
    field(page, "Times").fill(times)
    field(page, "Start").fill(form_time(timezone.now(), facility))
    field(page, "Prescriber name").fill("Dr. Rivera")
    field(page, "Prescriber credentials").fill("MD")
    shoot(page, "mar-order-form-768.png")
    narrow: Page = signed_in(new_page(viewport=PHONE), nurse)
    narrow.goto(reverse("medications:order_new", args=[admission.public_id]))
    shoot(narrow, "mar-order-form-390.png")
    narrow.context.close()
    page.get_by_role("button", name="Transcribe").click()

    order = Order.objects.get(admission=admission)
    expect(page).to_have_url(re.compile(rf"/mar/orders/{order.public_id}/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Order transcribed. A second nurse must verify it."
    )
    expect(page.locator("dl.facts")).to_contain_text("awaiting a second nurse")
    expect(page.locator("dl.facts")).to_contain_text(f"At specific times ({times})")
    expect(page.get_by_role("button", name="Verify this order")).to_have_count(0)
    timings["transcribe"] = time.perf_counter() - started
    assert order.transcribed_by == nurse
    assert (order.route, order.frequency, order.times) == ("oral", "times", times)
    assert order.verified_at is None
    assert not order.doses.exists()

    # The second nurse, on her own device.
    started = time.perf_counter()
    other: Page = signed_in(new_page(viewport=TABLET), nurse_two)
    other.goto(reverse("medications:order_detail", args=[order.public_id]))
    expect(other.locator("dl.facts")).to_contain_text("awaiting a second nurse")
    other.get_by_role("button", name="Verify this order").click()
    expect(other.get_by_role("status")).to_contain_text("Order verified; doses are on the MAR.")
    expect(other.locator("dl.facts")).to_contain_text(nurse_two.signature)
    expect(other.get_by_role("button", name="Verify this order")).to_have_count(0)
    timings["verify"] = time.perf_counter() - started
    order.refresh_from_db()
    assert order.verified_by == nurse_two

    dose = next_dose(order)
    local = timezone.localtime(dose.scheduled_at, facility.tz)
    assert local.strftime("%H:%M") == times
    other.goto(mar_url(dose, facility))
    row = other.get_by_role("row", name=re.compile(r"Robin"))
    chip = row.locator("li.dose-chip", has_text="Clonidine")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(f"{times} Clonidine 0.1 mg")
    expect(chip).to_contain_text("Due")
    print("\n" + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))


def test_technician_does_a_med_pass(new_page, signed_in, cast, facility, admission, clonidine):
    technician = cast["technician"]
    nurse_two = make_user("nurse_two", "nurse", facility)
    order = due_order(admission, clonidine, cast["nurse"], nurse_two)
    dose = next_dose(order)
    page: Page = signed_in(new_page(viewport=TABLET), technician)

    started = time.perf_counter()
    page.goto(reverse("medications:med_pass", args=[admission.public_id]))
    band = page.get_by_role("region", name="Client identity")
    expect(band.get_by_role("heading", level=1)).to_have_text(re.compile(r"Robin"))
    expect(band).to_contain_text(admission.client.mrn)
    expect(band.locator(".id-allergies")).to_contain_text("Penicillin")
    item = dose_item(page)
    expect(item).to_have_count(1)
    expect(item.locator(".pass-drug")).to_contain_text("Clonidine 0.1 mg")
    expect(item.locator(".pass-drug")).to_contain_text("Oral (PO)")
    expect(item.locator(".pass-drug")).to_contain_text(
        "scheduled " + timezone.localtime(dose.scheduled_at, facility.tz).strftime("%H:%M")
    )
    expect(item.locator(".state-tag")).to_have_text("Due")
    # A technician has one action: no outcome to choose, no "Record".
    expect(item.get_by_label("Outcome")).to_have_count(0)
    expect(item.get_by_role("button", name="Record")).to_have_count(0)

    shoot(page, "mar-med-pass-tech-768.png")
    item.get_by_role("button", name="Observed self-administration").click()

    expect(page.get_by_role("status")).to_contain_text(f"{clonidine}: given.")
    item = dose_item(page)
    expect(item.locator(".state-tag")).to_have_text("Given")
    expect(item).to_contain_text(f"by {technician.signature} (observed self-administration)")
    expect(item.get_by_role("button", name="Observed self-administration")).to_have_count(0)
    elapsed = time.perf_counter() - started

    admin = Administration.objects.get(dose=dose)
    assert (admin.outcome, admin.self_administered, admin.recorded_by) == (
        "given",
        True,
        technician,
    )
    assert admin.timing == "on_time"
    print(f"\nmed pass {elapsed:.2f}s")


def test_two_nurses_chart_the_same_dose(
    new_page, signed_in, cast, facility, admission, clonidine, nurse_two
):
    first_nurse = cast["nurse"]
    order = due_order(admission, clonidine, first_nurse, nurse_two)
    dose = next_dose(order)
    url = reverse("medications:med_pass", args=[admission.public_id])

    first: Page = signed_in(new_page(viewport=TABLET), first_nurse)
    second: Page = signed_in(new_page(viewport=TABLET), nurse_two)
    for page in (first, second):
        page.goto(url)
        item = dose_item(page)
        expect(item.locator(".state-tag")).to_have_text("Due")
        expect(item.get_by_label("Outcome")).to_have_value("given")
        expect(item.get_by_role("button", name="Record")).to_be_visible()

    shoot(first, "mar-med-pass-768.png")
    narrow: Page = signed_in(new_page(viewport=PHONE), first_nurse)
    narrow.goto(url)
    expect(dose_item(narrow).get_by_role("button", name="Record")).to_be_visible()
    shoot(narrow, "mar-med-pass-390.png")
    narrow.context.close()

    started = time.perf_counter()
    dose_item(first).get_by_role("button", name="Record").click()
    expect(first.get_by_role("status")).to_contain_text(f"{clonidine}: given.")
    expect(dose_item(first).locator(".state-tag")).to_have_text("Given")
    admin = Administration.objects.get(dose=dose)
    assert admin.recorded_by == first_nurse

    # The second nurse's page still shows the form she opened before the dose was charted.
    expect(dose_item(second).get_by_role("button", name="Record")).to_be_visible()
    dose_item(second).get_by_role("button", name="Record").click()
    at = timezone.localtime(admin.recorded_at, facility.tz).strftime("%H:%M")
    warning = second.get_by_role("status").locator(".message.warning")
    expect(warning).to_have_text(f"Already charted by {first_nurse.signature} at {at}: given.")
    item = dose_item(second)
    expect(item.locator(".state-tag")).to_have_text("Given")
    expect(item).to_contain_text(f"by {first_nurse.signature}")
    elapsed = time.perf_counter() - started

    assert Administration.objects.filter(dose=dose).count() == 1
    assert Administration.objects.get(dose=dose).recorded_by == first_nurse
    print(f"\ntwo nurses {elapsed:.2f}s")
