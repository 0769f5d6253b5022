"""A nurse scores a CIWA-Ar on a phone, one tap per item with the running total kept by the
page, then reads the withdrawal board on a tablet and a phone: no sideways scroll anywhere
(issue 11 item 5). HAVEN_SCREENSHOTS=1 keeps the scoring page's screenshot."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from observations.models import ScaleAssessment
from tests.browser.conftest import shoot
from tests.conftest import admit, make_user
from tests.observations.withdrawal_helpers import score, start, triggered_prn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
# Ten taps for a CIWA-Ar of 12: nausea 4, tremor 4, sweats 1, anxiety 1, 1, 1, 0, 0, 0, 0.
TAPS = [4, 4, 1, 1, 1, 1, 0, 0, 0, 0]


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_nurse_scores_on_a_phone_and_reads_the_board(new_page, signed_in, cast, facility):
    nurse = cast["nurse"]
    robin = admit(facility, nurse, first="Robin", last="Ashdown",
                  admitted_at=timezone.now() - timedelta(hours=8))  # fmt: skip
    sam = admit(facility, nurse, first="Sam", last="Cobbett", n=2,
                admitted_at=timezone.now() - timedelta(hours=8))  # fmt: skip
    start(nurse, robin, at=timezone.now() - timedelta(hours=6))
    score(nurse, robin, 5, at=timezone.now() - timedelta(hours=5))
    triggered_prn(nurse, make_user("nurse_two", "nurse", facility), robin)
    start(nurse, sam, "cows", at=timezone.now() - timedelta(minutes=30))

    phone = signed_in(new_page(viewport=PHONE), nurse)
    phone.goto(reverse("observations:withdrawal_score", args=[robin.public_id, "ciwa_ar"]))
    no_sideways_scroll(phone)
    items = phone.locator(".scale-item")
    expect(items).to_have_count(10)
    for n, value in enumerate(TAPS):
        items.nth(n).locator(f"input[value='{value}']").check()
    expect(phone.locator("[data-running-total]")).to_have_text("12")
    shoot(phone, "withdrawal-score-390.png")
    phone.get_by_role("button", name="Record CIWA-Ar").click()
    expect(phone.locator(".score-total")).to_have_text("12")
    expect(phone.locator(".prn-indicated")).to_contain_text("Chlordiazepoxide")
    assert ScaleAssessment.objects.filter(admission=robin, total=12).exists()
    no_sideways_scroll(phone)

    for viewport in (TABLET, PHONE):
        page = signed_in(new_page(viewport=viewport), nurse)
        page.goto(reverse("observations:withdrawal_board"))
        expect(page.locator(".wd-row")).to_have_count(2)
        expect(page.get_by_text("5 → 12")).to_be_visible()
        expect(page.get_by_text("First score overdue")).to_be_visible()
        no_sideways_scroll(page)  # the board's screenshots come from screenshots.py
