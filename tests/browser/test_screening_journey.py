"""A specimen from the day's random list to a laboratory result in four custody events, on a
tablet, with the client's signature drawn on the pad, a scan that opens the specimen, and a gap in
the chain refused with the holder named (issue 13, first "done when").

HAVEN_SCREENSHOTS=<dir> keeps specimen-collect and custody-timeline at 768 and 390 px."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from screening.models import CustodyEvent, LabResult, RandomDraw, Specimen
from tests.browser.conftest import SHOTS_DIR, shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
TECH = "Technician, BHT"
FRIDGE = "Storage fridge 2"
COURIER = "Sam Rivera, Quest courier"
LAB = "Quest Diagnostics, Lenexa KS"


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shoot_both(new_page, signed_in, user, url: str, name: str) -> None:
    """Review screenshots of a page at tablet and phone width (only with HAVEN_SCREENSHOTS)."""
    if SHOTS_DIR is None:
        return
    for width, viewport in ((768, TABLET), (390, PHONE)):
        page = signed_in(new_page(viewport=viewport), user)
        page.goto(url)
        no_sideways_scroll(page)
        shoot(page, f"{name}-{width}.png")
        page.close()


def sign_on_the_pad(page: Page) -> None:
    pad = page.locator("[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 110)
    page.mouse.down()
    for dx, dy in ((70, 60), (110, 120), (150, 50), (200, 115), (260, 70), (320, 100)):
        page.mouse.move(x + dx, y + dy, steps=4)
    page.mouse.up()


def hand_over(page: Page, purpose: str, released_by: str, received_by: str, where: str = ""):
    page.get_by_text(purpose, exact=True).click()
    page.locator("#id_released_by").fill(released_by)
    page.locator("#id_received_by").fill(received_by)
    page.locator("fieldset", has_text="Seal intact").get_by_text("Yes", exact=True).click()
    if where:
        page.get_by_label("Storage location").fill(where)
    page.get_by_role("button", name="Record the hand-over").click()


def test_a_random_specimen_reaches_its_lab_result_in_four_custody_events(
    new_page, signed_in, cast, facility
):
    for n in range(4):
        admit(facility, cast["nurse"], n=n)

    # The nurse draws today's list: 25 % of 4 is one client.
    nurse = signed_in(new_page(viewport=TABLET), cast["nurse"])
    nurse.goto(reverse("screening:random_list"))
    expect(nurse.get_by_text("4 clients can be drawn")).to_be_visible()
    nurse.get_by_label("Percent of the census").fill("25")
    nurse.get_by_role("button", name="Draw today's list").click()
    expect(nurse.get_by_role("heading", name="1 of 4 drawn (25 %)")).to_be_visible()
    specimen = Specimen.objects.get(reason="random")
    assert RandomDraw.objects.get().seed in nurse.content()
    shoot_both(new_page, signed_in, cast["nurse"], nurse.url, "random-list")

    # The technician collects it from the list, the client signing on the tablet.
    tech = signed_in(new_page(viewport=TABLET), cast["technician"])
    tech.goto(reverse("screening:random_list"))
    tech.get_by_role("link", name=f"Collect {specimen.specimen_id}").click()
    expect(tech.get_by_role("heading", name=f"Collect {specimen.specimen_id}")).to_be_visible()
    phone = signed_in(new_page(viewport=PHONE), cast["technician"])
    phone.goto(tech.url)
    no_sideways_scroll(phone)
    shoot(phone, "specimen-collect-390.png")
    phone.close()
    collect = tech
    collect.locator("fieldset", has_text="Observed collection").get_by_text("No").click()
    collect.get_by_label("Temperature", exact=True).fill("96.4")
    collect.locator("fieldset", has_text="Volume adequate").get_by_text("Yes").click()
    collect.get_by_text("Single", exact=True).click()
    collect.get_by_label("Tamper-evident seal applied").check()
    collect.get_by_label("Seal initialed by the client").check()
    sign_on_the_pad(collect)
    assert collect.locator("input[name=client_signature]").input_value().startswith("M")
    no_sideways_scroll(collect)
    shoot(collect, "specimen-collect-768.png")
    collect.get_by_role("button", name="Record collection").click()
    expect(collect.get_by_text(f"Specimen {specimen.specimen_id} collected.")).to_be_visible()
    expect(collect.locator(".holder-now")).to_have_text(f"Held now by {TECH}")

    # A scan of the label opens it: the scanner types the ID and Enter.
    collect.goto(reverse("screening:specimens"))
    expect(collect.get_by_label("Scan a specimen")).to_be_focused()
    collect.keyboard.type(specimen.specimen_id.lower().replace("-", ""))
    collect.keyboard.press("Enter")
    expect(collect).to_have_url(
        re.compile(reverse("screening:specimen", args=[specimen.public_id]))
    )
    shoot_both(new_page, signed_in, cast["technician"], collect.url, "specimen-detail")
    collect.goto(reverse("screening:specimens"))
    # The scanner types into the focused field: wait for the page to focus it first.
    expect(collect.get_by_label("Scan a specimen")).to_be_focused()
    collect.keyboard.type("ZZZZ-ZZZZ\n")
    expect(
        collect.get_by_text("No specimen ZZZZ-ZZZZ here: check the label and scan again.")
    ).to_be_visible()

    # Custody: to the fridge, then a gap refused naming the holder, then courier and lab.
    custody = collect
    custody.goto(reverse("screening:specimen", args=[specimen.public_id]))
    custody.get_by_role("link", name="Hand over").click()
    expect(custody.locator("#id_released_by")).to_have_value(TECH)
    hand_over(custody, "To storage", TECH, FRIDGE, where="Med room, locked fridge")
    expect(custody.get_by_text(f"Hand-over #2 recorded: {FRIDGE}.")).to_be_visible()
    hand_over(custody, "To courier", TECH, COURIER)
    expect(
        custody.get_by_text(f"Released by must be {FRIDGE}, who holds the specimen now.")
    ).to_be_visible()
    assert CustodyEvent.objects.filter(specimen=specimen).count() == 2
    hand_over(custody, "To courier", FRIDGE, COURIER)
    expect(custody.get_by_text(f"Hand-over #3 recorded: {COURIER}.")).to_be_visible()
    hand_over(custody, "Received by the lab", COURIER, LAB)
    expect(custody.locator(".custody-step")).to_have_count(4)
    expect(custody.locator(".custody-step.broken")).to_have_count(0)
    no_sideways_scroll(custody)
    shoot(custody, "custody-timeline-768.png")
    phone = signed_in(new_page(viewport=PHONE), cast["technician"])
    phone.goto(custody.url)
    expect(phone.locator(".custody-step")).to_have_count(4)
    no_sideways_scroll(phone)
    shoot(phone, "custody-timeline-390.png")
    chain = CustodyEvent.objects.filter(specimen=specimen).order_by("seq")
    assert [e.purpose for e in chain] == ["collected", "to_storage", "to_courier", "lab_received"]

    # The nurse enters the lab's report; the specimen leaves "Awaiting lab result".
    nurse.goto(reverse("screening:awaiting_lab"))
    expect(nurse.get_by_role("link", name=specimen.specimen_id)).to_be_visible()
    shoot_both(new_page, signed_in, cast["nurse"], nurse.url, "awaiting-lab")
    shoot_both(
        new_page, signed_in, cast["nurse"],
        reverse("screening:lab_result", args=[specimen.public_id]), "lab-result",
    )  # fmt: skip
    shoot_both(new_page, signed_in, cast["technician"], reverse("screening:specimens"),
               "specimens")  # fmt: skip
    shoot_both(
        new_page, signed_in, cast["nurse"],
        reverse("screening:specimen_order", args=[specimen.admission.public_id]), "specimen-order",
    )  # fmt: skip
    nurse.goto(reverse("screening:lab_result", args=[specimen.public_id]))
    expect(nurse.get_by_label("Laboratory")).to_have_value(LAB)
    nurse.locator("#id_analyte_1").fill("THC")
    nurse.locator("#id_cutoff_1").fill("15")
    nurse.locator("#id_value_1").fill("48.2")
    nurse.get_by_role("radiogroup", name="Result, row 1").get_by_text("Positive").click()
    nurse.get_by_role("button", name="Record lab result").click()
    expect(
        nurse.get_by_text(f"Laboratory result recorded for {specimen.specimen_id}.")
    ).to_be_visible()
    expect(nurse.get_by_role("cell", name="48.20")).to_be_visible()
    result = LabResult.objects.get(specimen=specimen)
    assert (result.analyte, result.positive, result.lab_name) == ("THC", True, LAB)
    assert result.recorded_at <= timezone.now()
    nurse.goto(reverse("screening:awaiting_lab"))
    expect(nurse.get_by_text("No specimen is waiting for a laboratory result.")).to_be_visible()
