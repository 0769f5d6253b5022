"""A 1:1 hand-off and charting on "My 1:1" on a phone (390 px): the nurse offers the watch, the
incoming technician accepts it from their screen and charts a sleeping client, which needs a
fresh "breathing seen" tap (issue 10 item 2)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from facility.models import Alert
from observations.models import ObserverAssignment, RoundCheck
from observations.services import handoff_offer, level_order
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_technician_accepts_a_one_to_one_and_charts_it_on_a_phone(
    new_page, signed_in, cast, facility
):
    stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    level_order(actor=cast["nurse"], admission=stay, level="one_to_one", reason="Voiced intent")
    assert Alert.objects.open().filter(kind="no_observer").count() == 1
    handoff_offer(actor=cast["nurse"], admission=stay, to_observer=cast["technician"])

    page: Page = signed_in(new_page(viewport=PHONE), cast["technician"])
    page.goto(reverse("clients:census"))
    # On a phone the navigation sits behind the header's Menu button.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="My 1:1").click()
    expect(page.get_by_role("heading", name="Offered to you")).to_be_visible()
    page.get_by_role("button", name="Accept the watch of Robin Ashdown").click()
    expect(page.get_by_text("You now observe Robin Ashdown.")).to_be_visible()
    assert ObserverAssignment.objects.get(ended_at=None).observer == cast["technician"]
    assert not Alert.objects.open().filter(kind="no_observer").exists()

    page.locator("label.chip", has_text="Own room").click()
    page.locator("label.chip", has_text="Sleeping").click()
    seen = page.get_by_role("button", name="Seen now")
    box = seen.bounding_box()
    assert box["height"] >= 56 and box["width"] >= 300  # a large target on a phone
    seen.click()
    # The browser asks for "breathing seen" before posting: nothing is saved.
    assert RoundCheck.objects.count() == 0
    page.get_by_text("Breathing seen").click()
    seen.click()
    expect(page.get_by_text("Seen at")).to_be_visible()
    check = RoundCheck.objects.get()
    assert check.recorded_by == cast["technician"] and check.respirations_observed
    assert check.source == "observer"
    # Sleeping is never pre-filled: the next entry needs a fresh status and breathing tap.
    expect(page.locator('input[name="status"]:checked')).to_have_count(0)
    expect(page.locator('input[name="respirations_observed"]:checked')).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"My 1:1 scrolls sideways at 390 px ({width} px)"
    shoot(page, "my-observation-390.png")


def test_the_due_tag_turns_overdue_on_screen_without_a_reload(new_page, signed_in, cast, facility):
    """My 1:1 is left open on the observer's phone: when the entry's due time passes, the tag
    says "overdue" without anyone reloading the page (well before the 15-minute sign-out)."""
    stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        level_order(actor=cast["nurse"], admission=stay, level="one_to_one", reason="Voiced intent")
        handoff_offer(actor=cast["technician"], admission=stay, to_observer=cast["technician"])
    page: Page = signed_in(new_page(viewport=PHONE), cast["technician"])
    page.clock.install()  # the page's timers, at the real time, until moved on below
    page.goto(reverse("observations:my_observation"))
    tag = page.locator("[data-due-ms]")
    expect(tag).not_to_contain_text("overdue")  # due 15 minutes after the raise: in 5
    page.clock.fast_forward("06:00")
    expect(tag).to_contain_text("overdue")
    expect(page.locator("section.my-watch.is-overdue")).to_have_count(1)
