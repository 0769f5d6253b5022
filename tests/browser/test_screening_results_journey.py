"""A technician reads a cup in three taps plus one per exception (issue 13 item 4: "All
negative", each positive or invalid line, "All pads normal", Save; the only live lot is
preselected), a belongings search and a breath test; no sideways scroll at 768 or 390 px.
HAVEN_SCREENSHOTS=docs/screens keeps the review screenshots (poc-results-768/-390,
search-768/-390, breath-768/-390 and the pages after saving)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from screening.models import BelongingsSearch, PocTest
from tests.browser.conftest import SHOTS_DIR, shoot
from tests.clock import local_today
from tests.conftest import admit
from tests.screening.result_helpers import (
    a_lot,
    breath_device,
    collected_specimen,
    verified_order,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_cup_is_read_in_three_taps_plus_one_per_exception(new_page, signed_in, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown",
                  admitted_at=timezone.now() - timedelta(hours=6))  # fmt: skip
    verified_order(cast, robin, "Buprenorphine-naloxone", "8 mg/2 mg",
                   ingredients=["buprenorphine", "naloxone"])  # fmt: skip
    a_lot(facility, lot="L-2291")
    for viewport, name in ((TABLET, "poc-results-768.png"), (PHONE, "poc-results-390.png")):
        specimen = collected_specimen(robin, cast["technician"])
        page = signed_in(new_page(viewport=viewport), cast["technician"])
        page.goto(reverse("screening:poc_record", args=[specimen.public_id]))
        no_sideways_scroll(page)
        expect(page.locator(".poc-expected")).to_contain_text("Buprenorphine-naloxone")
        taps = 0
        page.get_by_text("All negative, except those I mark").click()
        taps += 1
        for code in ("BUP", "COC"):
            page.locator(".analyte", has_text=code).first.locator(
                "label.reading-presumptive_positive"
            ).click()
            taps += 1
        page.get_by_text("All pads normal, except those I mark").click()
        taps += 1
        shoot(page, name)
        page.get_by_role("button", name="Save result").click()
        taps += 1
        assert taps == 3 + 2  # two exceptions: BUP (expected) and COC

        expect(page.locator(".poc-result")).to_contain_text("Unexpected presumptive positive: COC.")
        expect(page.locator("tr.is-expected")).to_contain_text("BUP")
        no_sideways_scroll(page)
        shoot(page, name.replace("poc-results", "poc-result-detail"))
        test = PocTest.objects.get(specimen=specimen)
        assert test.analytes.filter(reading="presumptive_positive").count() == 2
        page.context.close()


def test_an_all_negative_cup_is_three_taps(new_page, signed_in, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    a_lot(facility)
    specimen = collected_specimen(robin, cast["technician"])
    page = signed_in(new_page(viewport=PHONE), cast["technician"])
    page.goto(reverse("screening:poc_record", args=[specimen.public_id]))
    page.get_by_text("All negative, except those I mark").click()
    page.get_by_text("All pads normal, except those I mark").click()
    page.get_by_role("button", name="Save result").click()
    expect(page.locator(".poc-result")).to_contain_text("All negative, all pads normal.")


def test_a_search_with_contraband_on_a_phone_and_a_tablet(new_page, signed_in, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    for viewport, name in ((TABLET, "search-768.png"), (PHONE, "search-390.png")):
        page = signed_in(new_page(viewport=viewport), cast["technician"])
        page.goto(reverse("screening:search_record", args=[robin.public_id]))
        no_sideways_scroll(page)
        page.locator("label.chip", has_text="Admission").click()
        page.locator("#id_witness").select_option(label="Nurse, RN")
        page.locator("label.chip", has_text="Yes").click()
        page.locator("#id_item-1-category").select_option("drugs")
        page.locator("#id_item-1-description").fill("White powder in a baggie")
        page.locator("#id_item-1-quantity").fill("1")
        page.locator(".search-item").nth(0).get_by_text("Contraband").click()
        page.locator("#id_item-1-disposition").select_option("stored")
        page.locator("#id_item-1-location").fill("Property room safe")
        page.locator("#id_item-1-bag_id").fill("B-1001")
        page.locator("#id_item-2-category").select_option("medication")
        page.locator("#id_item-2-description").fill("Sertraline 50 mg, bottle")
        page.locator("#id_item-2-disposition").select_option("to_nurse")
        no_sideways_scroll(page)
        shoot(page, name)
        page.get_by_role("button", name="Record search").click()
        expect(page.locator(".search-detail")).to_contain_text("Contraband found")
        no_sideways_scroll(page)
        shoot(page, name.replace("search", "search-detail"))
        page.context.close()
    assert BelongingsSearch.objects.filter(admission=robin, contraband_found=True).count() == 2


def test_a_positive_breath_test_on_a_phone(new_page, signed_in, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    breath_device(facility, calibrated_on=local_today(facility) - timedelta(days=200))
    for viewport, width in ((TABLET, 768), (PHONE, 390)):
        page = signed_in(new_page(viewport=viewport), cast["technician"])
        page.goto(reverse("screening:breath_record", args=[robin.public_id]))
        expect(page.locator(".calibration-warning")).to_be_visible()
        no_sideways_scroll(page)
        start = timezone.localtime(timezone.now() - timedelta(minutes=16), facility.tz)
        page.get_by_label("Observation started").fill(start.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("BrAC (g/210 L)").fill("0.084")
        page.get_by_label("Client's signature").fill("Robin Ashdown")
        shoot(page, f"breath-{width}.png")
        page.get_by_role("button", name="Record test").click()
        expect(page.get_by_role("link", name="Score CIWA-Ar")).to_be_visible()
        expect(page.get_by_role("link", name="Record vitals")).to_be_visible()
        no_sideways_scroll(page)
        shoot(page, f"breath-result-{width}.png")
        page.context.close()


def test_the_chart_section_and_the_discharge_asking_for_held_property(
    new_page, signed_in, cast, facility
):
    from screening.services.searches import ItemEntry, search_record
    from tests.screening.result_helpers import back_from_pass

    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    back_from_pass(cast["nurse"], robin)
    search_record(
        actor=cast["technician"], admission=robin, reason="admission", client_present=True,
        searched_at=timezone.now() - timedelta(minutes=30), witness=cast["nurse"],
        items=[ItemEntry(category="electronics", description="Phone", disposition="stored",
                         location="Locker 4", bag_id="B-77")],
    )  # fmt: skip
    device = breath_device(facility)
    from screening.services.breath import breath_test_record

    at = timezone.now() - timedelta(minutes=5)
    breath_test_record(
        actor=cast["technician"], admission=robin, device=device, tested_at=at,
        observation_started_at=at - timedelta(minutes=15), brac=Decimal("0.031"),
        client_signature="Robin Ashdown",
    )  # fmt: skip
    for viewport, width in ((TABLET, 768), (PHONE, 390)):
        page = signed_in(new_page(viewport=viewport), cast["nurse"])
        page.goto(reverse("clients:chart", args=[robin.client.public_id]))
        section = page.locator("#section-screening")
        expect(section).to_contain_text("UDS + search")
        expect(section).to_contain_text("Breath alcohol repeat due")
        expect(section).to_contain_text("Held property: 1 item")
        no_sideways_scroll(page)
        if SHOTS_DIR is not None:
            section.screenshot(path=str(SHOTS_DIR / f"screening-chart-{width}.png"))
        page.goto(reverse("clients:discharge", args=[robin.public_id]))
        expect(
            page.get_by_text("Property: 1 × Phone (stored, Locker 4 · bag B-77)")
        ).to_be_visible()
        no_sideways_scroll(page)
        shoot(page, f"discharge-property-{width}.png")
        page.context.close()
