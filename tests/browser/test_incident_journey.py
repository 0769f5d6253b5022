"""An SIB charted on rounds opens a draft incident report; the technician completes it on a phone
and submits it; the supervisor reads it on a tablet and signs it off. No sideways scroll, every
control at least 44 px tall (issue 12 item 4). HAVEN_SCREENSHOTS=<dir> keeps the form and the
report at 768 and 390 px (docs/screens/incident-form-*, incident-detail-*)."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from observations.models import Incident, ProgressNote, RoundCode
from observations.services import RoundEntry, round_submit
from tests.browser.conftest import shoot
from tests.conftest import admit, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESCRIPTION = (
    "Client scratched the left forearm with a pen cap in the day room; stopped when asked."
)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def small_controls(page: Page) -> list[str]:
    """Visible buttons and chips shorter than 44 px."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main button, main .btn, main .chip span')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.textContent.trim())"""
    )


def test_a_technician_completes_an_sib_draft_and_the_supervisor_signs_it_off(
    new_page, signed_in, cast, facility
):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown",
                  admitted_at=timezone.now() - timedelta(hours=5))  # fmt: skip
    admit(facility, cast["nurse"], first="Sam", last="Cobbett", n=2)
    make_user("dana_reyes", "technician", facility)
    codes = RoundCode.objects.filter(facility=facility)
    round_submit(
        actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
        entries=[RoundEntry(robin, codes.get(code="DAY"), codes.get(code="SIB"),
                            remark="Scratching forearm with a pen cap")],
    )  # fmt: skip
    incident = Incident.objects.get()
    edit = reverse("observations:incident_edit", args=[incident.public_id])

    tablet = signed_in(new_page(viewport=TABLET), cast["technician"])
    tablet.goto(edit)
    expect(tablet.get_by_role("heading", name="Draft incident report")).to_be_visible()
    no_sideways_scroll(tablet)
    assert small_controls(tablet) == []
    shoot(tablet, "incident-form-768.png")

    phone: Page = signed_in(new_page(viewport=PHONE), cast["technician"])
    phone.goto(reverse("observations:incidents"))
    expect(phone.locator(".incident-row")).to_have_count(1)
    phone.locator(".incident-link").click()
    expect(phone.get_by_label("Where")).to_have_value("Day room")
    no_sideways_scroll(phone)
    shoot(phone, "incident-form-390.png")
    phone.locator("label.chip", has_text="Minor").click()
    phone.locator("label.chip", has_text="Dana Reyes").click()
    phone.locator("label.chip", has_text="Verbal de-escalation").click()
    phone.get_by_label("What happened (objective)").fill(DESCRIPTION)
    phone.get_by_role("button", name="Save and submit").click()
    expect(phone.get_by_text("Incident report submitted.")).to_be_visible()
    no_sideways_scroll(phone)
    incident.refresh_from_db()
    assert incident.status == "submitted"
    assert ProgressNote.objects.get(admission=robin).sections["narrative"].startswith("Incident ")

    for viewport, name in ((TABLET, "incident-detail-768.png"), (PHONE, "incident-detail-390.png")):
        page = signed_in(new_page(viewport=viewport), cast["supervisor"])
        page.goto(reverse("observations:incident_detail", args=[incident.public_id]))
        expect(page.get_by_text(DESCRIPTION)).to_be_visible()
        no_sideways_scroll(page)
        assert small_controls(page) == []
        shoot(page, name)
    page.get_by_label("Review and sign-off").fill("Reviewed with the team; care plan updated.")
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("Incident report signed off.")).to_be_visible()
    assert Incident.objects.get().status == "reviewed"
