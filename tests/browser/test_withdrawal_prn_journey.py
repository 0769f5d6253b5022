"""On a tablet, a nurse scores a CIWA-Ar of 12 and gives the chlordiazepoxide PRN it triggers from
the med pass, seeing "indicated" there first; the dose records the score (issue 11 items 5-6)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from medications.models import Administration
from observations.models import ScaleAssessment
from tests.conftest import admit, make_user
from tests.observations.withdrawal_helpers import start, triggered_prn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}
TWELVE = [4, 4, 1, 1, 1, 1, 0, 0, 0, 0]


def test_a_nurse_scores_ciwa_12_and_gives_the_indicated_prn_on_a_tablet(
    new_page, signed_in, cast, facility
):
    nurse = cast["nurse"]
    stay = admit(facility, nurse, first="Robin", last="Ashdown",
                 admitted_at=timezone.now() - timedelta(hours=8))  # fmt: skip
    start(nurse, stay, at=timezone.now() - timedelta(minutes=10))
    order = triggered_prn(nurse, make_user("nurse_two", "nurse", facility), stay)

    page = signed_in(new_page(viewport=TABLET), nurse)
    page.goto(reverse("observations:withdrawal_score", args=[stay.public_id, "ciwa_ar"]))
    items = page.locator(".scale-item")
    for n, value in enumerate(TWELVE):
        items.nth(n).locator(f"input[value='{value}']").check()
    expect(page.locator("[data-running-total]")).to_have_text("12")
    page.get_by_role("button", name="Record CIWA-Ar").click()
    expect(page.locator(".prn-indicated")).to_contain_text("Chlordiazepoxide 25 mg")

    # From the result to the med pass, by the indicated PRN's link.
    page.locator(".prn-indicated a").first.click()
    assessment = ScaleAssessment.objects.get(admission=stay)
    at = f"{timezone.localtime(assessment.assessed_at, facility.tz):%H:%M}"
    row = page.locator(f"#prn-{order.public_id}")
    expect(row.locator(".trigger-status")).to_have_text(f"indicated: CIWA-Ar 12 ≥ 10 at {at}")
    expect(row.get_by_label("Pre-dose assessment")).to_have_value(f"CIWA-Ar 12 at {at}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    row.get_by_role("button", name="Give PRN").click()
    expect(page.locator(".messages")).to_contain_text("PRN given")
    dose = Administration.objects.get(order=order)
    assert (dose.trigger_scale, dose.trigger_score) == ("ciwa_ar", 12)
    assert dose.trigger_assessment_id == assessment.public_id
