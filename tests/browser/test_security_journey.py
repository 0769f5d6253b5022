"""A security round on a tablet (768 px) and a phone (390 px): every area starts unmarked, "All
areas OK" needs its "I walked every area" tick, and a finding between rounds is recorded from the
same page and listed under the rounds (issue 10 item 9)."""

import pytest
from playwright.sync_api import Page, expect

from facility.models import Alert
from observations.models import SecurityFinding, SecurityRound
from tests.browser.conftest import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}


def assert_large_targets(page: Page, width: int) -> None:
    """Every mark, tick and button is at least 44 px tall; nothing scrolls sideways."""
    for selector in (
        ".mark span",
        ".all-ok .check",
        ".security-form button",
        ".finding-form button",
    ):
        for box in page.locator(selector).evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)"
        ):
            assert box >= 44, f"{selector} is {box} px tall"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the security page scrolls sideways at {width} px ({scroll} px)"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_technician_walks_all_ok_then_records_a_finding(
    new_page, signed_in, cast, facility, screen
):
    viewport = SCREENS[screen]
    page: Page = signed_in(new_page(viewport=viewport), cast["technician"])
    page.goto("/security/")
    expect(page.locator('.security-form input[type="radio"]')).to_have_count(14)
    expect(page.locator(".security-form input:checked")).to_have_count(0)
    assert_large_targets(page, viewport["width"])
    shoot(page, f"security-{viewport['width']}.png")

    # The finding fields open with "Finding" and close again with "OK" while they are empty.
    doors = page.locator("fieldset", has_text="Exterior doors")
    expect(doors.get_by_label("What was found")).to_be_hidden()
    doors.locator("label.mark", has_text="Finding").click()
    expect(doors.get_by_label("What was found")).to_be_visible()
    doors.locator("label.mark", has_text="OK").click()
    expect(doors.get_by_label("What was found")).to_be_hidden()

    page.get_by_role("button", name="All areas OK").click()
    expect(page.locator(".all-ok .errorlist")).to_contain_text("tick “I walked every area” first")
    assert SecurityRound.objects.count() == 0

    page.get_by_text("I walked every area and found nothing to record").click()
    page.get_by_role("button", name="All areas OK").click()
    expect(page.get_by_text("Security round recorded: every area OK.")).to_be_visible()
    expect(page.locator(".history .tag", has_text="all OK in one tap")).to_be_visible()
    assert SecurityRound.objects.get().all_ok_declared

    page.get_by_label("Area").select_option(label="Exterior doors")
    page.get_by_label("What was found").fill("Fire door propped open with a chair")
    page.get_by_label("Where exactly").fill("East stairwell, ground floor")
    page.get_by_label("Action taken").fill("Closed it, removed the chair")
    page.get_by_role("button", name="Record finding").click()
    expect(page.get_by_text("Finding recorded; the supervisor is alerted.")).to_be_visible()
    expect(page.locator(".history li", has_text="Fire door propped open")).to_be_visible()
    assert SecurityFinding.objects.get().area.name == "Exterior doors"
    assert Alert.objects.get(kind="security_finding").link.startswith("/security/#finding-")
    assert_large_targets(page, viewport["width"])
    shoot(page, f"security-done-{viewport['width']}.png")


def test_security_page_has_no_blocking_accessibility_violations(new_page, signed_in, cast):
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser.test_accessibility import assert_no_blocking_violations

    page: Page = signed_in(new_page(), cast["technician"])
    page.goto("/security/")
    # A refused "all OK" shows its error in place: checked as the walker sees it.
    page.get_by_role("button", name="All areas OK").click()
    expect(page.locator(".all-ok .errorlist")).to_be_visible()
    assert_no_blocking_violations(Axe(), page)
