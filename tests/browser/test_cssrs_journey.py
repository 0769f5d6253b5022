"""A technician screens a client on the C-SSRS after a risk flag: questions 3-5 appear only after
a yes to 2 (static/js/cssrs.js), the 3-month follow-up only after a yes to 6; a high result,
and the nurse raises the client to 1:1 from the result page in one tap and records the safety
plan (issue 12 item 3). No sideways scroll at 768 or 390 px. HAVEN_SCREENSHOTS=<dir> keeps the
form (3-5 shown) and the high result with its raise: cssrs-<width>.png, cssrs-high-<width>.png."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from observations.models import CssrsScreen
from observations.services import current_levels
from observations.services.behavior_notes import behavior_note_record
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {768: {"width": 768, "height": 1024}, 390: {"width": 390, "height": 844}}


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def answer(page: Page, question: str, value: str) -> None:
    page.locator(f"#q-{question} label.answer-{value}").click()


@pytest.mark.parametrize("width", [768, 390])
def test_a_high_screen_after_a_risk_flag_ends_with_the_1_to_1_raise(
    new_page, signed_in, cast, facility, width
):
    tech, nurse = cast["technician"], cast["nurse"]
    robin = admit(facility, nurse, first="Robin", last="Ashdown",
                  admitted_at=timezone.now() - timedelta(days=2))  # fmt: skip
    behavior_note_record(
        actor=tech, admission=robin, observed_at=timezone.now(), risk_flags=["suicidal"],
        mood_words="Says everyone would be better off without them",
    )  # fmt: skip

    page = signed_in(new_page(viewport=WIDTHS[width]), tech)
    page.goto(reverse("observations:cssrs_screen", args=[robin.public_id]))
    expect(page.get_by_text("Owed: after a risk flag")).to_be_visible()
    follow_ups = page.locator('[data-follow="q2"]')
    expect(follow_ups).to_be_hidden()
    answer(page, "q1", "yes")
    answer(page, "q2", "no")
    expect(follow_ups).to_be_hidden()
    answer(page, "q2", "yes")
    expect(follow_ups).to_be_visible()
    expect(
        page.get_by_text("Active suicidal ideation with a specific plan and intent")
    ).to_be_visible()
    answer(page, "q3", "yes")
    answer(page, "q4", "yes")
    answer(page, "q5", "no")
    recent = page.locator('[data-follow="q6"]')
    answer(page, "q6", "no")
    expect(recent).to_be_hidden()
    answer(page, "q6", "yes")
    expect(recent).to_be_visible()
    answer(page, "q6_recent", "no")
    no_sideways_scroll(page)
    shoot(page, f"cssrs-{width}.png")
    page.get_by_role("button", name="Record the screen").click()
    expect(page.locator(".cssrs-triage")).to_contain_text("High risk")
    expect(page.get_by_text("Tell the nurse now:")).to_be_visible()
    screen = CssrsScreen.objects.get()
    assert screen.answers == {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False,
                              "q6": True, "q6_recent": False}  # fmt: skip

    page = signed_in(new_page(viewport=WIDTHS[width]), nurse)
    page.goto(reverse("observations:cssrs_result", args=[screen.public_id]))
    button = page.get_by_role("button", name="Raise to 1:1 now")
    expect(button).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"cssrs-high-{width}.png")
    button.click()
    expect(page.get_by_text("Observation level changed.")).to_be_visible()
    assert current_levels([robin], timezone.now())[robin.pk].level == "one_to_one"
    page.goto(reverse("observations:cssrs_result", args=[screen.public_id]))
    expect(page.get_by_role("button", name="Raise to 1:1 now")).to_have_count(0)
    page.get_by_role("button", name="Yes, started or reviewed").click()
    expect(page.get_by_text("Safety plan recorded as started or reviewed.")).to_be_visible()
    screen.refresh_from_db()
    assert screen.safety_plan is True
    page.goto(reverse("clients:chart", args=[robin.client.public_id]))
    section = page.locator("#section-cssrs")
    expect(section).to_contain_text("Last screen: High risk")
    expect(section).to_contain_text("safety plan: started or reviewed")
    expect(section).not_to_contain_text("C-SSRS due")
    no_sideways_scroll(page)
