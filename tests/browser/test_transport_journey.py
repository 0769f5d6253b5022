"""A day of transport in the browser (issue 14, "done when"): the technician's pre-trip
inspection on a phone finds a critical defect and the van goes out of service; the supervisor
clears it and the technician inspects again, all OK; a trip with three clients is planned,
leaves (odometer out, head count, three sign-outs: three open leaves, the census shows them off
site) and comes back (odometer in, head count, three sign-ins: the leaves closed); the
supervisor's mileage report shows the miles for that driver and that van.

Taps of the inspection are counted: one to pick the van, one per item (15), one into the
defect's note, one to submit: 18 with one defect. Every OK/Defect target is at least 44 px
(56 px by the CSS) and nothing scrolls sideways at 390 px."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from clients.models import Leave
from tests.browser.conftest import shoot
from tests.conftest import admit, form_time
from tests.transport.fleet_helpers import make_driver, make_vehicle
from transport.models import Inspection, Trip, TripStatus, Vehicle
from transport.rules import INSPECTION_ITEMS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
# Picking the van, each item once, the defect's note, Submit.
INSPECTION_TAPS_WITH_ONE_DEFECT = 1 + len(INSPECTION_ITEMS) + 1 + 1
MILES = 23


class Taps:
    """Clicks on visible elements, counted as the technician's taps."""

    def __init__(self):
        self.count = 0

    def __call__(self, locator) -> None:
        self.count += 1
        locator.click()


def no_sideways_scroll(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways at {width} px ({scroll} px)"


def inspect(phone: Page, van: Vehicle, defects: dict[str, str]) -> int:
    """The inspection from the pick list: every item OK but `defects` (item: note); taps."""
    tap = Taps()
    phone.goto(reverse("transport:inspect"))
    tap(phone.locator("a.inspect-vehicle", has_text=van.name))
    expect(phone.locator("h1")).to_contain_text("pre-trip inspection")
    for key, label, _ in INSPECTION_ITEMS:
        item = phone.locator("li.inspection-item", has=phone.locator("legend", has_text=label))
        if key in defects:
            tap(item.locator("label.seg-defect"))
            note = item.get_by_label(f"{label}: what is wrong")
            tap(note)
            note.fill(defects[key])
        else:
            tap(item.locator("label.seg-ok"))
    heights = phone.locator(".segmented label.seg span").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert len(heights) == 2 * len(INSPECTION_ITEMS) and min(heights) >= 44, min(heights)
    no_sideways_scroll(phone, 390)
    if defects:
        shoot(phone, "transport-inspection-390.png")
    tap(phone.get_by_role("button", name="Submit inspection"))
    return tap.count


def test_a_day_of_transport_inspection_defect_clearance_trip_out_and_back_and_mileage(
    new_page, signed_in, cast, facility
):
    tech, supervisor = cast["technician"], cast["supervisor"]
    day_ago = timezone.now() - timedelta(days=1)
    people = [
        admit(facility, cast["nurse"], n=n, first=first, last=last, admitted_at=day_ago)
        for n, (first, last) in enumerate(
            [("Robin", "Ashdown"), ("Kai", "Morales"), ("Sage", "Whitley")], start=1
        )
    ]
    van = make_vehicle(facility, name="Van 1", odometer=10_000)
    driver = make_driver(facility, tech)

    # 1. The technician in the parking lot, on a phone: brakes grinding, a critical item.
    phone = signed_in(new_page(viewport=PHONE), tech)
    taps = inspect(phone, van, {"brakes": "Grinding from the front left wheel"})
    assert taps == INSPECTION_TAPS_WITH_ONE_DEFECT <= 18, taps
    result = phone.get_by_role("status").filter(has_text="Vehicle out of service")
    expect(result).to_contain_text("Brakes — Grinding from the front left wheel")
    no_sideways_scroll(phone, 390)
    van.refresh_from_db()
    assert not van.in_service
    assert van.out_of_service_reason.startswith("Failed pre-trip inspection: Brakes")
    phone.goto(reverse("transport:vehicle", args=[van.public_id]))
    expect(phone.locator(".fleet-status")).to_contain_text("Out of service")
    expect(phone.locator(".fleet-status")).to_contain_text("A supervisor clears it")

    # 2. The supervisor clears it, saying what was done; who, when and why are kept.
    desk = signed_in(new_page(viewport=TABLET), supervisor)
    desk.goto(reverse("transport:vehicle", args=[van.public_id]))
    desk.get_by_label("Reason").fill("Brake pads replaced at Main St Garage")
    desk.get_by_role("button", name="Clear for service").click()
    expect(desk.get_by_role("status").first).to_contain_text("Van 1 is back in service.")
    expect(desk.locator(".fleet-events")).to_contain_text("Back in service")
    expect(desk.locator(".fleet-events")).to_contain_text("Brake pads replaced")
    van.refresh_from_db()
    assert van.in_service
    # Today's inspection was before the clear: the app asks for a new one before the van leaves.
    expect(desk.locator(".fleet-status")).to_contain_text("Needs a new pre-trip inspection")

    # 3. The technician inspects again: everything OK (one tap per item, Submit).
    taps = inspect(phone, van, {})
    assert taps == 1 + len(INSPECTION_ITEMS) + 1, taps
    expect(phone.get_by_role("status").filter(has_text="Passed")).to_be_visible()
    assert [i.passed for i in Inspection.objects.order_by("inspected_at")] == [False, True]

    # 4. The trip is planned on the tablet: three clients to the clinic.
    now = timezone.now()
    desk = signed_in(new_page(viewport=TABLET), tech)
    desk.goto(reverse("transport:board"))
    desk.get_by_role("link", name=re.compile("Plan a trip")).first.click()
    desk.locator("#id_purpose").select_option("medical")
    desk.locator("#id_planned_departure").fill(form_time(now + timedelta(minutes=2), facility))
    desk.locator("#id_planned_return").fill(form_time(now + timedelta(hours=2), facility))
    desk.locator("#id_driver").select_option(str(driver.pk))
    desk.locator("#id_vehicle").select_option(str(van.pk))
    desk.locator("#id_stop-1-place").fill("Eastside Clinic")
    desk.locator("#id_stop-1-address").fill("12 Elm St")
    for a in people:
        desk.locator(f"#client-{a.public_id}").check()
    desk.get_by_role("button", name="Plan the trip").click()
    expect(desk.get_by_role("status").first).to_contain_text("Trip planned.")
    trip = Trip.objects.get()
    assert trip.passengers.count() == 3

    # 5. Departure from the van, on the phone: three ticks, odometer out, head count 3.
    phone.goto(reverse("transport:trip", args=[trip.public_id]))
    phone.get_by_role("link", name="Depart").click()
    for a in people:
        phone.locator(f"label[for='out-{a.public_id}']").click()
    expect(phone.get_by_label("Odometer out (miles)")).to_have_value("10000")
    phone.get_by_label("Head count (clients in the van)").fill("3")
    no_sideways_scroll(phone, 390)
    phone.get_by_role("button", name="Depart now").click()
    expect(phone.get_by_role("status").first).to_contain_text("Trip departed")
    expect(phone.locator(".trip-passengers .trip-pax", has_text="Signed out")).to_have_count(3)
    open_leaves = Leave.objects.open().filter(admission__in=people)
    assert open_leaves.count() == 3
    assert {leave.destination for leave in open_leaves} == {"Eastside Clinic"}
    # The census shows them off site.
    desk.goto(reverse("clients:census"))
    expect(desk.locator(".counts")).to_contain_text("3 off site")
    expect(desk.locator("tr.off-site")).to_have_count(3)

    # 6. The return: three ticks, odometer in, head count 3; the leaves close.
    phone.goto(reverse("transport:trip", args=[trip.public_id]))
    phone.get_by_role("link", name="Record the return").click()
    for a in people:
        phone.locator(f"label[for='in-{a.public_id}']").click()
    phone.get_by_label("Odometer in (miles)").fill(str(10_000 + MILES))
    phone.get_by_label("Head count (clients back in the van)").fill("3")
    phone.get_by_role("button", name="Record the return").click()
    expect(phone.get_by_role("status").first).to_contain_text("back")
    expect(phone.locator(".trip-passengers .trip-pax", has_text="Signed back in")).to_have_count(3)
    expect(phone.locator(".facts")).to_contain_text(f"{MILES} miles")
    assert Leave.objects.open().filter(admission__in=people).count() == 0
    trip.refresh_from_db()
    assert (trip.status, trip.odometer_out, trip.odometer_in) == (
        TripStatus.RETURNED,
        10_000,
        10_000 + MILES,
    )
    desk.goto(reverse("clients:census"))
    expect(desk.locator("tr.off-site")).to_have_count(0)

    # 7. The supervisor's mileage report: the miles for that driver and that van.
    report = signed_in(new_page(viewport=TABLET), supervisor)
    report.goto(reverse("transport:mileage"))
    for table, name in ((".mileage-drivers", tech.full_name), (".mileage-vehicles", "Van 1")):
        row = report.locator(f"{table} tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator("th")).to_contain_text(name)
        expect(row.locator("td")).to_have_text(["1", str(MILES)])  # trips, miles
