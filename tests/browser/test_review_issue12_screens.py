"""Issue 12 screens as a reviewer tried them at 390 px: a note from the board never drops the
unsent round silently, long words never widen a page, group pages' names are 44 px targets."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from observations.services.cssrs import cssrs_screen_record
from observations.services.incidents import IncidentFields, incident_open
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_note_from_the_board_asks_before_leaving_an_unsent_round(
    new_page, signed_in, cast, facility
):
    """Ticking "Seen" on one client, then "Note" on another, asks before the unsent round is
    left; saying no keeps the board and its tap."""
    tech, nurse = cast["technician"], cast["nurse"]
    a = admit(facility, nurse, first="Ava", last="Alder", n=1)
    b = admit(facility, nurse, first="Ben", last="Birch", n=2, bed=None)
    assert a.unit_id == b.unit_id
    board = reverse("observations:board", args=[a.unit.public_id])
    page = signed_in(new_page(viewport=PHONE), tech)
    page.goto(board)
    ben = page.locator("[data-round-row]").filter(has_text="Ben")
    ben.locator("label.include").click()
    expect(ben.locator("[data-include]")).to_be_checked()
    ava = page.locator("[data-round-row]").filter(has_text="Ava")
    detail = ava.locator("details.round-detail")
    if not detail.evaluate("d => d.open"):
        detail.locator("summary").click()
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    detail.locator("a.note-link").click()
    assert asked and "1 client ticked and not sent" in asked[0]
    assert page.url.endswith(board)
    expect(ben.locator("[data-include]")).to_be_checked()


def test_cssrs_result_with_a_long_remark_does_not_scroll_sideways_at_390(
    new_page, signed_in, cast, facility
):
    """Finding 2a: cssrs_result.html prints the remark in a <p> with no overflow-wrap."""
    nurse = cast["nurse"]
    a = admit(facility, nurse, first="Cal", last="Cedar")
    screen = cssrs_screen_record(
        actor=nurse,
        admission=a,
        answers={"q1": False, "q2": False, "q6": False},
        reason="other",
        remark="https://example.org/" + "x" * 250,
    )
    page = signed_in(new_page(viewport=PHONE), nurse)
    page.goto(reverse("observations:cssrs_result", args=[screen.public_id]))
    assert no_sideways_scroll(page)


def test_incident_with_a_long_word_does_not_scroll_sideways_at_390(
    new_page, signed_in, cast, facility
):
    """Finding 2b: incident_detail.html has no overflow-wrap on the report's text."""
    tech = cast["technician"]
    inc = incident_open(
        actor=tech,
        facility=facility,
        fields=IncidentFields(
            incident_type="fall",
            occurred_at=timezone.now() - timedelta(minutes=5),
            location="Dayroom-" + "x" * 100,
            description="Slipped; " + "y" * 400,
        ),
    )
    page = signed_in(new_page(viewport=PHONE), tech)
    page.goto(reverse("observations:incident_detail", args=[inc.public_id]))
    assert no_sideways_scroll(page)


def test_group_screens_have_44px_tap_targets(new_page, signed_in, cast, facility):
    """Finding 3: the client-name links of the groups page's hours table are ~17 px tall."""
    nurse = cast["nurse"]
    admit(facility, nurse, first="Dee", last="Dogwood")
    page = signed_in(new_page(viewport=PHONE), nurse)
    page.goto(reverse("observations:groups"))
    links = page.locator("main a", has_text="Dee Dogwood")
    assert links.count()
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["height"] >= 44, box
