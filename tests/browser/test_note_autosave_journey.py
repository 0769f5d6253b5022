"""A technician writes a progress note on a tablet: the text saves itself as she types ("Saved
HH:MM"), a second tab that saves meanwhile makes the first one refuse on screen instead of
overwriting, and signing from the fresh tab works (issue 12 item 2)."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from observations.models import ProgressNote
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_note_autosaves_and_a_stale_tab_refuses_on_screen(new_page, signed_in, cast, facility):
    tech = cast["technician"]
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    first = signed_in(new_page(viewport=TABLET), tech)
    first.goto(reverse("clients:chart", args=[robin.client.public_id]))
    first.get_by_role("button", name="New progress note").click()
    expect(first.get_by_role("heading", name="Progress note")).to_be_visible()
    expect(first.locator("#save-status")).to_have_text("Not saved yet")
    first.get_by_label("Behavior").fill("Paced the hall after a phone call.")
    # Two seconds after the last key, the draft is saved and the page says when.
    expect(first.locator("#save-status")).to_contain_text("Saved", timeout=6_000)
    expect(first.locator("#id_version")).to_have_value("2")
    note = ProgressNote.objects.get()
    assert note.sections == {"behavior": "Paced the hall after a phone call."}
    assert note.version == 2
    no_sideways_scroll(first)

    # The same draft in a second tab: it saves, so the first tab is now behind.
    second = signed_in(new_page(viewport=TABLET), tech)
    second.goto(reverse("observations:note", args=[note.public_id]))
    second.get_by_label("Plan").fill("Check in after dinner.")
    expect(second.locator("#id_version")).to_have_value("3", timeout=6_000)

    first.get_by_label("Plan").fill("Overwrite from the old tab")
    refusal = first.locator("#save-status")
    expect(refusal).to_contain_text("Not saved.", timeout=6_000)
    expect(refusal).to_contain_text("saved from another tab or device")
    shoot(first, "progress-note-stale-768.png")
    note.refresh_from_db()
    assert note.sections["plan"] == "Check in after dinner."

    second.get_by_role("button", name="Sign note").click()
    expect(second.get_by_text("Note signed.")).to_be_visible()
    note.refresh_from_db()
    assert note.signed_at is not None and note.sections["plan"] == "Check in after dinner."
